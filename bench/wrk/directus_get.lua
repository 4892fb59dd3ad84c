-- GET /notifications/:id (the Directus REST route) of one of a random token user's
-- notifications: the baseline of GraphQL's notifications_by_id.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
bench.run(function()
  local i = bench.pick(bench.data.items)
  return wrk.format("GET", "/notifications/" .. tostring(i[2]), { ["Authorization"] = "Bearer " .. i[1] })
end)
