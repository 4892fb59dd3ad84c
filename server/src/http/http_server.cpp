#include "http/http_server.hpp"

#include <chrono>
#include <exception>

#include <httplib.h>

#include "errors.hpp"
#include "http/search_method.hpp"
#include "log.hpp"

namespace pgi::server {

namespace {

using Clock = std::chrono::steady_clock;

// When the request on this worker thread started (set by the pre-routing hook, which runs
// before the body is read). Empty for requests the library rejected before that point.
Clock::time_point &request_start() {
  thread_local Clock::time_point start{};
  return start;
}

void write_error(httplib::Response &res, const ApiError &error) {
  res.status = error.status;
  res.set_content(error_body(error), "application/json");
}

void write(httplib::Response &res, HttpResponse &&out) {
  res.status = out.status;
  for (auto &[name, value] : out.headers)
    res.set_header(name.c_str(), value);
  if (out.status != 204 && out.status != 304) {
    res.set_content(std::move(out.body), out.content_type.c_str());
  }
}

}  // namespace

HttpRequest::HttpRequest(const httplib::Request &request)
    : request_(request), method_(&request.method) {
  static const std::string search = "SEARCH";
  if (is_search(request))
    method_ = &search;
}

const std::string &HttpRequest::path() const {
  return request_.path;
}
const std::string &HttpRequest::body() const {
  return request_.body;
}
const std::multimap<std::string, std::string> &HttpRequest::query() const {
  return request_.params;
}
std::size_t HttpRequest::query_bytes() const {
  auto mark = request_.target.find('?');
  return mark == std::string::npos ? 0 : request_.target.size() - mark - 1;
}
std::size_t HttpRequest::header_count() const {
  return request_.headers.size();
}
std::optional<std::string> HttpRequest::header(const std::string &name) const {
  if (!request_.has_header(name.c_str()))
    return std::nullopt;
  return request_.get_header_value(name.c_str());
}

HttpServer::HttpServer(const Config &config, Handler handler, Observer observer)
    : server_(make_search_capable_server()) {  // httplib::Server that also takes SEARCH
  httplib::Server &s = *server_;
  const int threads = config.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(config.max_body_bytes);
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(1000);
  s.set_keep_alive_timeout(5);
  s.set_read_timeout(10);
  s.set_write_timeout(10);

  const std::size_t max_headers = config.max_headers;
  const std::size_t max_query = config.max_query_bytes;
  auto dispatch = [handler = std::move(handler), max_headers, max_query](
                      const httplib::Request &req, httplib::Response &res) {
    HttpRequest request(req);
    if (request.header_count() > max_headers) {
      return write_error(
          res, http_error(431, "more than " + std::to_string(max_headers) + " request headers"));
    }
    if (request.query_bytes() > max_query) {
      return write_error(res, http_error(414, "the query string is longer than " +
                                                  std::to_string(max_query) + " bytes"));
    }
    write(res, handler(request));
  };
  s.set_pre_routing_handler([dispatch](const httplib::Request &req, httplib::Response &res) {
    request_start() = Clock::now();
    // HTTP says a request with neither Content-Length nor Transfer-Encoding has no body, but
    // the library would wait for one on POST, PUT and PATCH, then answer 400 (curl -X PUT
    // sends such requests). There is nothing to read: answer here.
    // The library does not hold a chunked body to the size limit while reading it: refuse
    // chunked bodies before a byte is read, and close the connection (the body is unread).
    if (req.has_header("Transfer-Encoding")) {
      write_error(res, http_error(411, "send the body with a Content-Length"));
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    bool body_expected = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (body_expected && !req.has_header("Content-Length")) {
      dispatch(req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Routing is the handler's: every method the library knows goes to it, for every path.
  s.Get(".*", dispatch);
  s.Post(".*", dispatch);
  s.Put(".*", dispatch);
  s.Patch(".*", dispatch);
  s.Delete(".*", dispatch);
  s.Options(".*", dispatch);

  s.set_exception_handler(
      [](const httplib::Request &req, httplib::Response &res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception &e) {
          what = e.what();
        } catch (...) {
        }
        log_line("unhandled exception on " + req.method + " " + req.path + ": " + what);
        write_error(res, http_error(500, "internal error"));
      });

  // Statuses the library sets by itself arrive here with no body: give them the JSON one.
  s.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request &, httplib::Response &res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        write_error(res, http_error(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));

  s.set_logger(
      [observer = std::move(observer)](const httplib::Request &req, const httplib::Response &res) {
        Clock::time_point &start = request_start();
        double seconds = start == Clock::time_point{}
                             ? -1
                             : std::chrono::duration<double>(Clock::now() - start).count();
        start = Clock::time_point{};
        observer(HttpRequest(req), res.status, seconds);
      });
}

HttpServer::~HttpServer() = default;

bool HttpServer::listen(const std::string &host, int port) {
  return server_->listen(host.c_str(), port);
}

void HttpServer::stop() {
  server_->stop();
}

}  // namespace pgi::server
