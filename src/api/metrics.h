// The daemon's Prometheus metrics: request latency per API route (a histogram) plus gauges and
// counters gathered when /metrics is scraped, written in the Prometheus text format 0.0.4.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace zl::api {

class ApiLatency {
 public:
  void observe(const std::string& route, const std::string& method, int status,
               std::chrono::microseconds took);
  // Appends the histogram (zlayer_api_request_duration_seconds) and request counter.
  void write(std::string& out) const;

 private:
  static constexpr std::array<double, 10> kBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  struct Series {
    std::array<uint64_t, kBuckets.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Series> series_;        // (route, method)
  std::map<std::pair<std::string, int>, uint64_t> requests_by_status_;  // (route, status)
};

// A label value escaped for the text format.
std::string prometheus_escape(const std::string& v);

}  // namespace zl::api
