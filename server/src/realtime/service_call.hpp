// RealtimeService::call (realtime/service.hpp), a template.
#pragma once

#include <boost/asio/post.hpp>

#include "errors.hpp"
#include "log.hpp"

namespace pgi::server {

template <class Executor>
void RealtimeService::call(Executor executor, const char *statement,
                           std::vector<std::optional<std::string>> params,
                           std::function<void(Rows rows, const ApiError *error)> done) {
  pool_.call(DbCall{statement, std::move(params), true},
             std::chrono::milliseconds(config_.pool_wait_ms),
             [executor, done = std::move(done)](DbOutcome outcome) mutable {
               boost::asio::post(
                   executor, [done = std::move(done), outcome = std::move(outcome)]() mutable {
                     // A stream's handler runs on the event loop: whatever it throws ends there,
                     // logged.
                     try {
                       done(std::move(outcome.rows), outcome.error ? &*outcome.error : nullptr);
                     } catch (const std::exception &e) {
                       log_line(std::string("stream: unexpected error: ") + e.what());
                     }
                   });
             });
}

}  // namespace pgi::server
