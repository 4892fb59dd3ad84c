#include "http/framing.hpp"

#include <algorithm>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace pgi::server {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

ApiError bad_request(std::string message) {
  return http_error(400, std::move(message));
}

// Fields the server reads as one value: a second copy would make the request mean two things to
// two readers (a proxy in front may take the other one).
constexpr std::string_view kSingletons[] = {"Host", "Content-Length", "Content-Type",
                                            "Authorization", "Idempotency-Key"};

// RFC 9110 §5.5: a field value is visible characters, spaces and tabs (and obs-text); CR, LF,
// NUL and the other controls are never part of one.
bool has_control(std::string_view value) {
  return std::any_of(value.begin(), value.end(),
                     [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
}

bool all_digits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// The last transfer coding of a Transfer-Encoding value ("gzip, chunked" -> "chunked").
std::string_view last_coding(std::string_view value) {
  auto comma = value.rfind(',');
  std::string_view last = comma == std::string_view::npos ? value : value.substr(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t'))
    last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t'))
    last.remove_suffix(1);
  return last;
}

}  // namespace

std::optional<ApiError> head_failure(beast::error_code ec, bool line_read, const Config &config) {
  if (ec == beast::error::timeout) {
    return http_error(408, "the request head did not arrive within " +
                               std::to_string(config.head_timeout_ms) + " ms");
  }
  if (ec == http::error::end_of_stream || ec == boost::asio::error::operation_aborted ||
      ec == boost::asio::error::connection_reset || ec == boost::asio::error::eof) {
    return std::nullopt;
  }
  if (ec == http::error::header_limit) {
    if (!line_read) {
      return http_error(414, "the request line is longer than " +
                                 std::to_string(config.max_request_line_bytes) + " bytes");
    }
    return http_error(431, "the request headers are larger than " +
                               std::to_string(config.max_header_bytes) + " bytes");
  }
  if (ec == http::error::body_limit) {  // the parser checks Content-Length at the end of the head
    return http_error(
        413, "the request body is larger than " + std::to_string(config.max_body_bytes) + " bytes");
  }
  if (ec == http::error::partial_message)
    return bad_request("the connection ended in the middle of the request head");
  // bad_method, bad_target, bad_version, bad_field, bad_value, bad_line_ending,
  // bad_content_length, multiple_content_length, bad_transfer_encoding, ...
  return bad_request("malformed request: " + ec.message());
}

std::optional<ApiError> check_head(const http::request_header<> &head, const Config &config) {
  unsigned version = head.version();  // 10 or 11: the parser refuses any other (400)
  std::string_view target(head.target().data(), head.target().size());
  if (target.size() > config.max_request_line_bytes) {
    return http_error(414, "the request line is longer than " +
                               std::to_string(config.max_request_line_bytes) + " bytes");
  }
  bool origin_form = !target.empty() && target.front() == '/';
  bool absolute_form = target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0;
  if (!origin_form && !absolute_form)
    return bad_request("malformed request: the request target must be a path");
  auto mark = target.find('?');
  if (mark != std::string_view::npos && target.size() - mark - 1 > config.max_query_bytes) {
    return http_error(414, "the query string is longer than " +
                               std::to_string(config.max_query_bytes) + " bytes");
  }

  std::size_t count = 0;
  for (const auto &field : head) {
    ++count;
    std::string_view value(field.value().data(), field.value().size());
    std::string_view name(field.name_string().data(), field.name_string().size());
    if (has_control(value))
      return bad_request("header " + std::string(name) + ": contains a control character");
  }
  if (count > config.max_headers) {
    return http_error(431, "more than " + std::to_string(config.max_headers) + " request headers");
  }
  for (std::string_view name : kSingletons) {
    auto range = head.equal_range(beast::string_view(name.data(), name.size()));
    if (std::distance(range.first, range.second) > 1)
      return bad_request("header " + std::string(name) + ": given more than once");
  }
  if (version == 11 && head.count(http::field::host) == 0)
    return bad_request("an HTTP/1.1 request needs a Host header");

  auto te = head.find(http::field::transfer_encoding);
  if (te != head.end()) {
    std::string_view value(te->value().data(), te->value().size());
    if (!beast::iequals(last_coding(value), "chunked")) {
      return bad_request("Transfer-Encoding: the body's length cannot be known without chunked");
    }
    // Bodies are read to a Content-Length the limit is checked against before a byte of them.
    return http_error(411, "send the body with a Content-Length");
  }
  auto cl = head.find(http::field::content_length);
  if (cl != head.end()) {
    std::string_view value(cl->value().data(), cl->value().size());
    if (!all_digits(value))
      return bad_request("Content-Length: expected a number of bytes");
    // Longer than any limit: no need to convert (and no overflow).
    if (value.size() > 18 || std::stoull(std::string(value)) > config.max_body_bytes) {
      return http_error(413, "the request body is larger than " +
                                 std::to_string(config.max_body_bytes) + " bytes");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> body_failure(beast::error_code ec, const Config &config) {
  if (ec == beast::error::timeout) {
    return http_error(408, "the request body did not arrive within " +
                               std::to_string(config.body_timeout_ms) + " ms");
  }
  if (ec == http::error::body_limit) {
    return http_error(
        413, "the request body is larger than " + std::to_string(config.max_body_bytes) + " bytes");
  }
  if (ec == http::error::partial_message)
    return bad_request("the connection ended in the middle of the request body");
  if (ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::eof || ec == http::error::end_of_stream) {
    return std::nullopt;
  }
  return bad_request("malformed request body: " + ec.message());
}

}  // namespace pgi::server
