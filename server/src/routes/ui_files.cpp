#include "routes/ui_files.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "errors.hpp"

namespace pgi::server {

const UiFile kUiFiles[] = {
    {"GET /demo", "demo.html", "text/html; charset=utf-8"},
    {"GET /ui/demo.js", "demo.js", "text/javascript; charset=utf-8"},
    {"GET /ui/pg-inbox.js", "pg-inbox.js", "text/javascript; charset=utf-8"},
};
const std::size_t kUiFileCount = sizeof kUiFiles / sizeof kUiFiles[0];

namespace {

// The folder of the running executable (Linux: /proc/self/exe), "" if unknown.
std::string executable_dir() {
  std::vector<char> buffer(4096);
  ssize_t n = readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (n <= 0)
    return {};
  std::string path(buffer.data(), static_cast<std::size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool readable(const std::string &path) {
  return std::ifstream(path).good();
}

// --ui-dir, or the first default folder that has the client.
std::string resolve_dir(const std::string &dir) {
  if (!dir.empty())
    return dir;
  std::string exe = executable_dir();
  if (exe.empty())
    return "ui";
  for (const char *candidate : {"/../ui", "/../share/pg_inbox/ui"}) {
    if (readable(exe + candidate + "/pg-inbox.js"))
      return exe + candidate;
  }
  return exe + "/../ui";
}

// FNV-1a, 64 bits: the ETag needs to change with the content, not to resist anyone.
std::string etag_of(const std::string &content) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : content) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

// Whether an If-None-Match header names `etag` (a list, possibly weak, or "*").
bool matches(const std::string &if_none_match, const std::string &etag) {
  if (if_none_match.find('*') != std::string::npos)
    return true;
  return if_none_match.find(etag) != std::string::npos;
}

}  // namespace

UiFiles::UiFiles(const std::string &dir) : dir_(resolve_dir(dir)) {
  for (std::size_t i = 0; i < kUiFileCount; ++i) {
    const UiFile &f = kUiFiles[i];
    std::ifstream in(dir_ + "/" + f.file, std::ios::binary);
    if (!in)
      continue;
    std::ostringstream content;
    content << in.rdbuf();
    Loaded loaded{content.str(), f.content_type, {}};
    loaded.etag = etag_of(loaded.content);
    files_.emplace(f.route, std::move(loaded));
  }
}

HttpResponse UiFiles::respond(const std::string &route, const HttpRequest &request) const {
  auto found = files_.find(route);
  if (found == files_.end()) {
    ApiError error = http_error(404,
                                "the UI's files are not installed: start the server with "
                                "--ui-dir naming the folder that holds pg-inbox.js");
    error.code = "ui_not_installed";
    throw ApiFailure(error);
  }
  const Loaded &file = found->second;
  HttpResponse out;
  out.content_type = file.content_type;
  out.headers = {
      {"ETag", file.etag}, {"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
  std::optional<std::string> if_none_match = request.header("If-None-Match");
  if (if_none_match && matches(*if_none_match, file.etag)) {
    out.status = 304;
    return out;
  }
  out.body = file.content;
  return out;
}

}  // namespace pgi::server
