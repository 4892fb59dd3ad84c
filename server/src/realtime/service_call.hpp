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
  run([this, executor, statement, params = std::move(params), done = std::move(done)]() mutable {
    Rows rows;
    std::optional<ApiError> error;
    try {
      rows = call_database_rows(pool_, std::chrono::milliseconds(config_.pool_wait_ms),
                                DbCall{statement, params, true});
    } catch (const ApiFailure &failure) {
      error = failure.error();
    } catch (const std::exception &e) {
      error = http_error(500, "internal error");
    }
    boost::asio::post(executor, [done = std::move(done), rows = std::move(rows),
                                 error = std::move(error)]() mutable {
      // A stream's handler runs on the event loop: whatever it throws ends there, logged.
      try {
        done(std::move(rows), error ? &*error : nullptr);
      } catch (const std::exception &e) {
        log_line(std::string("stream: unexpected error: ") + e.what());
      }
    });
  });
}

}  // namespace pgi::server
