// The listener and the server's life: one event loop thread accepts and serves every
// connection (http/connection.hpp).
#include "http/http_server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "http/connection.hpp"
#include "http/stream_handoff.hpp"
#include "log.hpp"

namespace pgi::server {

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Connections accepted beyond --max-connections, each for one request of an operations route.
constexpr std::size_t kOverflowReserve = 64;
// File descriptors the process needs besides its client connections (the pool, the log, ...).
constexpr std::size_t kSpareDescriptors = 64;

// Raises the soft limit on open files to the hard limit, and lowers --max-connections if even
// that cannot hold them.
int descriptor_budget(const Config &config) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return config.max_connections;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  std::size_t needed = static_cast<std::size_t>(config.max_connections) + kOverflowReserve +
                       static_cast<std::size_t>(config.pool_size) + kSpareDescriptors;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed)
    return config.max_connections;
  std::size_t fits = limit.rlim_cur > kOverflowReserve + config.pool_size + kSpareDescriptors
                         ? limit.rlim_cur - kOverflowReserve - config.pool_size - kSpareDescriptors
                         : 1;
  log_line("--max-connections " + std::to_string(config.max_connections) + " lowered to " +
           std::to_string(fits) + ": the open-file limit is " + std::to_string(limit.rlim_cur));
  return static_cast<int>(fits);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(net::io_context &loop, const Config &config, const HttpService &service, Observer observer,
       StreamService *streams)
      : shared_(config, service, std::move(observer), streams),
        loop_(loop),
        acceptor_(loop_),
        retry_(loop_),
        max_connections_(static_cast<std::size_t>(descriptor_budget(config))) {}

  bool listen(const std::string &host, int port) {
    try {
      tcp::resolver resolver(loop_);
      tcp::endpoint endpoint = *resolver.resolve(host, std::to_string(port)).begin();
      acceptor_.open(endpoint.protocol());
      acceptor_.set_option(net::socket_base::reuse_address(true));
      acceptor_.bind(endpoint);
      acceptor_.listen(net::socket_base::max_listen_connections);
    } catch (const boost::system::system_error &e) {
      log_line(std::string("cannot listen: ") + e.what());
      return false;
    }
    accept();
    // Until stop() and the last connection has closed: run() returns with no work left, so no
    // handler of the loop still holds a connection (which refers to shared_) when the server
    // is destroyed before the loop.
    loop_.run();
    return true;
  }

  void stop() {
    net::post(loop_, [this] {
      shared_.stopping = true;
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      retry_.cancel();
      if (shared_.streams != nullptr)
        shared_.streams->stop();
      std::lock_guard<std::mutex> lock(shared_.mutex);
      for (auto &[id, weak] : shared_.connections) {
        if (std::shared_ptr<Connection> connection = weak.lock())
          connection->stop();
      }
    });
  }

 private:
  void accept() {
    acceptor_.async_accept(net::make_strand(loop_), [this](boost::system::error_code ec,
                                                           tcp::socket socket) {
      if (shared_.stopping || !acceptor_.is_open())
        return;
      if (ec) {
        // Out of descriptors (or another passing failure): try again shortly rather than spin.
        log_line("accept failed: " + ec.message());
        retry_.expires_after(std::chrono::milliseconds(50));
        retry_.async_wait([this](boost::system::error_code waited) {
          if (!waited)
            accept();
        });
        return;
      }
      std::size_t live = shared_.live;
      if (live < max_connections_ + kOverflowReserve) {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Connection>(std::move(socket), shared_, live >= max_connections_)->start();
      }
      // else: refused at once; the socket closes here.
      accept();
    });
  }

  ConnectionShared shared_;
  net::io_context &loop_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  const std::size_t max_connections_;
};

HttpServer::HttpServer(net::io_context &loop, const Config &config, const HttpService &service,
                       Observer observer, StreamService *streams)
    : impl_(std::make_unique<Impl>(loop, config, service, std::move(observer), streams)) {}

HttpServer::~HttpServer() = default;

bool HttpServer::listen(const std::string &host, int port) {
  return impl_->listen(host, port);
}

void HttpServer::stop() {
  impl_->stop();
}

}  // namespace pgi::server
