// Downloads an image's layer blobs in parallel (bounded threads) into staged BlobWriters that
// are committed together only after every download verified.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "image/manifest.h"
#include "image/registry_client.h"
#include "store/content_store.h"

namespace zl {

// One progress event for one blob of the image being pulled.
struct BlobProgress {
  enum class State {
    waiting,         // listed, not started (one event per blob when the manifest is known)
    already_exists,  // in the content store already, not downloaded
    downloading,     // `done` of `total` bytes received (throttled)
    verified,        // fully downloaded and digest checked (committed when the pull commits)
  };
  Digest digest;
  bool is_config = false;
  State state = State::waiting;
  uint64_t done = 0;
  uint64_t total = 0;
};
// Calls are serialized (never concurrent) but may come from download threads.
using PullProgressFn = std::function<void(const BlobProgress&)>;

// Verified, not yet committed blobs; destroying them discards the downloads.
class StagedBlobs {
 public:
  // Renames every staged blob into the store, appending each to `added` once it is in place.
  Status commit_all(std::vector<Digest>& added);
  void add(BlobWriter w, Digest d) {
    writers_.push_back(std::move(w));
    digests_.push_back(std::move(d));
  }

 private:
  std::vector<BlobWriter> writers_;
  std::vector<Digest> digests_;
};

class BlobFetcher {
 public:
  BlobFetcher(RegistryClient& client, ContentStore& content, int parallel, PullProgressFn progress)
      : client_(client), content_(content), parallel_(parallel), progress_(std::move(progress)) {}

  // Downloads each blob not yet in the content store. The first failure stops the others
  // and is returned; nothing is committed either way.
  Result<StagedBlobs> fetch(const std::string& repository, const std::vector<Descriptor>& blobs);

 private:
  RegistryClient& client_;
  ContentStore& content_;
  int parallel_;
  PullProgressFn progress_;
};

}  // namespace zl
