-- PUT /api/notifications/{id}/read on a random unread notification of a token's user.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
bench.run(function()
  local t = bench.pick(bench.data.targets)
  return wrk.format("PUT", "/api/notifications/" .. t[2] .. "/read", { ["Authorization"] = "Bearer " .. t[1] })
end)
