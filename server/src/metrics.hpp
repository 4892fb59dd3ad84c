// Request counters and latency histograms by route and status, rendered with the pool's
// gauges in the Prometheus text format (version 0.0.4).
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "db/pool.hpp"
#include "realtime/hub.hpp"

namespace pgi::server {

class Metrics {
 public:
  // `streams`: the realtime layer's counters (null: none).
  explicit Metrics(const HubStats *streams = nullptr) : streams_(streams) {}

  // `route` is the route's pattern ("GET /api/notifications/{id}") or "unmatched";
  // seconds < 0 means the duration is unknown (not added to the histogram).
  void record(const std::string &route, int status, double seconds);

  std::string render(const PoolStats &pool) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
  struct Histogram {
    std::array<unsigned long long, kBuckets.size()> buckets{};  // cumulative, as exported
    unsigned long long count = 0;
    double sum = 0;
  };

  const HubStats *const streams_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, unsigned long long> requests_;
  std::map<std::string, Histogram> latency_;
};

}  // namespace pgi::server
