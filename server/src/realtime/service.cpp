#include "realtime/service.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/status.hpp>

#include "realtime/mastodon_session.hpp"
#include "realtime/sse_session.hpp"
#include "realtime/ws_session.hpp"

namespace pgi::server {

namespace beast = boost::beast;

RealtimeService::RealtimeService(const Config &config, Pool &pool)
    : config_(config),
      pool_(pool),
      hub_(static_cast<std::size_t>(config.max_streams)),
      poller_(config, hub_) {
  poller_.start();
}

RealtimeService::~RealtimeService() {
  poller_.stop();
}

void RealtimeService::take(std::unique_ptr<StreamHandoff> handoff) {
  switch (handoff->kind) {
    case StreamKind::kWebSocket:
      return std::make_shared<WsSession>(*this, std::move(*handoff))->start();
    case StreamKind::kMastodonEventStream:
    case StreamKind::kMastodonWebSocket:
      return std::make_shared<MastodonSession>(*this, std::move(*handoff))->start();
    case StreamKind::kEventStream:
    case StreamKind::kNone:
      return std::make_shared<SseSession>(*this, std::move(*handoff))->start();
  }
}

void RealtimeService::stop() {
  poller_.stop();
  hub_.end_all();
}

void write_and_close(std::shared_ptr<beast::tcp_stream> stream, const HttpResponse &response,
                     int write_timeout_ms) {
  auto text = std::make_shared<std::string>();
  *text +=
      "HTTP/1.1 " + std::to_string(response.status) + " " +
      std::string(beast::http::obsolete_reason(static_cast<beast::http::status>(response.status))) +
      "\r\n";
  *text += "Content-Type: " + response.content_type + "\r\n";
  for (const auto &[name, value] : response.headers)
    *text += name + ": " + value + "\r\n";
  *text += "Content-Length: " + std::to_string(response.body.size()) +
           "\r\nConnection: close\r\n\r\n" + response.body;
  stream->expires_after(std::chrono::milliseconds(write_timeout_ms));
  boost::asio::async_write(
      *stream, boost::asio::buffer(*text), [stream, text](beast::error_code, std::size_t) {
        beast::error_code ignored;
        stream->socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
        stream->close();
      });
}

}  // namespace pgi::server
