-- Shared by the wrk scripts: the fixture data (tokens and notification ids written by the
-- benchmark for this run), a fixed random seed per thread, and the summary line that
-- bench/lib.sh reads: exact percentiles from wrk's latency histogram, not its rounded text.
local M = {}

M.data = dofile(os.getenv("BENCH_WRK_DATA"))

local threads = 0
function M.setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

function M.init(args)
  math.randomseed(1000 + (thread_no or 0))
end

function M.pick(list)
  return list[math.random(#list)]
end

function M.done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, "mean_ms": %.3f, "p50_ms": %.3f, ' ..
    '"p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency.mean / 1000,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end

-- Installs the wrk callbacks around one request builder.
function M.run(build)
  setup = M.setup
  init = M.init
  done = M.done
  request = build
end

return M
