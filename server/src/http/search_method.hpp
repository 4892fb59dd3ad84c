// SEARCH for cpp-httplib 0.11, which refuses any method it does not know while parsing the
// request line (a 400 before any handler, pre-routing included, can see the request).
//
// The server this returns reads each request line itself: one that starts "SEARCH " reaches
// cpp-httplib as "POST " (so the body is read as a POST body is) carrying the header
// kOriginalMethodHeader: SEARCH, which directus_routes.cpp takes as the method. A client's own
// copy of that header is removed first. Everything else (keep-alive count and timeout, read and
// write timeouts, stop()) behaves as httplib::Server's.
//
// To use it, http_server.cpp constructs its server with make_search_capable_server() instead of
// std::make_unique<httplib::Server>() (the server's owner makes that change).
#pragma once

#include <memory>

namespace httplib {
class Server;
}

namespace pgi::server {

std::unique_ptr<httplib::Server> make_search_capable_server();

}  // namespace pgi::server
