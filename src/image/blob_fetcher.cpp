// Bounded parallel download of layer blobs into staged writers, with serialized, throttled
// progress events and cancellation of the remaining downloads after the first failure.
#include "image/blob_fetcher.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace zl {

namespace {

constexpr uint64_t progress_step = 512 * 1024;  // bytes between two `downloading` events

// Shared state of one fetch() run.
struct FetchRun {
  const PullProgressFn& progress;
  std::mutex progress_mu;
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::optional<Error> first_error;

  void report(const Descriptor& d, BlobProgress::State state, uint64_t done) {
    if (!progress) return;
    std::lock_guard lock(progress_mu);
    progress(BlobProgress{d.digest, false, state, done, static_cast<uint64_t>(d.size)});
  }
  void fail(Error e) {
    std::lock_guard lock(error_mu);
    if (!first_error) first_error = std::move(e);
    failed = true;
  }
};

}  // namespace

Status StagedBlobs::commit_all(std::vector<Digest>& added) {
  for (size_t i = 0; i < writers_.size(); ++i) {
    ZL_TRY(writers_[i].commit());
    added.push_back(digests_[i]);
  }
  return {};
}

Result<StagedBlobs> BlobFetcher::fetch(const std::string& repository, const std::vector<Descriptor>& blobs) {
  FetchRun run{progress_};
  std::vector<const Descriptor*> todo;
  for (const auto& d : blobs) {
    bool present = content_.has(d.digest);
    run.report(d, present ? BlobProgress::State::already_exists : BlobProgress::State::waiting,
               present ? static_cast<uint64_t>(d.size) : 0);
    if (!present) todo.push_back(&d);
  }

  std::vector<std::optional<BlobWriter>> staged(todo.size());
  std::atomic<size_t> next{0};
  auto download = [&](size_t i) -> Status {
    const Descriptor& d = *todo[i];
    ZL_TRY_ASSIGN(staged[i], content_.writer(d.digest, static_cast<uint64_t>(d.size)));
    uint64_t last = 0;
    auto on_progress = [&](uint64_t done) -> Status {
      if (run.failed) return internal("download of {} cancelled", d.digest.str());
      if (done - last >= progress_step || done == static_cast<uint64_t>(d.size)) {
        last = done;
        run.report(d, BlobProgress::State::downloading, done);
      }
      return {};
    };
    ZL_TRY(client_.fetch_blob(repository, d, *staged[i], on_progress));
    run.report(d, BlobProgress::State::verified, static_cast<uint64_t>(d.size));
    return {};
  };
  auto worker = [&] {
    for (size_t i = next++; i < todo.size() && !run.failed; i = next++) {
      if (auto st = download(i); !st) run.fail(std::move(st).error());
    }
  };
  {
    std::vector<std::jthread> threads;
    size_t n = std::min<size_t>(static_cast<size_t>(std::max(parallel_, 1)), todo.size());
    for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  }
  if (run.first_error) return tl::unexpected(std::move(*run.first_error));

  StagedBlobs out;
  for (size_t i = 0; i < todo.size(); ++i) out.add(std::move(*staged[i]), todo[i]->digest);
  return out;
}

}  // namespace zl
