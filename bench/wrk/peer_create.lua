-- POST /notifications: one notification in Directus's shape for a random user. Directus's
-- app-access users may not create notifications, so Directus gets its static admin token;
-- pg_inbox gets the user's token (it carries notifications:send).
local bench = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local directus = os.getenv("BENCH_PEER_SIDE") == "directus"
bench.run(function()
  local u = bench.pick(bench.data.users)
  local body = '{"recipient": "' .. (directus and u[2] or u[4]) .. '", ' ..
    '"subject": "Wei Chen mentioned you in comment #9182", ' ..
    '"message": "Can you confirm the export finished before the freeze?", ' ..
    '"collection": "comments", "item": "9182"}'
  return wrk.format("POST", "/notifications", {
    ["Authorization"] = "Bearer " .. (directus and bench.data.admin_token or u[3]),
    ["Content-Type"] = "application/json" }, body)
end)
