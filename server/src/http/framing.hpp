// What makes a request well-framed and within the limits, beyond what Beast's parser checks by
// itself (http/http_server.hpp lists the statuses). Beast-aware, route-blind: each refusal is an
// ApiError for the service to write in the path's dialect.
#pragma once

#include <optional>
#include <string_view>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include "config.hpp"
#include "errors.hpp"

namespace pgi::server {

// The answer to a request whose head could not be parsed: `ec` is the parser's error;
// `line_read` whether its request line was complete (to tell an over-long request line, 414,
// from over-large headers, 431). nullopt when there is nothing to answer (the client left before
// sending a byte, or the server is stopping).
std::optional<ApiError> head_failure(boost::beast::error_code ec, bool line_read,
                                     const Config &config);

// The refusal of a parsed head, if any: the version, the request line and query string, the
// header count, header values with control characters, Host, repeated fields the server reads,
// Content-Length and Transfer-Encoding, Content-Length against the body limit.
std::optional<ApiError> check_head(const boost::beast::http::request_header<> &head,
                                   const Config &config);

// The answer to a request whose body could not be read in full (nullopt: the client left).
std::optional<ApiError> body_failure(boost::beast::error_code ec, const Config &config);

}  // namespace pgi::server
