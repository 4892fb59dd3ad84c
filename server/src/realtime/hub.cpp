#include "realtime/hub.hpp"

#include <algorithm>

namespace pgi::server {

bool Hub::admit() {
  std::size_t now = open_.load();
  do {
    if (now >= max_streams_) {
      ++stats.streams_refused;
      return false;
    }
  } while (!open_.compare_exchange_weak(now, now + 1));
  ++stats.streams_opened;
  return true;
}

void Hub::leave() {
  --open_;
}

void Hub::attach(const std::shared_ptr<Subscriber> &stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  streams_.emplace(stream.get(), stream);
}

void Hub::detach(const Subscriber *stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  streams_.erase(stream);
}

void Hub::subscribe(const std::string &user, const std::shared_ptr<Subscriber> &subscriber) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_user_[user].push_back(subscriber);
}

void Hub::unsubscribe(const std::string &user, const Subscriber *subscriber) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = by_user_.find(user);
  if (found == by_user_.end())
    return;
  Subscribers &list = found->second;
  list.erase(std::remove_if(list.begin(), list.end(),
                            [subscriber](const std::weak_ptr<Subscriber> &weak) {
                              std::shared_ptr<Subscriber> s = weak.lock();
                              return !s || s.get() == subscriber;
                            }),
             list.end());
  if (list.empty()) {
    by_user_.erase(found);
    seen_.erase(user);
  }
}

std::vector<std::string> Hub::subscribed(const std::vector<std::string> &users) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (by_user_.count("") > 0)
    return users;
  std::vector<std::string> out;
  for (const std::string &u : users) {
    if (by_user_.count(u) > 0)
      out.push_back(u);
  }
  return out;
}

long long Hub::seen(const std::string &user) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = seen_.find(user);
  return found == seen_.end() ? 0 : found->second;
}

std::vector<std::shared_ptr<Subscriber>> Hub::live(const Subscribers &list) const {
  std::vector<std::shared_ptr<Subscriber>> out;
  for (const auto &weak : list) {
    if (std::shared_ptr<Subscriber> s = weak.lock())
      out.push_back(std::move(s));
  }
  return out;
}

void Hub::publish(const std::vector<std::pair<std::string, long long>> &heads,
                  const std::vector<std::shared_ptr<const UserEvents>> &events) {
  std::vector<std::pair<std::shared_ptr<Subscriber>, std::shared_ptr<const UserEvents>>> out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &[user, head] : heads) {
      if (by_user_.count(user) == 0)
        continue;
      long long &seen = seen_[user];
      seen = std::max(seen, head);
    }
    auto everyone = by_user_.find("");
    for (const auto &batch : events) {
      auto found = by_user_.find(batch->user_id);
      if (found != by_user_.end()) {
        for (auto &s : live(found->second))
          out.emplace_back(std::move(s), batch);
      }
      if (everyone != by_user_.end()) {
        for (auto &s : live(everyone->second))
          out.emplace_back(std::move(s), batch);
      }
    }
  }
  // Outside the lock: deliver() posts to the subscriber's strand.
  for (auto &[subscriber, batch] : out)
    subscriber->deliver(batch);
}

std::vector<std::string> Hub::tokens() const {
  std::set<std::string> distinct;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &[id, weak] : streams_) {
      if (std::shared_ptr<Subscriber> s = weak.lock()) {
        std::string token = s->token();
        if (!token.empty())
          distinct.insert(std::move(token));
      }
    }
  }
  return {distinct.begin(), distinct.end()};
}

void Hub::revoke(const std::set<std::string> &revoked) {
  std::vector<std::shared_ptr<Subscriber>> ending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &[id, weak] : streams_) {
      std::shared_ptr<Subscriber> s = weak.lock();
      if (s && revoked.count(s->token()) > 0)
        ending.push_back(std::move(s));
    }
  }
  for (auto &s : ending) {
    ++stats.tokens_ended;
    s->end();
  }
}

void Hub::end_all() {
  std::vector<std::shared_ptr<Subscriber>> ending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &[id, weak] : streams_) {
      if (std::shared_ptr<Subscriber> s = weak.lock())
        ending.push_back(std::move(s));
    }
  }
  for (auto &s : ending)
    s->end();
}

}  // namespace pgi::server
