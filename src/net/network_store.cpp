#include "net/network_store.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace zl::net {

using json = nlohmann::json;

Status validate_network_name(const std::string& name) {
  auto ok_first = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  auto ok_rest = [&](char c) { return ok_first(c) || c == '_' || c == '.' || c == '-'; };
  if (name.empty() || name.size() > 64 || !ok_first(name[0]) || !std::all_of(name.begin() + 1, name.end(), ok_rest))
    return invalid_argument("invalid network name \"{}\": only [a-zA-Z0-9][a-zA-Z0-9_.-]* (up to 64) is allowed",
                            name);
  if (name == "bridge" || name == "host" || name == "none" || name == "default" || name == "lock")
    return invalid_argument("\"{}\" is a network mode, not a name a network can have", name);
  return {};
}

NetworkStore::NetworkStore(fs::path dir) : dir_(std::move(dir)) {}

Status NetworkStore::init() const { return make_dirs(dir_, 0700); }

Result<NetworkRecord> NetworkStore::load(const std::string& name) const {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
    return not_found("no such network: {}", name);
  auto text = read_file(dir_ / name / "network.json");
  if (!text && text.error().kind == ErrorKind::not_found) return not_found("no such network: {}", name);
  if (!text) return tl::unexpected(text.error());
  try {
    json j = json::parse(*text);
    NetworkRecord r;
    r.name = j.at("name").get<std::string>();
    r.id = j.at("id").get<std::string>();
    r.driver = j.value("driver", "bridge");
    ZL_TRY_ASSIGN(r.subnet, Ipv4Net::parse(j.at("subnet").get<std::string>()));
    ZL_TRY_ASSIGN(r.gateway, parse_ipv4(j.at("gateway").get<std::string>()));
    r.bridge = j.at("bridge").get<std::string>();
    r.created_at = j.value("created_at", int64_t{0});
    r.is_default = j.value("default", false);
    return r;
  } catch (const json::exception& e) {
    return corrupt("network {}: network.json is damaged: {}", name, e.what());
  }
}

Result<std::vector<NetworkRecord>> NetworkStore::list() const {
  std::vector<NetworkRecord> out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (!e.is_directory() || !fs::exists(e.path() / "network.json")) continue;
    auto r = load(e.path().filename().string());
    if (!r && r.error().kind == ErrorKind::not_found) continue;  // removed meanwhile
    ZL_TRY(r);
    out.push_back(std::move(*r));
  }
  if (ec) return io("list networks in {}: {}", dir_.string(), ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Status NetworkStore::save(const NetworkRecord& r) const {
  ZL_TRY(make_dirs(dir_ / r.name, 0700));
  json j = {{"name", r.name},
            {"id", r.id},
            {"driver", r.driver},
            {"subnet", r.subnet.str()},
            {"gateway", format_ipv4(r.gateway)},
            {"bridge", r.bridge},
            {"created_at", r.created_at},
            {"default", r.is_default}};
  return write_file_atomic(dir_ / r.name / "network.json", j.dump(2) + "\n", 0600);
}

Status NetworkStore::remove(const std::string& name) const {
  fs::path trash = dir_ / (".removing-" + name);
  if (::rename((dir_ / name).c_str(), trash.c_str()) != 0) return errno_error(errno, "remove network " + name);
  return remove_tree(trash);
}

Result<FileLock> NetworkStore::lock_all() const {
  ZL_TRY(init());
  return FileLock::acquire(dir_ / "lock");
}

Result<FileLock> NetworkStore::lock(const std::string& name) const {
  auto l = FileLock::acquire(dir_ / name / "lock");
  if (!l && l.error().kind == ErrorKind::not_found) return not_found("no such network: {}", name);
  if (l && !fs::exists(dir_ / name / "network.json")) return not_found("no such network: {}", name);
  return l;
}

Result<DnsRecords> NetworkStore::load_dns(const std::string& name) const {
  auto text = read_file(dns_file(name));
  if (!text && text.error().kind == ErrorKind::not_found) return DnsRecords{};
  if (!text) return tl::unexpected(text.error());
  try {
    json j = json::parse(*text);
    return j.value("records", json::object()).get<DnsRecords>();
  } catch (const json::exception& e) {
    return corrupt("network {}: dns.json is damaged: {}", name, e.what());
  }
}

Status NetworkStore::save_dns(const std::string& name, const DnsRecords& records) const {
  return write_file_atomic(dns_file(name), dns_records_json(records), 0644);
}

std::string dns_records_json(const DnsRecords& records) {
  json j = {{"records", json::object()}};
  for (const auto& [name, addrs] : records) j["records"][name] = addrs;
  return j.dump(2) + "\n";
}

namespace {

// Names are kept lower case, without a trailing dot.
std::string record_name(std::string n) {
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!n.empty() && n.back() == '.') n.pop_back();
  return n;
}

}  // namespace

void add_dns_names(DnsRecords& records, const std::vector<std::string>& names, const std::string& address) {
  for (const auto& name : names) {
    std::string n = record_name(name);
    if (n.empty()) continue;
    auto& addrs = records[n];
    if (std::find(addrs.begin(), addrs.end(), address) == addrs.end()) addrs.push_back(address);
  }
}

void remove_dns_names(DnsRecords& records, const std::vector<std::string>& names, const std::string& address) {
  for (const auto& name : names) {
    auto it = records.find(record_name(name));
    if (it == records.end()) continue;
    std::erase(it->second, address);
    if (it->second.empty()) records.erase(it);
  }
}

void remove_dns_address(DnsRecords& records, const std::string& address) {
  for (auto it = records.begin(); it != records.end();) {
    std::erase(it->second, address);
    it = it->second.empty() ? records.erase(it) : std::next(it);
  }
}

}  // namespace zl::net
