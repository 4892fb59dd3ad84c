-- GET /notifications/:id of one of the caller's own notifications, on Directus (integer id) or
-- on pg_inbox (its public id for the same row): BENCH_PEER_SIDE.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local directus = os.getenv("BENCH_PEER_SIDE") == "directus"
bench.run(function()
  local i = bench.pick(bench.data.items)
  local path = "/notifications/" .. (directus and tostring(i[2]) or i[4])
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. (directus and i[1] or i[3]) })
end)
