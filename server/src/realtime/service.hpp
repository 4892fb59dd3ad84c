// The realtime layer: takes the stream routes' connections from the HTTP layer (the
// StreamService of http/stream_handoff.hpp) and owns what they share: the hub of
// subscriptions and the one feed poller. The streams' own database calls (opening a stream,
// catching up, the Directus reads) go through the server's pool, as the routes' do.
//
//   GET /api/notifications/stream   server-sent events (realtime/sse_session.hpp)
//   GET /websocket                  Directus's realtime protocol (realtime/ws_session.hpp)
//   GET /api/v1/streaming[/user[/notification]]
//                                   Mastodon's streaming API (realtime/mastodon_session.hpp)
//
// A stream costs a socket, a strand and a buffer bounded by --stream-buffer-bytes; never a
// thread. Beyond --max-streams a new stream is answered 503 with Retry-After.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/beast/core/tcp_stream.hpp>

#include "config.hpp"
#include "db/call.hpp"
#include "db/pool.hpp"
#include "http/http_server.hpp"
#include "http/stream_handoff.hpp"
#include "realtime/hub.hpp"
#include "realtime/poller.hpp"

namespace pgi::server {

class RealtimeService : public StreamService {
 public:
  RealtimeService(const Config &config, Pool &pool);
  ~RealtimeService() override;

  void take(std::unique_ptr<StreamHandoff> handoff) override;
  void stop() override;

  const Config &config() const { return config_; }
  Hub &hub() { return hub_; }
  const HubStats &stats() const { return hub_.stats; }

  // Calls `statement` through the pool, then `done` with its rows or its error on `executor`
  // (the stream's strand). A stream's calls change nothing: each may run again on a fresh
  // connection.
  using Rows = std::vector<DbRow>;
  template <class Executor>
  void call(Executor executor, const char *statement,
            std::vector<std::optional<std::string>> params,
            std::function<void(Rows rows, const ApiError *error)> done);

 private:
  const Config &config_;
  Pool &pool_;
  Hub hub_;
  Poller poller_;
};

// Writes a whole HTTP response on a stream that is not (yet) an event stream, then closes it.
void write_and_close(std::shared_ptr<boost::beast::tcp_stream> stream, const HttpResponse &response,
                     int write_timeout_ms);

}  // namespace pgi::server

#include "realtime/service_call.hpp"
