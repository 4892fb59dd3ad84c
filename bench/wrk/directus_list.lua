-- GET /notifications?limit=20 (the Directus REST route) as a random token user: the baseline of
-- the GraphQL list query.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
bench.run(function()
  local t = bench.pick(bench.data.tokens)
  return wrk.format("GET", "/notifications?limit=20", { ["Authorization"] = "Bearer " .. t[1] })
end)
