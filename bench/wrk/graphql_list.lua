-- POST /graphql/system: a random token user's first 20 notifications (every field), the query
-- pgbench's graphql_list.ours.sql runs.
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local body = '{"query": "{ notifications(limit: 20) { id timestamp status recipient sender subject message collection item } }"}'
bench.run(function()
  local t = bench.pick(bench.data.tokens)
  return wrk.format("POST", "/graphql/system",
    { ["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json" }, body)
end)
