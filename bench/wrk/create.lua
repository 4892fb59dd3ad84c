-- POST /api/notifications: one notification for the caller, the body pgbench sends too.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
bench.run(function()
  local t = bench.pick(bench.data.tokens)
  local body = '{"userId": "' .. t[2] .. '", ' .. bench.data.create_fields .. '}'
  return wrk.format("POST", "/api/notifications",
    { ["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json" }, body)
end)
