// load: collects the blobs of an OCI layout / OCI archive / docker-save archive into the content
// store (verifying each against its digest), then registers the images it names.
// save: writes an OCI archive (oci-layout, index.json, blobs/) plus docker's manifest.json.
#include "image/archive_io.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <memory>
#include <set>

#include "common/log.h"
#include "image/reference.h"
#include "store/archive_stream.h"

namespace zl {

namespace {

using json = nlohmann::json;

constexpr size_t kChunk = 1 << 20;
constexpr int64_t kMaxDocSize = 16 << 20;  // index.json / manifest.json

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::string strip_dot_slash(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  return name;
}

// "blobs/sha256/<hex>" -> digest
std::optional<Digest> digest_from_blob_path(std::string_view name) {
  constexpr std::string_view prefix = "blobs/sha256/";
  if (!name.starts_with(prefix)) return std::nullopt;
  auto d = Digest::parse("sha256:" + std::string(name.substr(prefix.size())));
  return d ? std::optional<Digest>(*d) : std::nullopt;
}

// Where the blobs and documents of the input are.
class Source {
 public:
  virtual ~Source() = default;
  // Makes sure the blob is in the content store (verified).
  virtual Status ensure(const Digest& d) = 0;
  virtual std::optional<std::string> document(const std::string& name) const = 0;
  // The blob stored for a file path inside the input (docker's manifest.json refers to paths).
  virtual Result<Digest> blob_at(const std::string& path) = 0;
};

// An OCI layout directory: blobs are copied into the store as they are needed.
class DirSource : public Source {
 public:
  DirSource(ImageStore& store, fs::path dir) : store_(store), dir_(std::move(dir)) {}

  Status ensure(const Digest& d) override {
    if (store_.content().has(d)) return {};
    fs::path p = dir_ / "blobs" / "sha256" / std::string(d.hex());
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno_error(errno, fmt::format("open blob {}", p.string()));
    ZL_TRY_ASSIGN(auto writer, store_.content().writer(d));
    std::string buf(kChunk, '\0');
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error(errno, fmt::format("read {}", p.string()));
      if (n == 0) break;
      ZL_TRY(writer.write(std::string_view(buf.data(), static_cast<size_t>(n))));
    }
    return writer.commit();
  }

  std::optional<std::string> document(const std::string& name) const override {
    auto r = read_file(dir_ / name);
    return r ? std::optional<std::string>(*r) : std::nullopt;
  }

  Result<Digest> blob_at(const std::string& path) override {
    if (auto d = digest_from_blob_path(path)) {
      ZL_TRY(ensure(*d));
      return *d;
    }
    return invalid_argument("{} is not a blob path of the layout", path);
  }

 private:
  ImageStore& store_;
  fs::path dir_;
};

// A tar archive, read once from start to end: documents are kept in memory, every other regular
// file goes into the content store (verified against its name when the name is a digest).
class TarSource : public Source {
 public:
  static Result<std::unique_ptr<TarSource>> read(ImageStore& store, const fs::path& path) {
    auto src = std::unique_ptr<TarSource>(new TarSource(store));
    std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), path.c_str(), kChunk) != ARCHIVE_OK)
      return invalid_argument("{} is not a readable tar archive: {}", path.string(), archive_error_string(a.get()));
    ZL_TRY(src->read_all(a.get(), path.string()));
    return src;
  }

  static Result<std::unique_ptr<TarSource>> read(ImageStore& store, const ReadFn& in) {
    auto src = std::unique_ptr<TarSource>(new TarSource(store));
    ArchiveReader reader(in, kChunk);
    std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open(a.get(), &reader, nullptr, &ArchiveReader::read, nullptr) != ARCHIVE_OK)
      return invalid_argument("the input is not a readable tar archive: {}", archive_error_string(a.get()));
    ZL_TRY(src->read_all(a.get(), "the archive"));
    return src;
  }

  Status ensure(const Digest& d) override {
    if (store_.content().has(d)) return {};
    return not_found("the archive has no blob {}", d.str());
  }

  std::optional<std::string> document(const std::string& name) const override {
    auto it = docs_.find(name);
    return it == docs_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }

  Result<Digest> blob_at(const std::string& path) override {
    auto it = files_.find(strip_dot_slash(path));
    if (it == files_.end()) return not_found("the archive has no file {}", path);
    return it->second;
  }

 private:
  explicit TarSource(ImageStore& store) : store_(store) {}

  static bool is_document(const std::string& name) {
    return name == "index.json" || name == "manifest.json" || name == "oci-layout" || name == "repositories";
  }

  Status read_all(archive* a, const std::string& what) {
    archive_entry* entry = nullptr;
    for (;;) {
      int rc = archive_read_next_header(a, &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) return invalid_argument("{}: broken archive: {}", what, archive_error_string(a));
      if (archive_entry_filetype(entry) != AE_IFREG) continue;
      std::string name = strip_dot_slash(archive_entry_pathname(entry));
      ZL_TRY(read_entry(a, name, archive_entry_size(entry)).map_error([&](Error e) {
        return std::move(e).wrap(fmt::format("{}: {}", what, name));
      }));
    }
    return {};
  }

  Status read_entry(archive* a, const std::string& name, int64_t size) {
    if (is_document(name)) {
      if (size > kMaxDocSize) return invalid_argument("document is too large ({} bytes)", size);
      std::string doc(static_cast<size_t>(size), '\0');
      if (archive_read_data(a, doc.data(), doc.size()) != size) return archive_failure(a);
      docs_[name] = std::move(doc);
      return {};
    }
    std::optional<Digest> named = digest_from_blob_path(name);
    if (!named && name.size() == 69 && name.ends_with(".json")) {  // legacy docker "<hex>.json" config
      if (auto d = Digest::parse("sha256:" + name.substr(0, 64))) named = *d;
    }
    if (named) {
      files_.insert_or_assign(name, *named);
      if (store_.content().has(*named)) return {};
      ZL_TRY_ASSIGN(auto writer, store_.content().writer(*named, static_cast<uint64_t>(size)));
      ZL_TRY(copy_data(a, [&](std::string_view chunk) { return writer.write(chunk); }));
      return writer.commit();
    }
    // A file whose digest we learn only by reading it (legacy "<id>/layer.tar"): hash into a
    // temp file, then move it through a verified writer.
    ZL_TRY_ASSIGN(auto tmp, TempDir::create(store_.root() / "tmp", "load-"));
    fs::path tmp_file = tmp.path() / "blob";
    UniqueFd fd(::open(tmp_file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return errno_error(errno, "create " + tmp_file.string());
    Sha256 hash;
    ZL_TRY(copy_data(a, [&](std::string_view chunk) {
      hash.update(chunk);
      return write_all(fd.get(), chunk, tmp_file.string());
    }));
    Digest d = hash.finish();
    files_.insert_or_assign(name, d);
    if (store_.content().has(d)) return {};
    ZL_TRY_ASSIGN(auto writer, store_.content().writer(d, static_cast<uint64_t>(size)));
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return errno_error(errno, "seek " + tmp_file.string());
    std::string buf(kChunk, '\0');
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error(errno, "read " + tmp_file.string());
      if (n == 0) break;
      ZL_TRY(writer.write(std::string_view(buf.data(), static_cast<size_t>(n))));
    }
    return writer.commit();
  }

  template <class Sink>
  static Status copy_data(archive* a, Sink&& sink) {
    std::string buf(kChunk, '\0');
    for (;;) {
      la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
      if (n < 0) return archive_failure(a);
      if (n == 0) return {};
      ZL_TRY(sink(std::string_view(buf.data(), static_cast<size_t>(n))));
    }
  }

  static Status archive_failure(archive* a) {
    return invalid_argument("truncated or broken archive: {}", archive_error_string(a));
  }

  ImageStore& store_;
  std::map<std::string, std::string> docs_;
  std::map<std::string, Digest> files_;
};

// The first bytes of a layer blob tell its compression.
Result<std::string> layer_media_type(ImageStore& store, const Digest& d) {
  UniqueFd fd(::open(store.content().blob_path(d).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error(errno, "open layer " + d.str());
  unsigned char magic[4] = {};
  ssize_t n = ::read(fd.get(), magic, sizeof magic);
  if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return std::string(media::oci_layer_gzip);
  if (n >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return std::string(media::oci_layer_zstd);
  return std::string(media::oci_layer_tar);
}

ImageRecord make_record(std::string reference, const Digest& manifest, const Digest& config,
                        std::optional<Digest> index, const Platform& platform) {
  return ImageRecord{.reference = std::move(reference),
                     .manifest_digest = manifest,
                     .config_digest = config,
                     .index_digest = std::move(index),
                     .platform = platform.str(),
                     .created_unix = static_cast<int64_t>(std::time(nullptr))};
}

// The name of an index.json entry: containerd's full name, or the OCI ref name (a full reference
// or, as skopeo writes it, only a tag), or else the manifest digest under the default repository.
Result<std::string> entry_reference(const Descriptor& desc, const Digest& manifest, const std::string& repo) {
  auto ann = [&](const char* key) -> std::string {
    auto it = desc.annotations.find(key);
    return it != desc.annotations.end() && it->is_string() ? it->get<std::string>() : "";
  };
  std::string name = ann("io.containerd.image.name");
  if (name.empty()) {
    std::string ref = ann("org.opencontainers.image.ref.name");
    if (ref.find('/') != std::string::npos || ref.find(':') != std::string::npos) {
      name = ref;
    } else if (!ref.empty()) {
      name = repo + ":" + ref;
    } else {
      name = repo + "@" + manifest.str();
    }
  }
  ZL_TRY_ASSIGN(auto parsed, Reference::parse(name));
  return parsed.str();
}

Result<std::vector<ImageRecord>> records_from_oci_index(ImageStore& store, Source& src, const LoadOptions& opts,
                                                       const std::string& repo) {
  auto doc = src.document("index.json");
  if (!doc) return invalid_argument("neither index.json nor manifest.json found: not an OCI layout or docker archive");
  ZL_TRY_ASSIGN(auto index, parse_index(*doc, media::oci_index).map_error([](Error e) {
    return std::move(e).wrap("index.json");
  }));
  std::vector<ImageRecord> out;
  for (const Descriptor& entry : index.manifests) {
    Descriptor desc = entry;
    std::optional<Digest> index_digest;
    if (is_index_media_type(desc.media_type)) {
      ZL_TRY(src.ensure(desc.digest));
      ZL_TRY_ASSIGN(auto body, store.content().read(desc.digest));
      ZL_TRY_ASSIGN(auto nested, parse_index(body, desc.media_type));
      index_digest = desc.digest;
      ZL_TRY_ASSIGN(desc, select_platform(nested, opts.platform));
    }
    ZL_TRY(src.ensure(desc.digest));
    ZL_TRY_ASSIGN(auto body, store.content().read(desc.digest));
    ZL_TRY_ASSIGN(auto manifest, parse_manifest(body, desc.media_type));
    ZL_TRY(src.ensure(manifest.config.digest));
    for (const auto& layer : manifest.layers) ZL_TRY(src.ensure(layer.digest));
    ZL_TRY_ASSIGN(auto reference, entry_reference(entry, desc.digest, repo));
    Platform platform = desc.platform.value_or(opts.platform);
    out.push_back(make_record(reference, desc.digest, manifest.config.digest, index_digest, platform));
  }
  if (out.empty()) return invalid_argument("index.json lists no images");
  return out;
}

Result<std::vector<ImageRecord>> records_from_docker_manifest(ImageStore& store, Source& src, const std::string& doc,
                                                             const std::string& repo) {
  json entries;
  try {
    entries = json::parse(doc);
  } catch (const json::exception& e) {
    return invalid_argument("manifest.json is not valid JSON: {}", e.what());
  }
  if (!entries.is_array() || entries.empty()) return invalid_argument("manifest.json must be a non-empty array");
  std::vector<ImageRecord> out;
  for (const json& e : entries) {
    if (!e.is_object() || !e.contains("Config") || !e["Config"].is_string() || !e.contains("Layers") ||
        !e["Layers"].is_array())
      return invalid_argument("manifest.json: each entry needs \"Config\" (string) and \"Layers\" (array)");
    ZL_TRY_ASSIGN(Digest config, src.blob_at(e["Config"].get<std::string>()));
    ZL_TRY_ASSIGN(uint64_t config_size, store.content().size(config));
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", media::oci_manifest},
                     {"config", {{"mediaType", media::oci_config}, {"digest", config.str()}, {"size", config_size}}},
                     {"layers", json::array()}};
    for (const json& l : e["Layers"]) {
      if (!l.is_string()) return invalid_argument("manifest.json: \"Layers\" entries must be strings");
      ZL_TRY_ASSIGN(Digest layer, src.blob_at(l.get<std::string>()));
      ZL_TRY_ASSIGN(uint64_t size, store.content().size(layer));
      ZL_TRY_ASSIGN(std::string mt, layer_media_type(store, layer));
      manifest["layers"].push_back({{"mediaType", mt}, {"digest", layer.str()}, {"size", size}});
    }
    ZL_TRY_ASSIGN(Digest manifest_digest, store.content().put(manifest.dump()));
    std::vector<std::string> names;
    if (auto tags = e.find("RepoTags"); tags != e.end() && tags->is_array()) {
      for (const json& t : *tags) {
        if (!t.is_string()) continue;
        ZL_TRY_ASSIGN(auto ref, Reference::parse(t.get<std::string>()));
        names.push_back(ref.str());
      }
    }
    if (names.empty()) {
      ZL_TRY_ASSIGN(auto ref, Reference::parse(repo + "@" + manifest_digest.str()));
      names.push_back(ref.str());
    }
    for (const auto& name : names)
      out.push_back(make_record(name, manifest_digest, config, std::nullopt, Platform::host()));
  }
  return out;
}

std::string default_repository(const fs::path& input, const LoadOptions& opts) {
  if (!opts.default_repository.empty()) return opts.default_repository;
  std::string stem = input.filename().empty() ? input.parent_path().filename().string() : input.stem().string();
  std::string repo;
  for (char c : stem) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok) repo.push_back(l);
    else if (!repo.empty() && repo.back() != '-') repo.push_back('-');
  }
  while (!repo.empty() && repo.back() == '-') repo.pop_back();
  return "localhost/" + (repo.empty() ? std::string("image") : repo);
}

// Registers the images the input's manifest.json (docker) or else index.json (OCI) names.
Result<std::vector<std::string>> load_from(ImageStore& store, Source& src, const LoadOptions& opts,
                                           const std::string& repo) {
  auto docker = src.document("manifest.json");
  ZL_TRY_ASSIGN(auto records, docker ? records_from_docker_manifest(store, src, *docker, repo)
                                     : records_from_oci_index(store, src, opts, repo));
  std::vector<std::string> loaded;
  for (const auto& rec : records) {
    ZL_TRY(store.commit_image(rec));
    loaded.push_back(rec.reference);
  }
  return loaded;
}

}  // namespace

Result<std::vector<std::string>> load_images(ImageStore& store, const fs::path& input, const LoadOptions& opts) {
  auto fail = [&](Error e) { return std::move(e).wrap(fmt::format("load {}", input.string())); };
  std::error_code ec;
  if (!fs::exists(input, ec)) return tl::unexpected(fail(Error{ErrorKind::not_found, "no such file or directory"}));
  std::unique_ptr<Source> src;
  if (fs::is_directory(input, ec)) {
    if (!fs::exists(input / "oci-layout", ec))
      return tl::unexpected(fail(Error{ErrorKind::invalid_argument, "directory has no oci-layout file"}));
    src = std::make_unique<DirSource>(store, input);
  } else {
    auto tar = TarSource::read(store, input);
    if (!tar) return tl::unexpected(fail(tar.error()));
    src = std::move(*tar);
  }
  auto loaded = load_from(store, *src, opts, default_repository(input, opts));
  if (!loaded) return tl::unexpected(fail(loaded.error()));
  return loaded;
}

Result<std::vector<std::string>> load_images(ImageStore& store, const ReadFn& in, const LoadOptions& opts) {
  ZL_TRY_ASSIGN(auto src, TarSource::read(store, in));
  return load_from(store, *src, opts, opts.default_repository.empty() ? "localhost/image" : opts.default_repository);
}

namespace {

Status add_entry(archive* a, const std::string& name, int64_t size) {
  std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), size);
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) return io("write tar header {}: {}", name, archive_error_string(a));
  return {};
}

Status add_document(archive* a, const std::string& name, const std::string& data) {
  ZL_TRY(add_entry(a, name, static_cast<int64_t>(data.size())));
  if (archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
    return io("write {}: {}", name, archive_error_string(a));
  return {};
}

Status add_blob(archive* a, ImageStore& store, const Digest& d) {
  fs::path p = store.content().blob_path(d);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error(errno, "open blob " + d.str());
  ZL_TRY_ASSIGN(uint64_t size, store.content().size(d));
  std::string name = "blobs/sha256/" + std::string(d.hex());
  ZL_TRY(add_entry(a, name, static_cast<int64_t>(size)));
  std::string buf(kChunk, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, "read blob " + d.str());
    if (n == 0) break;
    if (archive_write_data(a, buf.data(), static_cast<size_t>(n)) != n)
      return io("write {}: {}", name, archive_error_string(a));
  }
  return {};
}

}  // namespace

Status write_images(ImageStore& store, const std::vector<std::string>& names, const WriteFn& out) {
  if (names.empty()) return invalid_argument("no image named");
  json index = {{"schemaVersion", 2}, {"mediaType", media::oci_index}, {"manifests", json::array()}};
  json docker_manifest = json::array();
  std::vector<Digest> blobs;
  std::set<Digest> seen;
  auto want = [&](const Digest& d) {
    if (seen.insert(d).second) blobs.push_back(d);
  };
  for (const auto& name : names) {
    ZL_TRY_ASSIGN(auto details, store.inspect(name));
    const ImageRecord& rec = details.record;
    auto ref = Reference::parse(rec.reference);
    ZL_TRY_ASSIGN(uint64_t manifest_size, store.content().size(rec.manifest_digest));
    json annotations = {{"io.containerd.image.name", rec.reference}};
    json repo_tags = json::array();
    if (ref && !ref->tag.empty() && !ref->digest) {
      annotations["org.opencontainers.image.ref.name"] = ref->tag;
      repo_tags.push_back(ref->familiar());
    }
    index["manifests"].push_back({{"mediaType", details.manifest.value("mediaType", std::string(media::oci_manifest))},
                                  {"digest", rec.manifest_digest.str()},
                                  {"size", manifest_size},
                                  {"annotations", annotations}});
    json layers = json::array();
    for (const auto& l : details.layer_blobs) layers.push_back("blobs/sha256/" + std::string(l.hex()));
    docker_manifest.push_back({{"Config", "blobs/sha256/" + std::string(rec.config_digest.hex())},
                               {"RepoTags", repo_tags},
                               {"Layers", layers}});
    want(rec.manifest_digest);
    want(rec.config_digest);
    for (const auto& l : details.layer_blobs) want(l);
  }

  ArchiveWriter writer(out);
  std::unique_ptr<archive, ArchiveWriteDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  auto write_tar = [&]() -> Status {
    if (archive_write_open(a.get(), &writer, nullptr, &ArchiveWriter::write, nullptr) != ARCHIVE_OK)
      return io("open tar writer: {}", archive_error_string(a.get()));
    ZL_TRY(add_document(a.get(), "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    ZL_TRY(add_document(a.get(), "index.json", index.dump()));
    ZL_TRY(add_document(a.get(), "manifest.json", docker_manifest.dump()));
    for (const auto& d : blobs) ZL_TRY(add_blob(a.get(), store, d));
    if (archive_write_close(a.get()) != ARCHIVE_OK) return io("finish tar: {}", archive_error_string(a.get()));
    return {};
  };
  auto st = write_tar();
  if (!st && writer.error()) return tl::unexpected(*writer.error());  // the output's own error says more
  return st;
}

Status save_images(ImageStore& store, const std::vector<std::string>& names, const fs::path& output) {
  auto fail = [&](Error e) { return tl::unexpected(std::move(e).wrap(fmt::format("save {}", output.string()))); };
  auto file = AtomicFile::create(output, 0644);
  if (!file) return fail(file.error());
  int fd = file->fd();
  auto written = write_images(store, names, [fd, &output](std::string_view data) {
    return write_all(fd, data, output.string());
  });
  if (!written) return fail(written.error());
  if (auto st = file->commit(); !st) return fail(st.error());
  return {};
}

}  // namespace zl
