#include "delivery/transfer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "delivery/message.hpp"
#include "delivery/signature.hpp"

namespace pgi::server {

namespace {

// Loopback, private, link-local, carrier-grade NAT, multicast and unspecified addresses (IPv4,
// and IPv6 including v4-mapped): where a webhook must not go unless --webhook-allow-private on.
bool internal_address(const struct sockaddr *address) {
  auto v4 = [](uint32_t a) {
    auto in = [a](uint32_t net, int bits) {
      return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
    };
    return in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
           in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000000, 24) || in(0xC0A80000, 16) ||
           in(0xC6120000, 15) || in(0xE0000000, 3);
  };
  if (address->sa_family == AF_INET) {
    return v4(ntohl(reinterpret_cast<const sockaddr_in *>(address)->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const unsigned char *b = reinterpret_cast<const sockaddr_in6 *>(address)->sin6_addr.s6_addr;
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0)
      return v4((uint32_t(b[12]) << 24) | (uint32_t(b[13]) << 16) | (uint32_t(b[14]) << 8) | b[15]);
    static const unsigned char kZero[15] = {};
    bool unspecified_or_loopback = std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1);
    return unspecified_or_loopback || (b[0] & 0xfe) == 0xfc ||
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || b[0] == 0xff;
  }
  return true;
}

}  // namespace

Transfer::Transfer(const Config &config, Claimed row, OpenSockets &sockets)
    : row_(std::move(row)), sockets_(sockets) {
  allow_private_ = config.webhook_allow_private;
  easy_ = curl_easy_init();
  if (easy_ == nullptr)
    throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  // (A connection outlives its transfer in the multi handle's cache: it is closed with the
  // worker's set, not this transfer.)
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION, &Transfer::open_socket);
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy_, CURLOPT_CLOSESOCKETFUNCTION, &Transfer::close_socket);
  curl_easy_setopt(easy_, CURLOPT_CLOSESOCKETDATA, &sockets_);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(config.delivery_timeout_ms));
  curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(config.delivery_timeout_ms, 5000)));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::discard);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);

  if (row_.channel == "webhook") {
    std::string stamp = row_.headers.value("webhook-timestamp", "");
    std::optional<std::string> signature =
        webhook_signature(row_.secret, row_.id, stamp, row_.body);
    if (!signature) {
      done_ = true;
      // (The database checks a secret when the endpoint is registered: a damaged row.)
      early_ = result(400, "the endpoint's secret is not whsec_ and base64");
      return;
    }
    // A webhook is an http(s) POST of the claimed body, never redirected.
    curl_easy_setopt(easy_, CURLOPT_URL, row_.target.c_str());
    curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy_, CURLOPT_POST, 1L);
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, row_.body.c_str());
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(row_.body.size()));
    curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::header_line);
    curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "User-Agent: pg_inbox");
    headers_ = curl_slist_append(headers_, "Expect:");
    for (const std::string &line : {"webhook-id: " + row_.id, "webhook-timestamp: " + stamp,
                                    "webhook-signature: " + *signature})
      headers_ = curl_slist_append(headers_, line.c_str());
    curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
    return;
  }

  // E-mail: one SMTP session with one recipient.
  std::optional<std::string> to = mail_address(row_.target);
  std::optional<std::string> from = mail_address(config.mail_from);
  if (!to || !from) {
    done_ = true;
    // 553: "mailbox name not allowed", a permanent failure: sending again would not help.
    early_ = result(553, "not a plain e-mail address: " + row_.target.substr(0, 100));
    return;
  }
  Email email;
  email.from = config.mail_from;
  email.to = *to;
  email.subject = row_.headers.value("subject", "");
  email.message_id = row_.headers.value("messageId", row_.id);
  email.unsubscribe =
      config.public_url + "/api/unsubscribe/" + row_.headers.value("unsubscribe", "");
  email.text = row_.body;
  upload_ = render_email(email);
  curl_easy_setopt(easy_, CURLOPT_URL, config.smtp_url.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(easy_, CURLOPT_MAIL_FROM, ("<" + *from + ">").c_str());
  recipients_ = curl_slist_append(recipients_, ("<" + *to + ">").c_str());
  curl_easy_setopt(easy_, CURLOPT_MAIL_RCPT, recipients_);
  curl_easy_setopt(easy_, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(easy_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload_.size()));
  curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &Transfer::read_body);
  curl_easy_setopt(easy_, CURLOPT_READDATA, this);
}

Transfer::~Transfer() {
  if (easy_ != nullptr)
    curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
  curl_slist_free_all(recipients_);
}

size_t Transfer::read_body(char *buffer, size_t size, size_t count, void *self) {
  auto *t = static_cast<Transfer *>(self);
  size_t n = std::min(size * count, t->upload_.size() - t->uploaded_);
  std::memcpy(buffer, t->upload_.data() + t->uploaded_, n);
  t->uploaded_ += n;
  return n;
}

// The response body is not kept: only its status matters.
size_t Transfer::discard(char *, size_t size, size_t count, void *) {
  return size * count;
}

// Retry-After in seconds (a 429 or 503 asks to wait); the HTTP-date form is not read.
size_t Transfer::header_line(char *buffer, size_t size, size_t count, void *self) {
  auto *t = static_cast<Transfer *>(self);
  std::string_view line(buffer, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    long seconds = std::strtol(std::string(line.substr(kName.size())).c_str(), nullptr, 10);
    t->retry_after_ = seconds > 0 ? seconds : 0;
  }
  return size * count;
}

curl_socket_t Transfer::open_socket(void *self, curlsocktype, struct curl_sockaddr *address) {
  auto *t = static_cast<Transfer *>(self);
  // Webhooks only: the SMTP server is the operator's own (--smtp-url).
  if (t->row_.channel == "webhook" && !t->allow_private_ && internal_address(&address->addr)) {
    t->refused_address_ = true;
    return CURL_SOCKET_BAD;
  }
  curl_socket_t s = socket(address->family, address->socktype, address->protocol);
  if (s != CURL_SOCKET_BAD)
    t->sockets_.insert(s);
  return s;
}

int Transfer::close_socket(void *sockets, curl_socket_t socket) {
  static_cast<OpenSockets *>(sockets)->erase(socket);
  return close(socket);
}

nlohmann::json Transfer::result(long status, const std::string &error) const {
  using namespace std::chrono;
  nlohmann::json out = {
      {"userId", row_.user_id},
      {"id", row_.id},
      {"lease", row_.lease},
      {"status", status},
      {"durationMs", duration_cast<milliseconds>(steady_clock::now() - started_).count()}};
  if (!error.empty())
    out["error"] = error;
  if (retry_after_ > 0)
    out["retryAfter"] = retry_after_;
  return out;
}

nlohmann::json Transfer::report(CURLcode code) {
  long status = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  if (refused_address_) {
    // Treated as a refusal by the receiver: not retried.
    return result(403, "refused: the URL resolves to a loopback, private or internal address");
  }
  if (code == CURLE_OK)
    return result(status, "");
  std::string error = error_[0] != '\0' ? error_ : curl_easy_strerror(code);
  // An SMTP server's refusal keeps its reply code (4xx: later, 5xx: never); anything else is no
  // answer.
  return result(row_.channel == "email" && status >= 400 ? status : 0, error);
}

}  // namespace pgi::server
