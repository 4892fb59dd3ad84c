#include "http/search_method.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <httplib.h>

namespace pgi::server {

namespace {

// Set on a request that came as SEARCH. A client's header of this name means nothing: it is
// removed before the request is handled.
constexpr const char *kOriginalMethodHeader = "X-Pg-Inbox-Original-Method";

constexpr char kSearch[] = "SEARCH ";
constexpr size_t kSearchLength = sizeof kSearch - 1;
constexpr size_t kReadChunk = 4096;

int milliseconds(time_t sec, time_t usec) {
  return static_cast<int>(sec * 1000 + usec / 1000);
}

// One client connection, for all its keep-alive requests. Bytes read ahead to look at a request
// line are served before the socket's; a SEARCH request line is served as POST.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int sock, int read_ms, int write_ms)
      : sock_(sock), read_ms_(read_ms), write_ms_(write_ms) {}

  bool is_readable() const override { return ahead_ < buffer_.size() || wait(POLLIN, read_ms_); }
  bool is_writable() const override { return wait(POLLOUT, write_ms_); }

  // Buffered like httplib's own stream: the library reads request lines a byte at a time, which
  // straight from the socket would cost a poll and a recv per byte.
  ssize_t read(char *ptr, size_t size) override {
    if (ahead_ == buffer_.size()) {
      buffer_.clear();
      ahead_ = 0;
      if (!wait(POLLIN, read_ms_))
        return -1;
      if (size >= kReadChunk)  // a large read (a body) goes straight to the caller
        return recv(sock_, ptr, size, 0);
      char chunk[kReadChunk];
      ssize_t n = recv(sock_, chunk, sizeof chunk, 0);
      if (n <= 0)
        return n;
      buffer_.assign(chunk, static_cast<size_t>(n));
    }
    size_t n = std::min(size, buffer_.size() - ahead_);
    std::memcpy(ptr, buffer_.data() + ahead_, n);
    ahead_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char *ptr, size_t size) override {
    if (!wait(POLLOUT, write_ms_))
      return -1;
    return send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string &ip, int &port) const override {
    address(getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string &ip, int &port) const override {
    address(getsockname, ip, port);
  }
  int socket() const override { return sock_; }

  // Reads as much of the next request line as tells whether it is a SEARCH, and if it is,
  // serves it as a POST. False when the client closed or sent nothing in time.
  bool begin_request() {
    buffer_.erase(0, ahead_);
    ahead_ = 0;
    search_ = false;
    while (buffer_.size() < kSearchLength &&
           std::string_view(kSearch).substr(0, buffer_.size()) == buffer_) {
      char chunk[kSearchLength];
      if (!wait(POLLIN, read_ms_))
        return !buffer_.empty();
      ssize_t n = recv(sock_, chunk, kSearchLength - buffer_.size(), 0);
      if (n <= 0)
        return !buffer_.empty();
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    if (buffer_.compare(0, kSearchLength, kSearch) == 0) {
      buffer_.replace(0, kSearchLength, "POST ");
      search_ = true;
    }
    return true;
  }

  bool search() const { return search_; }

  // Waits up to `ms` for the next request, a slice at a time so that a stopping server does not
  // wait for idle connections.
  bool wait_for_request(int ms, const std::atomic<int> &listening) const {
    for (int waited = 0; waited < ms; waited += 100) {
      if (listening == -1)
        return false;
      if (ahead_ < buffer_.size() || wait(POLLIN, std::min(100, ms - waited)))
        return true;
    }
    return false;
  }

 private:
  bool wait(short events, int ms) const {
    pollfd p{sock_, events, 0};
    int r;
    do {
      r = poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }

  template <typename Get>
  void address(Get get, std::string &ip, int &port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ip.clear();
    port = 0;
    if (get(sock_, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
      return;
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
      auto *a = reinterpret_cast<sockaddr_in *>(&addr);
      inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto *a = reinterpret_cast<sockaddr_in6 *>(&addr);
      inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      port = ntohs(a->sin6_port);
    }
    ip = text;
  }

  int sock_;
  int read_ms_, write_ms_;
  std::string buffer_;  // read ahead, served from `ahead_`
  size_t ahead_ = 0;
  bool search_ = false;
};

class SearchCapableServer : public httplib::Server {
 private:
  // httplib::Server's keep-alive loop, over a ConnectionStream.
  bool process_and_close_socket(socket_t sock) override {
    bool ok = false;
    {
      ConnectionStream stream(sock, milliseconds(read_timeout_sec_, read_timeout_usec_),
                              milliseconds(write_timeout_sec_, write_timeout_usec_));
      const int keep_alive_ms = static_cast<int>(keep_alive_timeout_sec_ * 1000);
      for (size_t count = keep_alive_max_count_;
           count > 0 && stream.wait_for_request(keep_alive_ms, svr_sock_); --count) {
        if (!stream.begin_request())
          break;
        bool closed = false;
        ok = process_request(stream, count == 1, closed, [&stream](httplib::Request &req) {
          req.headers.erase(kOriginalMethodHeader);
          if (stream.search())
            req.set_header(kOriginalMethodHeader, "SEARCH");
        });
        if (!ok || closed)
          break;
      }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }
};

}  // namespace

std::unique_ptr<httplib::Server> make_search_capable_server() {
  return std::make_unique<SearchCapableServer>();
}

bool is_search(const httplib::Request &request) {
  return request.method == "POST" && request.has_header(kOriginalMethodHeader);
}

}  // namespace pgi::server
