#include "api/metrics.h"

#include <fmt/format.h>

namespace zl::api {

std::string prometheus_escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void ApiLatency::observe(const std::string& route, const std::string& method, int status,
                         std::chrono::microseconds took) {
  double secs = static_cast<double>(took.count()) / 1e6;
  std::lock_guard lock(mu_);
  auto& s = series_[{route.empty() ? "unmatched" : route, method}];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (secs <= kBuckets[i]) ++s.buckets[i];
  ++s.count;
  s.sum += secs;
  ++requests_by_status_[{route.empty() ? "unmatched" : route, status}];
}

void ApiLatency::write(std::string& out) const {
  std::lock_guard lock(mu_);
  out += "# HELP zlayer_api_request_duration_seconds Time to answer an API request.\n";
  out += "# TYPE zlayer_api_request_duration_seconds histogram\n";
  for (const auto& [key, s] : series_) {
    std::string labels = fmt::format("route=\"{}\",method=\"{}\"", prometheus_escape(key.first), key.second);
    for (size_t i = 0; i < kBuckets.size(); ++i)
      out += fmt::format("zlayer_api_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                         kBuckets[i], s.buckets[i]);
    out += fmt::format("zlayer_api_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, s.count);
    out += fmt::format("zlayer_api_request_duration_seconds_sum{{{}}} {}\n", labels, s.sum);
    out += fmt::format("zlayer_api_request_duration_seconds_count{{{}}} {}\n", labels, s.count);
  }
  out += "# HELP zlayer_api_requests_total API requests answered, by route and status.\n";
  out += "# TYPE zlayer_api_requests_total counter\n";
  for (const auto& [key, n] : requests_by_status_)
    out += fmt::format("zlayer_api_requests_total{{route=\"{}\",code=\"{}\"}} {}\n",
                       prometheus_escape(key.first), key.second, n);
}

}  // namespace zl::api
