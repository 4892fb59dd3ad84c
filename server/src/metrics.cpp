#include "metrics.hpp"

#include <sstream>

namespace pgi::server {

namespace {

// A label value with \, " and newline escaped as the text format requires.
std::string label(const std::string &value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::record(const std::string &route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  if (seconds < 0)
    return;
  Histogram &h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i])
      ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::render(const PoolStats &pool) const {
  std::ostringstream out;
  out.precision(9);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out << "# HELP pg_inbox_http_requests_total HTTP requests answered, by route and status.\n"
           "# TYPE pg_inbox_http_requests_total counter\n";
    for (const auto &[key, n] : requests_) {
      out << "pg_inbox_http_requests_total{route=\"" << label(key.first) << "\",status=\""
          << key.second << "\"} " << n << "\n";
    }
    out << "# HELP pg_inbox_http_request_duration_seconds Time from request headers to response, "
           "by route.\n"
           "# TYPE pg_inbox_http_request_duration_seconds histogram\n";
    for (const auto &[route, h] : latency_) {
      const std::string r = label(route);
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        out << "pg_inbox_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\""
            << kBuckets[i] << "\"} " << h.buckets[i] << "\n";
      }
      out << "pg_inbox_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\"+Inf\"} "
          << h.count << "\n";
      out << "pg_inbox_http_request_duration_seconds_sum{route=\"" << r << "\"} " << h.sum << "\n";
      out << "pg_inbox_http_request_duration_seconds_count{route=\"" << r << "\"} " << h.count
          << "\n";
    }
  }
  auto gauge = [&out](const char *name, const char *help, unsigned long long value,
                      const char *type = "gauge") {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
        << name << " " << value << "\n";
  };
  gauge("pg_inbox_pool_size", "PostgreSQL connections the pool may hold.", pool.size);
  gauge("pg_inbox_pool_in_use", "Connections lent to a request right now.", pool.in_use);
  gauge("pg_inbox_pool_open", "Connections currently open.", pool.open);
  gauge("pg_inbox_pool_waiting", "Requests waiting for a free connection.", pool.waiting);
  gauge("pg_inbox_pool_connects_total", "Connections opened.", pool.connects, "counter");
  gauge("pg_inbox_pool_connect_failures_total", "Failed attempts to open a connection.",
        pool.connect_failures, "counter");
  gauge("pg_inbox_pool_discarded_total", "Broken connections closed.", pool.discarded, "counter");
  gauge("pg_inbox_pool_wait_timeouts_total", "Requests that found no free connection in time.",
        pool.wait_timeouts, "counter");
  if (streams_ != nullptr) {
    const HubStats &s = *streams_;
    gauge("pg_inbox_streams_opened_total", "SSE streams and WebSockets admitted.", s.streams_opened,
          "counter");
    gauge("pg_inbox_streams_refused_total", "Streams refused beyond --max-streams (503).",
          s.streams_refused, "counter");
    gauge("pg_inbox_streams_slow_disconnects_total",
          "Streams closed because their client left more than --stream-buffer-bytes unsent.",
          s.slow_disconnects, "counter");
    gauge("pg_inbox_stream_events_sent_total", "Feed events written to streams.", s.events_sent,
          "counter");
    gauge("pg_inbox_feed_polls_total", "Polls of inbox.poll_events by the one poller.", s.polls,
          "counter");
    gauge("pg_inbox_feed_poll_failures_total", "Failed polls or poller connections.",
          s.poll_failures, "counter");
    gauge("pg_inbox_stream_catch_ups_total", "Reads of inbox.changes by streams catching up.",
          s.catch_ups, "counter");
    gauge("pg_inbox_stream_resets_total", "reset events sent (a resume point out of the feed).",
          s.resets, "counter");
    gauge("pg_inbox_streams_token_ended_total", "Streams ended by a revoked or expired token.",
          s.tokens_ended, "counter");
  }
  return out.str();
}

}  // namespace pgi::server
