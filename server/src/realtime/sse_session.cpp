#include "realtime/sse_session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "http/request_input.hpp"
#include "log.hpp"
#include "realtime/events.hpp"
#include "realtime/service.hpp"
#include "realtime/statements.hpp"
#include "routes/dialect.hpp"

namespace pgi::server {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;

constexpr int kChangesPage = 500;
constexpr const char *kHead =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-store\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n"
    "retry: 2000\n\n";

// A Last-Event-ID: digits only (the user's event ids), else 400.
std::optional<long long> last_event_id(const HttpRequest &request) {
  std::optional<std::string> text = request.header("Last-Event-ID");
  const char *where = "Last-Event-ID";
  if (!text) {
    auto q = request.query().find("last_event_id");
    if (q == request.query().end())
      return std::nullopt;
    text = q->second;
    where = "last_event_id";
  }
  bool digits = !text->empty() && text->size() <= 18 &&
                text->find_first_not_of("0123456789") == std::string::npos;
  if (!digits) {
    throw ApiFailure(http_error(400, std::string(where) + ": expected an event id (digits), got '" +
                                         text->substr(0, 40) + "'"));
  }
  return std::stoll(*text);
}

// The feed's "cannot resume the feed after event N" (SQLSTATE 22023) answers 400 over HTTP.
bool cannot_resume(const ApiError &error) {
  return error.status == 400 && error.message.rfind("cannot resume the feed", 0) == 0;
}

}  // namespace

SseSession::SseSession(RealtimeService &service, StreamHandoff &&handoff)
    : service_(service),
      stream_(std::make_shared<beast::tcp_stream>(std::move(handoff.stream))),
      buffer_(std::move(handoff.buffer)),
      request_(std::move(handoff.request)),
      ping_timer_(stream_->get_executor()),
      outbox_(service.config().stream_buffer_bytes) {}

SseSession::~SseSession() {
  if (admitted_)
    service_.hub().leave();
}

std::string SseSession::token() const {
  std::lock_guard<std::mutex> lock(token_mutex_);
  return token_;
}

void SseSession::start() {
  stream_->expires_never();
  if (!service_.hub().admit()) {
    ApiError error = http_error(503, "the server is at its stream limit; retry shortly");
    error.code = "too_many_streams";
    HttpResponse out = kNative.write_error(error);
    for (auto &[name, value] : out.headers) {
      if (name == "Retry-After")
        value = "5";
    }
    return write_and_close(stream_, out, service_.config().write_timeout_ms);
  }
  admitted_ = true;
  std::optional<std::string> token;
  std::string query;
  try {
    resume_after_ = last_event_id(request_);
    token = caller_token(request_, TokenSource::kBearerHeaderOrAccessToken);
    query = query_json(request_.query(), QueryRepeats::kListsOnly, "access_token");
  } catch (const ApiFailure &failure) {
    return refuse(failure.error());
  }
  {
    std::lock_guard<std::mutex> lock(token_mutex_);
    token_ = token.value_or("");
  }
  service_.call(stream_->get_executor(), sql::kStreamOpen, {token, query},
                [self = shared_from_this()](RealtimeService::Rows rows, const ApiError *error) {
                  if (error)
                    return self->refuse(*error);
                  const DbRow &row = rows.at(0);
                  self->opened(row.at(0).value_or(""), row.at(1), self->resume_after_);
                });
}

void SseSession::refuse(const ApiError &error) {
  closed_ = true;
  write_and_close(stream_, kNative.write_error(error), service_.config().write_timeout_ms);
}

void SseSession::opened(const std::string &user, std::optional<std::string> workspace,
                        std::optional<long long>) {
  user_ = user;
  workspace_ = std::move(workspace);
  auto self = shared_from_this();
  service_.hub().attach(self);
  service_.hub().subscribe(user_, self);
  subscribed_ = true;
  send(kHead);
  watch_client();
  ping();
  catch_up();
}

void SseSession::catch_up() {
  if (closed_ || finishing_)
    return;
  catching_ = true;
  ++service_.hub().stats.catch_ups;
  auto self = shared_from_this();
  if (!resume_after_ && position_ == 0) {
    // A new stream without Last-Event-ID: it starts at the head.
    return service_.call(stream_->get_executor(), sql::kStreamHead, {user_},
                         [self](RealtimeService::Rows rows, const ApiError *error) {
                           if (error)
                             return self->finish();
                           long long head = std::stoll(rows.at(0).at(0).value_or("0"));
                           self->caught_up({}, false, head, "", std::nullopt);
                         });
  }
  long long after = resume_after_.value_or(position_);
  service_.call(
      stream_->get_executor(), sql::kStreamChanges,
      {user_, std::to_string(after), std::to_string(kChangesPage)},
      [self, after](RealtimeService::Rows rows, const ApiError *error) {
        if (error && cannot_resume(*error)) {
          ++self->service_.hub().stats.resets;
          std::string reason = error->message;
          return self->service_.call(
              self->stream_->get_executor(), sql::kStreamHead, {self->user_},
              [self, reason](RealtimeService::Rows head_rows, const ApiError *head_error) {
                if (head_error)
                  return self->finish();
                long long head = std::stoll(head_rows.at(0).at(0).value_or("0"));
                self->caught_up({}, false, head, reason, std::nullopt);
              });
        }
        if (error)  // PostgreSQL is away: end cleanly, the client resumes with its last id
          return self->finish();
        std::vector<FeedEvent> events;
        for (const DbRow &row : rows)
          events.push_back(event_of(row, 0));
        bool more = rows.size() == static_cast<std::size_t>(kChangesPage);
        (void)after;
        self->caught_up(std::move(events), more, std::nullopt, "", std::nullopt);
      });
}

void SseSession::caught_up(std::vector<FeedEvent> events, bool more, std::optional<long long> head,
                           const std::string &reset_reason, std::optional<long long>) {
  if (closed_)
    return;
  if (head) {
    // No Last-Event-ID, or one the feed cannot resume from: go on from the head.
    if (resume_after_ && !reset_reason.empty())
      send(sse_reset(*head, reset_reason));
    position_ = *head;
  } else if (resume_after_) {
    position_ = *resume_after_;
  }
  resume_after_.reset();
  std::optional<long long> unread;
  for (const FeedEvent &e : events) {
    if (e.id <= position_)
      continue;
    position_ = e.id;
    take(e, unread);
  }
  if (unread)
    send(sse_unread_count(*unread));
  catching_ = false;
  if (more || service_.hub().seen(user_) > position_)
    catch_up();
}

void SseSession::deliver(std::shared_ptr<const UserEvents> events) {
  net::post(stream_->get_executor(),
            [self = shared_from_this(), events = std::move(events)] { self->on_events(*events); });
}

void SseSession::on_events(const UserEvents &batch) {
  if (closed_ || catching_ || finishing_)
    return;
  std::optional<long long> unread;
  for (const FeedEvent &e : batch.events) {
    if (e.id <= position_)
      continue;  // sent already
    if (e.id > position_ + 1) {
      // A gap: events this stream has not seen (it was catching up); read them in order.
      if (unread)
        send(sse_unread_count(*unread));
      return catch_up();
    }
    position_ = e.id;
    take(e, unread);
  }
  if (unread)
    send(sse_unread_count(*unread));
}

void SseSession::take(const FeedEvent &event, std::optional<long long> &unread) {
  if (workspace_ && event.workspace_id && *event.workspace_id != *workspace_)
    return;
  send(sse_event(event));
  ++service_.hub().stats.events_sent;
  // A workspace stream's count is that workspace's: the user's total does not say it.
  if (event.unread && !workspace_)
    unread = event.unread;
}

void SseSession::send(std::string text) {
  if (closed_)
    return;
  if (!outbox_.push(std::move(text))) {
    ++service_.hub().stats.slow_disconnects;
    log_line("stream of " + user_ + " closed: more than " +
             std::to_string(service_.config().stream_buffer_bytes) + " bytes unsent");
    return close();
  }
  flush();
}

void SseSession::flush() {
  const std::string *text = outbox_.take_all();
  if (text == nullptr) {
    if (finishing_ && outbox_.idle())
      close();
    return;
  }
  stream_->expires_after(std::chrono::milliseconds(service_.config().write_timeout_ms));
  net::async_write(*stream_, net::buffer(*text),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->stream_->expires_never();
                     self->outbox_.written();
                     if (ec)
                       return self->close();
                     self->flush();
                   });
}

void SseSession::ping() {
  ping_timer_.expires_after(std::chrono::milliseconds(service_.config().stream_ping_ms));
  ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_)
      return;
    self->send(": ping\n\n");
    self->ping();
  });
}

// The client sends nothing after its request; a read ends when it goes away.
void SseSession::watch_client() {
  if (buffer_.size() > 4096)
    buffer_.consume(buffer_.size());
  stream_->socket().async_read_some(
      buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        if (ec)
          return self->close();
        self->buffer_.commit(n);
        self->buffer_.consume(self->buffer_.size());
        self->watch_client();
      });
}

void SseSession::end() {
  net::post(stream_->get_executor(), [self = shared_from_this()] { self->finish(); });
}

void SseSession::finish() {
  if (closed_)
    return;
  finishing_ = true;
  if (outbox_.idle())
    close();
}

void SseSession::close() {
  if (closed_)
    return;
  closed_ = true;
  ping_timer_.cancel();
  if (subscribed_) {
    service_.hub().unsubscribe(user_, this);
    service_.hub().detach(this);
    subscribed_ = false;
  }
  beast::error_code ignored;
  stream_->socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_->close();
}

}  // namespace pgi::server
