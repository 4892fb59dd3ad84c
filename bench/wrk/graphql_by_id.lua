-- POST /graphql/system: notifications_by_id of one of a random token user's notifications, the id
-- as a variable (pgbench's graphql_by_id.ours.sql).
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local query = 'query ($id: ID!) { notifications_by_id(id: $id) { id timestamp status recipient sender subject message collection item } }'
bench.run(function()
  local i = bench.pick(bench.data.items)
  local body = '{"query": "' .. query .. '", "variables": {"id": "' .. tostring(i[2]) .. '"}}'
  return wrk.format("POST", "/graphql/system",
    { ["Authorization"] = "Bearer " .. i[1], ["Content-Type"] = "application/json" }, body)
end)
