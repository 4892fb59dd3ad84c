-- GET /api/v1/notifications?limit=40 (Mastodon) as a random user of the token set.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
bench.run(function()
  local t = bench.pick(bench.data.tokens)
  return wrk.format("GET", "/api/v1/notifications?limit=40", { ["Authorization"] = "Bearer " .. t[1] })
end)
