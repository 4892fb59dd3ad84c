-- GET /notifications?limit=20 as a random user, on Directus (its static user token) or on
-- pg_inbox's Directus-compatible route (the same user's bearer token): BENCH_PEER_SIDE.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local directus = os.getenv("BENCH_PEER_SIDE") == "directus"
bench.run(function()
  local u = bench.pick(bench.data.users)
  return wrk.format("GET", "/notifications?limit=20", { ["Authorization"] = "Bearer " .. (directus and u[1] or u[3]) })
end)
