// libcurl easy handles wrapped in RAII, pooled per client; headers are collected per response
// so that after a redirect only the final response's headers remain. libcurl is loaded on the
// first request (common/curl_lib.h).
#include "common/http_client.h"

#include <strings.h>

#include "common/curl_lib.h"

#include <mutex>

namespace zl {

namespace {

struct SlistDeleter {
  const CurlLib* api;
  void operator()(curl_slist* l) const { api->slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// What the curl callbacks write into during one transfer.
struct Transfer {
  const CurlLib* api = nullptr;
  CURL* curl = nullptr;
  const HttpRequest* req = nullptr;
  HttpResponse* resp = nullptr;
  std::optional<Error> sink_error;  // set when body_sink failed: the transfer was aborted

  long current_status() const {
    long code = 0;
    api->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    t->resp->headers.clear();  // a new response (after a redirect or 100-continue)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  t->resp->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return size * n;
}

// Bodies of redirects and errors are buffered; a 2xx body goes to the sink when there is one.
size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * n);
  bool streaming = t->req->body_sink != nullptr;
  long status = streaming ? t->current_status() : 0;
  if (streaming && status >= 200 && status < 300) {
    if (auto st = t->req->body_sink(chunk); !st) {
      t->sink_error = st.error();
      return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    return chunk.size();
  }
  if (t->resp->body.size() < (1u << 20) || !streaming) t->resp->body.append(chunk);
  return chunk.size();
}

}  // namespace

struct HttpClient::Handle {
  struct Deleter {
    const CurlLib* api;
    void operator()(CURL* c) const { api->easy_cleanup(c); }
  };
  explicit Handle(const CurlLib* api) : curl(api->easy_init(), Deleter{api}) {}
  std::unique_ptr<CURL, Deleter> curl;
};

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first.size() == name.size() && ::strncasecmp(it->first.data(), name.data(), name.size()) == 0)
      return it->second;
  }
  return std::nullopt;
}

HttpClient::HttpClient(std::string user_agent) : user_agent_(std::move(user_agent)) {}
HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::acquire(const CurlLib* api) {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      api->easy_reset(h->curl.get());
      return h;
    }
  }
  return std::make_unique<Handle>(api);
}

void HttpClient::release(std::unique_ptr<Handle> h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 8) idle_.push_back(std::move(h));
}

Result<HttpResponse> HttpClient::perform(const HttpRequest& req) {
  ZL_TRY_ASSIGN(const CurlLib* api, curl_lib());
  auto handle = acquire(api);
  CURL* c = handle->curl.get();
  if (!c) return internal("cannot create a curl handle");

  HttpResponse resp;
  Transfer t{api, c, &req, &resp, std::nullopt};
  Slist headers(nullptr, SlistDeleter{api});
  for (const auto& [k, v] : req.headers) {
    std::string line = v.empty() ? k + ";" : k + ": " + v;
    curl_slist* l = api->slist_append(headers.get(), line.c_str());
    if (!l) return internal("out of memory building HTTP headers");
    (void)headers.release();
    headers.reset(l);
  }

  api->easy_setopt(c, CURLOPT_URL, req.url.c_str());
  api->easy_setopt(c, CURLOPT_USERAGENT, user_agent_.c_str());
  api->easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  api->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api->easy_setopt(c, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  api->easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  api->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  api->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
  api->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(req.stall_timeout.count()));
  api->easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // compressed transfer of manifests/JSON is fine
  api->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api->easy_setopt(c, CURLOPT_HEADERDATA, &t);
  api->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api->easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (req.method == "HEAD") {
    api->easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    if (req.method == "POST" || !req.body.empty()) {
      api->easy_setopt(c, CURLOPT_POST, 1L);
      api->easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
      api->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    if (req.method != "POST") api->easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  char errbuf[CURL_ERROR_SIZE] = {};
  api->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api->easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, req.unix_socket.empty() ? nullptr : req.unix_socket.c_str());
  auto opt_path = [](const std::string& p) { return p.empty() ? nullptr : p.c_str(); };
  api->easy_setopt(c, CURLOPT_SSLCERT, opt_path(req.tls_client_cert));
  api->easy_setopt(c, CURLOPT_SSLKEY, opt_path(req.tls_client_key));
  if (!req.tls_ca_file.empty()) api->easy_setopt(c, CURLOPT_CAINFO, req.tls_ca_file.c_str());

  CURLcode rc = api->easy_perform(c);
  api->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  if (char* url = nullptr; api->easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
    resp.effective_url = url;
  release(std::move(handle));

  if (t.sink_error) return tl::unexpected(std::move(*t.sink_error));
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? errbuf : api->easy_strerror(rc);
    return unavailable("{} {}: {}", req.method, req.url, detail);
  }
  return resp;
}

Result<HttpResponse> HttpClient::get(std::string url, HttpHeaders headers) {
  HttpRequest r;
  r.url = std::move(url);
  r.headers = std::move(headers);
  return perform(r);
}

Result<HttpResponse> HttpClient::head(std::string url, HttpHeaders headers) {
  HttpRequest r;
  r.method = "HEAD";
  r.url = std::move(url);
  r.headers = std::move(headers);
  return perform(r);
}

std::string HttpClient::url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(hex[ch >> 4]);
      out.push_back(hex[ch & 0xf]);
    }
  }
  return out;
}

}  // namespace zl
