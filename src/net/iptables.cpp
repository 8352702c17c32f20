#include "net/iptables.h"

#include <set>

#include "common/log.h"
#include "common/subprocess.h"

namespace zl::net {

namespace {

constexpr const char* kIsolationChain = "ZLAYER-ISOLATION";

std::string iso_chain(const std::string& bridge) {
  return std::string("ZLAYER-ISO-") + bridge;
}

Result<SubprocessResult> iptables(const std::string& table, std::vector<std::string> args) {
  std::vector<std::string> argv = {"iptables", "-w", "-t", table};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

// Runs an iptables command that must succeed.
Status must(const std::string& table, std::vector<std::string> args) {
  ZL_TRY_ASSIGN(auto r, iptables(table, args));
  if (!r.ok()) {
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    return internal("iptables -t {}{}: {}", table, cmd, r.describe());
  }
  return {};
}

bool exists(const std::string& table, std::vector<std::string> rule) {  // rule starts with the chain
  rule.insert(rule.begin(), "-C");
  auto r = iptables(table, rule);
  return r && r->ok();
}

bool chain_exists(const std::string& table, const std::string& chain) {
  auto r = iptables(table, {"-n", "-L", chain});
  return r && r->ok();
}

Status ensure_chain(const std::string& table, const std::string& chain) {
  if (chain_exists(table, chain)) return {};
  auto r = iptables(table, {"-N", chain});
  if (r && (r->ok() || chain_exists(table, chain))) return {};  // another process may have won
  return internal("iptables -t {} -N {}: {}", table, chain, r ? r->describe() : r.error().message);
}

Status ensure_rule(const std::string& table, std::vector<std::string> rule, bool first = false) {
  if (exists(table, rule)) return {};
  std::vector<std::string> args = rule;
  if (first) {
    args.insert(args.begin() + 1, "1");
    args.insert(args.begin(), "-I");
  } else {
    args.insert(args.begin(), "-A");
  }
  return must(table, args);
}

void delete_rule(const std::string& table, std::vector<std::string> rule) {
  while (exists(table, rule)) {
    std::vector<std::string> args = rule;
    args.insert(args.begin(), "-D");
    auto r = iptables(table, args);
    if (!r || !r->ok()) return;
  }
}

}  // namespace

std::vector<std::string> split_iptables_rule(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_quotes = false, have = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_quotes) {
      if (c == '\\' && i + 1 < line.size()) {
        cur += line[++i];
      } else if (c == '"') {
        in_quotes = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      in_quotes = have = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (have) out.push_back(std::move(cur));
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(std::move(cur));
  return out;
}

Status ensure_isolation(const std::string& bridge, const std::string& all_bridges,
                        const std::string& network) {
  const std::string t = "mangle";
  const std::string comment = "zlayer network " + network;
  ZL_TRY(ensure_chain(t, kIsolationChain));
  ZL_TRY(ensure_rule(
      t, {"FORWARD", "-m", "comment", "--comment", "zlayer network isolation", "-j", kIsolationChain},
      /*first=*/true));
  std::string chain = iso_chain(bridge);
  ZL_TRY(ensure_chain(t, chain));
  ZL_TRY(ensure_rule(t, {chain, "-o", bridge, "-m", "comment", "--comment", comment, "-j", "RETURN"}));
  ZL_TRY(ensure_rule(t, {chain, "-o", all_bridges, "-m", "comment", "--comment", comment, "-j", "DROP"}));
  return ensure_rule(t, {kIsolationChain, "-i", bridge, "-m", "comment", "--comment", comment, "-j", chain});
}

Status remove_isolation(const std::string& bridge, const std::string& network) {
  const std::string t = "mangle";
  const std::string comment = "zlayer network " + network;
  std::string chain = iso_chain(bridge);
  delete_rule(t, {kIsolationChain, "-i", bridge, "-m", "comment", "--comment", comment, "-j", chain});
  if (!chain_exists(t, chain)) return {};
  ZL_TRY(must(t, {"-F", chain}));
  return must(t, {"-X", chain});
}

namespace {

std::vector<std::vector<std::string>> egress_rules(const std::string& bridge, const std::string& subnet,
                                                   const std::string& network) {
  std::string comment = "zlayer network " + network;
  return {{"POSTROUTING", "-s", subnet, "!", "-o", bridge, "-m", "comment", "--comment", comment, "-j",
           "MASQUERADE"},
          {"FORWARD", "-i", bridge, "-m", "comment", "--comment", comment, "-j", "ACCEPT"},
          {"FORWARD", "-o", bridge, "-m", "comment", "--comment", comment, "-j", "ACCEPT"}};
}

}  // namespace

Status ensure_network_egress(const std::string& bridge, const std::string& subnet,
                             const std::string& network) {
  auto rules = egress_rules(bridge, subnet, network);
  ZL_TRY(ensure_rule("nat", rules[0]));
  ZL_TRY(ensure_rule("filter", rules[1], /*first=*/true));
  return ensure_rule("filter", rules[2], /*first=*/true);
}

Status remove_network_egress(const std::string& bridge, const std::string& subnet,
                             const std::string& network) {
  auto rules = egress_rules(bridge, subnet, network);
  delete_rule("nat", rules[0]);
  delete_rule("filter", rules[1]);
  delete_rule("filter", rules[2]);
  return {};
}

Status remove_tagged_rules(const std::string& tag) {
  static const std::set<std::string> shared = {"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ",
                                               "CNI-HOSTPORT-SETMARK", "CNI-FORWARD", "CNI-ADMIN"};
  for (std::string table : {"nat", "filter", "mangle"}) {
    ZL_TRY_ASSIGN(auto saved, run_process({"iptables-save", "-t", table}));
    if (!saved.ok()) return internal("iptables-save -t {}: {}", table, saved.describe());
    std::set<std::string> chains;
    size_t start = 0;
    while (start < saved.out.size()) {
      size_t nl = saved.out.find('\n', start);
      std::string_view line(saved.out.data() + start,
                            (nl == std::string::npos ? saved.out.size() : nl) - start);
      start = nl == std::string::npos ? saved.out.size() : nl + 1;
      if (!line.starts_with("-A ") || line.find(tag) == std::string_view::npos) continue;
      auto args = split_iptables_rule(line);
      for (size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == "-j" && args[i + 1].starts_with("CNI-") && !shared.count(args[i + 1]))
          chains.insert(args[i + 1]);
      args[0] = "-D";
      if (auto r = iptables(table, args); !r || !r->ok())
        spdlog::warn("could not delete iptables rule \"{}\": {}", line,
                     r ? r->describe() : r.error().message);
    }
    for (const auto& c : chains) {
      (void)iptables(table, {"-F", c});
      (void)iptables(table, {"-X", c});
    }
  }
  return {};
}

}  // namespace zl::net
