// What a stream has yet to send its client, bounded: messages queued by the stream's strand and
// written one write at a time. A client that lets more than --stream-buffer-bytes pile up (it
// does not read, or reads slower than its events come) is dropped, never buffered without bound.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

namespace pgi::server {

class Outbox {
 public:
  explicit Outbox(std::size_t limit) : limit_(limit) {}

  // False when the bytes waiting would pass the limit (the message is not kept).
  bool push(std::string message) {
    if (bytes_ + message.size() > limit_)
      return false;
    bytes_ += message.size();
    waiting_.push_back(std::move(message));
    return true;
  }
  // Starts the next write of a byte stream (SSE): every waiting message as one text; nullptr
  // when nothing waits or a write is on.
  const std::string *take_all() {
    if (busy_ || waiting_.empty())
      return nullptr;
    writing_.clear();
    for (std::string &m : waiting_)
      writing_ += m;
    waiting_.clear();
    busy_ = true;
    return &writing_;
  }
  // Starts the next write of a message stream (WebSocket): the first message.
  const std::string *take_one() {
    if (busy_ || waiting_.empty())
      return nullptr;
    writing_ = std::move(waiting_.front());
    waiting_.pop_front();
    busy_ = true;
    return &writing_;
  }
  // The write started by take_*() is done.
  void written() {
    bytes_ -= writing_.size();
    writing_.clear();
    if (writing_.capacity() > 65536)
      writing_.shrink_to_fit();
    busy_ = false;
  }
  bool idle() const { return !busy_ && waiting_.empty(); }

 private:
  const std::size_t limit_;
  std::size_t bytes_ = 0;  // waiting and being written
  std::deque<std::string> waiting_;
  std::string writing_;
  bool busy_ = false;
};

}  // namespace pgi::server
