-- GET /notifications/:id of one of the caller's own notifications, by its integer id (the same
-- on both: the Directus-compatible API shows pg_inbox's internal id, and the peer's copy keeps
-- it), on Directus or on pg_inbox as BENCH_PEER_SIDE says.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local directus = os.getenv("BENCH_PEER_SIDE") == "directus"
bench.run(function()
  local i = bench.pick(bench.data.items)
  return wrk.format("GET", "/notifications/" .. tostring(i[2]),
    { ["Authorization"] = "Bearer " .. (directus and i[1] or i[3]) })
end)
