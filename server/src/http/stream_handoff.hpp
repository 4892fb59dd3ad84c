// How a connection whose request opens a stream (SSE, WebSocket) leaves the request/response
// cycle: the connection hands its socket, its read buffer (bytes the client sent after the
// head) and the parsed request to the StreamService, on the connection's strand, and forgets
// them. From then on the stream is the service's (server/src/realtime/), on the same event loop
// and strand; it no longer counts against --max-connections but against --max-streams.
#pragma once

#include <memory>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/http_server.hpp"

namespace pgi::server {

struct StreamHandoff {
  StreamKind kind;
  boost::beast::tcp_stream stream;  // its executor is the connection's strand
  boost::beast::flat_buffer buffer;
  boost::beast::http::request<boost::beast::http::string_body> message;  // for the upgrade
  HttpRequest request;
};

class StreamService {
 public:
  virtual ~StreamService() = default;
  // Takes the stream over; called on its strand. Never throws.
  virtual void take(std::unique_ptr<StreamHandoff> handoff) = 0;
  // The server is stopping: close every stream cleanly. Safe from any thread.
  virtual void stop() = 0;
};

}  // namespace pgi::server
