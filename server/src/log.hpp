// One line at a time on stderr, prefixed with the UTC time; safe from any thread. Control
// characters and backslashes in `line` are escaped (\n, \x1b, \\): one call is one line.
#pragma once

#include <string_view>

namespace pgi::server {

void log_line(std::string_view line);

}  // namespace pgi::server
