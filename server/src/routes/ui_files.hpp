// The browser UI's files (ui/ in the repository): the JavaScript client and <pg-inbox> element,
// and the demo page. The server serves exactly the files of kUiFiles, each at its fixed path, so
// no request path is ever joined to a directory (no traversal, nothing else in --ui-dir is
// reachable). The route table has one row per file (Transport::kFile).
//
// The files are read once at start-up from --ui-dir (default: ui/ beside the server's folder, as
// in the build tree, else share/pg_inbox/ui/ beside it, as an installed layout has it) and held
// in memory, so answering one never touches the disk on the event loop. Each answer carries
// its Content-Type, an ETag (a hash of the content), `Cache-Control: no-cache` (the browser keeps
// the file and revalidates it: a new server version is picked up at once) and
// `X-Content-Type-Options: nosniff`; a matching If-None-Match is 304. A file that could not be
// read is 404 with the code `ui_not_installed`.
#pragma once

#include <map>
#include <string>

#include "http/http_server.hpp"

namespace pgi::server {

struct UiFile {
  const char *route;         // the route table's pattern: "GET /ui/pg-inbox.js"
  const char *file;          // the file's name in the UI folder
  const char *content_type;  // sent as is
};

// Every file the server serves, in one list: the route table makes a row of each.
extern const UiFile kUiFiles[];
extern const std::size_t kUiFileCount;

class UiFiles {
 public:
  // Reads each file of kUiFiles from `dir` ("" = the default folders above).
  explicit UiFiles(const std::string &dir);

  // The folder the files were read from, and how many of them could be read.
  const std::string &dir() const { return dir_; }
  std::size_t loaded() const { return files_.size(); }

  // The answer for the file of `route` (the pattern of one of kUiFiles).
  HttpResponse respond(const std::string &route, const HttpRequest &request) const;

 private:
  struct Loaded {
    std::string content;
    std::string content_type;
    std::string etag;
  };
  std::string dir_;
  std::map<std::string, Loaded> files_;  // by route pattern
};

}  // namespace pgi::server
