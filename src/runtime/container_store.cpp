#include "runtime/container_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/failpoint.h"
#include "common/ids.h"
#include "runtime/container_json.h"

namespace zl {

using json = nlohmann::json;

namespace {

bool is_hex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string new_container_id() {
  return random_hex_id();
}

Status validate_container_name(const std::string& name) {
  auto ok_first = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  auto ok_rest = [&](char c) { return ok_first(c) || c == '_' || c == '.' || c == '-'; };
  if (name.size() < 2 || !ok_first(name[0]) || !std::all_of(name.begin() + 1, name.end(), ok_rest) ||
      name.size() > 128)
    return invalid_argument("invalid container name \"{}\": only [a-zA-Z0-9][a-zA-Z0-9_.-]+ is allowed",
                            name);
  return {};
}

ContainerStore::ContainerStore(fs::path containers_dir) : dir_(std::move(containers_dir)) {}

Status ContainerStore::init() const {
  ZL_TRY(make_dirs(dir_, 0700));
  ZL_TRY(make_dirs(dir_ / "names", 0700));
  sweep();
  return {};
}

void ContainerStore::sweep() const {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {  // removals a crash interrupted
    if (e.path().filename().string().starts_with(".removing-")) (void)remove_tree(e.path());
  }
  // A name is reserved after its container's directory is made and released after it is gone:
  // a name without a directory is left by a crash in between.
  for (const auto& e : fs::directory_iterator(dir_ / "names", ec)) {
    std::error_code link_ec;
    std::string id = fs::read_symlink(e.path(), link_ec).string();
    if (link_ec || id.empty() || id.find('/') != std::string::npos || fs::exists(dir_ / id, link_ec)) continue;
    release_name(e.path().filename().string(), id);
  }
}

Status ContainerStore::discard(const std::string& id) const {
  fs::path trash = dir_ / (".removing-" + id);
  if (::rename((dir_ / id).c_str(), trash.c_str()) != 0)
    return errno_error(errno, fmt::format("remove container {}", id.substr(0, 12)));
  ZL_FAILPOINT("discard.after-rename");
  return remove_tree(trash);
}

Result<std::vector<std::string>> ContainerStore::ids() const {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return out;  // no container was ever created here
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() == 64 && is_hex(n) && fs::exists(e.path() / "container.json")) out.push_back(n);
  }
  if (ec) return io("list {}: {}", dir_.string(), ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ContainerStore::resolve(const std::string& ref) const {
  if (ref.empty()) return invalid_argument("empty container name or id");
  std::error_code ec;
  fs::path link = dir_ / "names" / ref;
  if (ref.find('/') == std::string::npos && fs::is_symlink(link, ec)) {
    std::string id = fs::read_symlink(link, ec).string();
    if (!ec && fs::exists(dir_ / id / "container.json")) return id;
  }
  // A full id is found without listing every container.
  if (ref.size() == 64 && is_hex(ref) && fs::exists(dir_ / ref / "container.json", ec)) return ref;
  if (is_hex(ref) && ref.size() >= 3) {
    ZL_TRY_ASSIGN(auto all, ids());
    std::vector<std::string> hits;
    for (const auto& id : all)
      if (id.starts_with(ref)) hits.push_back(id);
    if (hits.size() == 1) return hits[0];
    if (hits.size() > 1)
      return invalid_argument("container id prefix \"{}\" is ambiguous ({} matches)", ref, hits.size());
  }
  return not_found("no such container: {}", ref);
}

Result<ContainerRecord> ContainerStore::load(const std::string& id) const {
  auto text = read_file(dir_ / id / "container.json");
  if (!text && text.error().kind == ErrorKind::not_found)
    return not_found("no such container: {}", id.substr(0, 12));
  if (!text) return tl::unexpected(text.error());
  try {
    json j = json::parse(*text);
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.name = j.at("name").get<std::string>();
    r.image = j.at("image").get<std::string>();
    r.image_id = j.at("image_id").get<std::string>();
    ZL_TRY_ASSIGN(r.spec, container_spec_from_json(j.at("spec")));
    r.command = j.at("command").get<std::vector<std::string>>();
    r.created_at = j.at("created_at").get<int64_t>();
    r.cgroups_path = j.at("cgroups_path").get<std::string>();
    r.oci_runtime = j.at("oci_runtime").get<std::string>();
    for (const auto& p : j.at("lower_dirs")) r.lower_dirs.emplace_back(p.get<std::string>());
    return r;
  } catch (const json::exception& e) {
    return corrupt("container {}: container.json is damaged: {}", id, e.what());
  }
}

Status ContainerStore::save(const ContainerRecord& r) const {
  json lowers = json::array();
  for (const auto& p : r.lower_dirs) lowers.push_back(p.string());
  json j = {{"id", r.id},
            {"name", r.name},
            {"image", r.image},
            {"image_id", r.image_id},
            {"spec", to_json(r.spec)},
            {"command", r.command},
            {"created_at", r.created_at},
            {"cgroups_path", r.cgroups_path},
            {"oci_runtime", r.oci_runtime},
            {"lower_dirs", lowers}};
  return write_file_atomic(dir_ / r.id / "container.json", j.dump(2), 0600);
}

Result<ContainerRunState> ContainerStore::load_state(const std::string& id) const {
  auto text = read_file(dir_ / id / "state.json");
  if (!text && text.error().kind == ErrorKind::not_found) return ContainerRunState{};
  if (!text) return tl::unexpected(text.error());
  try {
    json j = json::parse(*text);
    ContainerRunState st;
    st.started_at = j.value("started_at", int64_t{0});
    st.finished_at = j.value("finished_at", int64_t{0});
    st.restart_count = j.value("restart_count", 0);
    if (auto e = j.find("exit"); e != j.end() && !e->is_null()) {
      ZL_TRY_ASSIGN(st.exit, exit_info_from_json(*e));
    }
    return st;
  } catch (const json::exception& e) {
    return corrupt("container {}: state.json is damaged: {}", id, e.what());
  }
}

Status ContainerStore::save_state(const std::string& id, const ContainerRunState& st) const {
  json j = {
      {"started_at", st.started_at}, {"finished_at", st.finished_at}, {"restart_count", st.restart_count}};
  j["exit"] = st.exit ? to_json(*st.exit) : json(nullptr);
  return write_file_atomic(dir_ / id / "state.json", j.dump(2), 0600);
}

std::optional<ContainerHealth> ContainerStore::load_health(const std::string& id) const {
  auto text = read_file(dir_ / id / "health.json");
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  auto h = container_health_from_json(j);
  return h ? std::optional<ContainerHealth>(std::move(*h)) : std::nullopt;
}

Status ContainerStore::save_health(const std::string& id, const ContainerHealth& h) const {
  return write_file_atomic(dir_ / id / "health.json", to_json(h).dump(), 0600, Sync::atomic);
}

Status ContainerStore::reserve_name(const std::string& name, const std::string& id) const {
  fs::path link = dir_ / "names" / name;
  if (::symlink(id.c_str(), link.c_str()) == 0) return {};
  if (errno != EEXIST) return errno_error(errno, "reserve container name " + name);
  std::error_code ec;
  std::string owner = fs::read_symlink(link, ec).string();
  if (!ec && (!fs::exists(dir_ / owner) || interrupted_create(owner) || renamed_away(owner, name))) {
    // Left by a create or rename that crashed (both lock before they reserve): take it over.
    fs::remove(link, ec);
    if (::symlink(id.c_str(), link.c_str()) == 0) return {};
  }
  return conflict("the container name \"{}\" is already in use by container {}", name, owner.substr(0, 12));
}

bool ContainerStore::renamed_away(const std::string& owner, const std::string& name) const {
  if (owner.empty() || owner.find('/') != std::string::npos) return false;
  UniqueFd fd(::open((dir_ / owner / "lock").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return false;  // a rename may be under way
  auto rec = load(owner);
  return rec && rec->name != name;
}

void ContainerStore::release_name(const std::string& name, const std::string& id) const {
  fs::path link = dir_ / "names" / name;
  std::error_code ec;
  if (fs::read_symlink(link, ec).string() == id) fs::remove(link, ec);
}

bool ContainerStore::interrupted_create(const std::string& id, int min_age_s) const {
  if (id.empty() || id.find('/') != std::string::npos) return false;
  fs::path dir = dir_ / id;
  std::error_code ec;
  if (fs::exists(dir / "container.json", ec)) return false;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || std::time(nullptr) - st.st_mtime < min_age_s) return false;
  UniqueFd fd(::open((dir / "lock").c_str(), O_RDONLY | O_CLOEXEC));
  // No lock file in a directory this old: its create died between making the directory and
  // locking it (a crash of the process while another thread was in that window).
  if (!fd) return errno == ENOENT;
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;  // released with the fd
}

Result<FileLock> ContainerStore::lock(const std::string& id) const {
  auto lock = FileLock::acquire(dir_ / id / "lock");
  // Another command may have removed the container while we waited for it.
  if ((!lock && lock.error().kind == ErrorKind::not_found) ||
      (lock && !fs::exists(dir_ / id / "container.json")))
    return not_found("no such container: {}", id.substr(0, 12));
  return lock;
}

}  // namespace zl
