#include "runtime/windows/hcn_network.h"

#include "runtime/windows/win_util.h"

namespace zl::win {
namespace {

Error hcn_error(HRESULT hr, std::string_view what, PWSTR record) {
  Error e = hresult_error(hr, what);
  std::string detail = take_hcn_string(record);
  if (!detail.empty()) e.message += "; HCN says: " + detail;
  return e;
}

std::string name_query(std::string_view name) {
  nlohmann::json filter = {{"Name", name}};
  return nlohmann::json{
      {"SchemaVersion", {{"Major", 2}, {"Minor", 0}}}, {"Flags", 0}, {"Filter", filter.dump()}}
      .dump();
}

}  // namespace

Result<Guid> HcnNetwork::ensure_overlay() {
  std::lock_guard lock(mu_);
  if (overlay_) return *overlay_;
  ZL_TRY_ASSIGN(const HcnApi* api, hcn_api());
  PWSTR list = nullptr, record = nullptr;
  HRESULT hr = api->HcnEnumerateNetworks(widen(name_query(kOverlayNetworkName)).c_str(), &list, &record);
  if (FAILED(hr)) return tl::unexpected(hcn_error(hr, "list HCN networks", record));
  take_hcn_string(record);
  ZL_TRY_ASSIGN(auto ids, parse_id_list(take_hcn_string(list)));
  if (!ids.empty()) {
    ZL_TRY_ASSIGN(overlay_, parse_guid(ids.front()));
    return *overlay_;
  }
  Guid id = random_guid();
  GUID wid = to_win_guid(id);
  HCN_NETWORK network = nullptr;
  std::string doc = overlay_network_document(node_, adapter_).dump();
  hr = api->HcnCreateNetwork(wid, widen(doc).c_str(), &network, &record);
  if (FAILED(hr))
    return tl::unexpected(hcn_error(hr, "create HCN network zlayer-overlay on " + node_.slice.str(), record));
  take_hcn_string(record);
  api->HcnCloseNetwork(network);  // the network lives on until deleted
  overlay_ = id;
  return id;
}

Result<NetworkAttachment> HcnNetwork::attach(const std::string& container_id, uint32_t address,
                                             std::optional<uint32_t> dns_server,
                                             std::optional<std::string> dns_domain) {
  ZL_TRY_ASSIGN(Guid network_id, ensure_overlay());
  ZL_TRY_ASSIGN(const HcnApi* api, hcn_api());
  EndpointDocInput in{network_id, container_id, address, dns_server, std::move(dns_domain)};
  ZL_TRY_ASSIGN(auto endpoint_doc, endpoint_document(node_, in));

  GUID wnet = to_win_guid(network_id);
  HCN_NETWORK network = nullptr;
  PWSTR record = nullptr;
  HRESULT hr = api->HcnOpenNetwork(wnet, &network, &record);
  if (FAILED(hr)) return tl::unexpected(hcn_error(hr, "open HCN network zlayer-overlay", record));
  struct NetCloser {
    const HcnApi* api;
    HCN_NETWORK n;
    ~NetCloser() { api->HcnCloseNetwork(n); }
  } net_closer{api, network};

  NetworkAttachment att{random_guid(), random_guid(), net::format_ipv4(address)};
  GUID wep = to_win_guid(att.endpoint), wns = to_win_guid(att.namespace_id);
  HCN_ENDPOINT endpoint = nullptr;
  hr = api->HcnCreateEndpoint(network, wep, widen(endpoint_doc.dump()).c_str(), &endpoint, &record);
  if (FAILED(hr)) return tl::unexpected(hcn_error(hr, "create HCN endpoint for " + container_id, record));
  api->HcnCloseEndpoint(endpoint);
  bool ok = false;
  struct Undo {
    const HcnApi* api;
    GUID ep, ns;
    bool& ok;
    bool ns_made = false;
    ~Undo() {
      if (ok) return;
      PWSTR r = nullptr;
      if (ns_made) {
        api->HcnDeleteNamespace(ns, &r);
        take_hcn_string(r);
      }
      api->HcnDeleteEndpoint(ep, &r);
      take_hcn_string(r);
    }
  } undo{api, wep, wns, ok};

  HCN_NAMESPACE ns = nullptr;
  hr = api->HcnCreateNamespace(wns, widen(namespace_document().dump()).c_str(), &ns, &record);
  if (FAILED(hr)) return tl::unexpected(hcn_error(hr, "create HCN namespace for " + container_id, record));
  undo.ns_made = true;
  hr = api->HcnModifyNamespace(ns, widen(namespace_add_endpoint(att.endpoint).dump()).c_str(), &record);
  api->HcnCloseNamespace(ns);
  if (FAILED(hr))
    return tl::unexpected(hcn_error(hr, "add endpoint to namespace of " + container_id, record));
  ok = true;
  return att;
}

Status detach(const NetworkAttachment& attachment) {
  ZL_TRY_ASSIGN(const HcnApi* api, hcn_api());
  PWSTR record = nullptr;
  HRESULT hr = api->HcnDeleteNamespace(to_win_guid(attachment.namespace_id), &record);
  take_hcn_string(record);
  HRESULT hr2 = api->HcnDeleteEndpoint(to_win_guid(attachment.endpoint), &record);
  std::string detail = take_hcn_string(record);
  auto gone = [](HRESULT h) {
    return SUCCEEDED(h) || HRESULT_CODE(h) == ERROR_NOT_FOUND || HRESULT_CODE(h) == ERROR_FILE_NOT_FOUND;
  };
  if (!gone(hr))
    return tl::unexpected(hresult_error(hr, "delete HCN namespace " + attachment.namespace_id.str()));
  if (!gone(hr2))
    return tl::unexpected(hresult_error(hr2, "delete HCN endpoint " + attachment.endpoint.str()));
  return {};
}

Result<int> reap_orphan_endpoints(const std::set<std::string>& live) {
  ZL_TRY_ASSIGN(const HcnApi* api, hcn_api());
  PWSTR list = nullptr, record = nullptr;
  HRESULT hr = api->HcnEnumerateEndpoints(L"{}", &list, &record);
  if (FAILED(hr)) return tl::unexpected(hcn_error(hr, "list HCN endpoints", record));
  take_hcn_string(record);
  ZL_TRY_ASSIGN(auto ids, parse_id_list(take_hcn_string(list)));
  std::vector<EndpointSummary> endpoints;
  for (const auto& id : ids) {
    auto g = parse_guid(id);
    if (!g) continue;
    HCN_ENDPOINT ep = nullptr;
    if (FAILED(api->HcnOpenEndpoint(to_win_guid(*g), &ep, &record))) {
      take_hcn_string(record);
      continue;
    }
    PWSTR props = nullptr;
    hr = api->HcnQueryEndpointProperties(ep, L"{}", &props, &record);
    api->HcnCloseEndpoint(ep);
    take_hcn_string(record);
    if (FAILED(hr)) continue;
    if (auto e = parse_endpoint_properties(take_hcn_string(props))) {
      if (e->id.empty()) e->id = id;
      endpoints.push_back(*e);
    }
  }
  int reaped = 0;
  for (const auto& e : orphan_endpoints(endpoints, live)) {
    auto ep = parse_guid(e.id);
    if (!ep) continue;
    auto ns = parse_guid(e.namespace_id);
    NetworkAttachment att{*ep, ns ? *ns : Guid{}, {}};
    if (!ns) {
      api->HcnDeleteEndpoint(to_win_guid(*ep), &record);
      take_hcn_string(record);
      ++reaped;
    } else if (detach(att)) {
      ++reaped;
    }
  }
  return reaped;
}

}  // namespace zl::win
