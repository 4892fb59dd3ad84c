// Matches a request's method and path against a table of routes such as
// "GET /api/notifications/{id}/read". A literal segment beats a {parameter}, so
// /api/notifications/unread-count is never taken for an id. A path that some route has but
// not for this method is "method not allowed", with the methods that path does allow.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pgi::server {

class Router {
 public:
  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };

  struct Match {
    Outcome outcome = Outcome::kNotFound;
    // Index in the table: the route found, or (method not allowed) one of the path's routes.
    std::size_t route = 0;
    std::vector<std::string> params;  // the {parameter} segments, in order
    std::string allow;                // "GET, PUT" when the method is not allowed
  };

  // Each entry is "METHOD /path/{param}/...". HEAD is answered by GET routes.
  explicit Router(const std::vector<std::string> &routes);

  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{}" for a parameter
  };
  std::vector<Route> routes_;
};

}  // namespace pgi::server
