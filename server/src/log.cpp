#include "log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace pgi::server {

namespace {

// Control characters (CR, LF, NUL, ESC, ...) and the backslash are written as C escapes, so that
// nothing a client sends can start a line, forge one or reach a terminal.
void append_escaped(std::string &out, std::string_view line) {
  static const char hex[] = "0123456789abcdef";
  for (char ch : line) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += ch;
    }
  }
}

}  // namespace

void log_line(std::string_view line) {
  static std::mutex *const mutex = new std::mutex;  // never destroyed: usable until exit
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t seconds = system_clock::to_time_t(now);
  auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));

  std::string text;
  text.reserve(line.size() + 32);
  text.append(stamp).append(" ");
  append_escaped(text, line);
  text.append("\n");
  std::lock_guard<std::mutex> lock(*mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace pgi::server
