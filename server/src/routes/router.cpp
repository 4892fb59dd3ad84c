#include "routes/router.hpp"

#include <stdexcept>

namespace pgi::server {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/')
    return out;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos)
      break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Router::Router(const std::vector<std::string> &routes) {
  for (const std::string &text : routes) {
    auto space = text.find(' ');
    if (space == std::string::npos)
      throw std::invalid_argument("route without a method: " + text);
    Route r;
    r.method = text.substr(0, space);
    for (std::string_view s : split_path(std::string_view(text).substr(space + 1))) {
      r.segments.emplace_back(s.size() > 1 && s.front() == '{' && s.back() == '}' ? "{}" : s);
    }
    routes_.push_back(std::move(r));
  }
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> segments = split_path(path);
  if (method == "HEAD")
    method = "GET";

  // The routes whose shape fits the path, keeping only those with the most literal segments.
  int best_literals = -1;
  std::vector<std::size_t> best;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const Route &r = routes_[i];
    if (r.segments.size() != segments.size())
      continue;
    int literals = 0;
    bool fits = true;
    for (std::size_t s = 0; s < segments.size() && fits; ++s) {
      if (r.segments[s] == "{}") {
        fits = !segments[s].empty();
      } else {
        fits = r.segments[s] == segments[s];
        ++literals;
      }
    }
    if (!fits || literals < best_literals)
      continue;
    if (literals > best_literals)
      best.clear();
    best_literals = literals;
    best.push_back(i);
  }

  Match m;
  if (best.empty())
    return m;
  for (std::size_t i : best) {
    if (routes_[i].method != method)
      continue;
    m.outcome = Outcome::kFound;
    m.route = i;
    for (std::size_t s = 0; s < segments.size(); ++s) {
      if (routes_[i].segments[s] == "{}")
        m.params.emplace_back(segments[s]);
    }
    return m;
  }
  m.outcome = Outcome::kMethodNotAllowed;
  m.route = best.front();
  for (std::size_t i : best) {
    if (m.allow.find(routes_[i].method) != std::string::npos)
      continue;
    if (!m.allow.empty())
      m.allow += ", ";
    m.allow += routes_[i].method;
  }
  if (m.allow.find("GET") != std::string::npos)
    m.allow += ", HEAD";
  return m;
}

}  // namespace pgi::server
