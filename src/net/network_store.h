// zlayer's networks on disk: <root>/networks/<name>/ holds network.json (written atomically),
// dns.json (the names each container answers to, for the DNS server), the host-local IPAM
// dataDir ipam/, and a lock file held for any change to the network or its attachments.
// <root>/networks/lock serialises creating and removing networks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "net/ipv4.h"

namespace zl::net {

// The default network every container joins unless told otherwise (docker's "bridge").
inline constexpr const char* kDefaultNetwork = "zlayer";

struct NetworkRecord {
  std::string name;
  std::string id;  // 64 hex digits
  std::string driver = "bridge";
  Ipv4Net subnet;
  uint32_t gateway = 0;
  std::string bridge;  // the host's bridge device, e.g. "zl0"
  int64_t created_at = 0;  // unix nanoseconds
  bool is_default = false;
};

// name -> addresses; names lower case without a trailing dot.
using DnsRecords = std::map<std::string, std::vector<std::string>>;

// docker's rule for names ([a-zA-Z0-9][a-zA-Z0-9_.-]*, up to 64), minus the words that are modes.
Status validate_network_name(const std::string& name);

class NetworkStore {
 public:
  explicit NetworkStore(fs::path dir);  // <root>/networks

  const fs::path& dir() const { return dir_; }
  fs::path network_dir(const std::string& name) const { return dir_ / name; }
  fs::path ipam_dir(const std::string& name) const { return dir_ / name / "ipam"; }
  fs::path dns_file(const std::string& name) const { return dir_ / name / "dns.json"; }

  Status init() const;
  Result<NetworkRecord> load(const std::string& name) const;  // not_found: "no such network: X"
  Result<std::vector<NetworkRecord>> list() const;            // by name
  Status save(const NetworkRecord& rec) const;
  Status remove(const std::string& name) const;  // the whole directory

  // Locks: all networks (create/remove), or one (attach/detach, records).
  Result<FileLock> lock_all() const;
  Result<FileLock> lock(const std::string& name) const;

  // The records file, read (missing: empty) and written atomically. The caller holds lock(name).
  Result<DnsRecords> load_dns(const std::string& name) const;
  Status save_dns(const std::string& name, const DnsRecords& records) const;

 private:
  fs::path dir_;
};

// {"records": {...}} as in dns.json.
std::string dns_records_json(const DnsRecords& records);
// Adds `address` under each of `names` (lower-cased, trailing dot dropped; no duplicates).
void add_dns_names(DnsRecords& records, const std::vector<std::string>& names, const std::string& address);
// Drops `address` everywhere; names left without an address go.
void remove_dns_address(DnsRecords& records, const std::string& address);
// Takes `address` from these names only.
void remove_dns_names(DnsRecords& records, const std::vector<std::string>& names, const std::string& address);

}  // namespace zl::net
