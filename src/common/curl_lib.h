// libcurl, loaded when the first HTTP request is made rather than when zlayer starts: its
// dependency tree (TLS, Kerberos, LDAP, IDN, ...) costs every zlayer process ~6 ms and ~8 MB
// of RSS, and most commands (run, ps, rm, the DNS server) never make a request.
#pragma once

#include <curl/curl.h>

#include "common/error.h"

namespace zl {

// The libcurl functions zlayer calls, resolved from libcurl.so.4 (curl_global_init done).
struct CurlLib {
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
};

// Loads and initializes libcurl once per process; later calls return the same table.
Result<const CurlLib*> curl_lib();

}  // namespace zl
