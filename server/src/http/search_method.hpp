// SEARCH for cpp-httplib 0.11, which refuses any method it does not know while parsing the
// request line (a 400 before any handler, pre-routing included, can see the request).
//
// The server this returns reads each request line itself: one that starts "SEARCH " reaches
// cpp-httplib as "POST " (so the body is read as a POST body is) carrying a marker header, which
// is_search() reads and HttpRequest::method() turns back into SEARCH; nothing past the adapter
// sees the marker. A client's own copy of that header is removed first. Everything else
// (keep-alive count and timeout, read and write timeouts, stop()) behaves as httplib::Server's.
#pragma once

#include <memory>

namespace httplib {
struct Request;
class Server;
}  // namespace httplib

namespace pgi::server {

std::unique_ptr<httplib::Server> make_search_capable_server();

// Whether the request came as SEARCH (cpp-httplib shows it as POST).
bool is_search(const httplib::Request &request);

}  // namespace pgi::server
