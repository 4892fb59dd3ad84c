-- GET /healthz: the operations route, answered on the event loop without the database.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
bench.run(function()
  return wrk.format("GET", "/healthz")
end)
