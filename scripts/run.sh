#!/usr/bin/env bash
# `make run`: everything installed and built, a private cluster with the extension in the
# database `pg_inbox`, the server on http://127.0.0.1:8080, a demo token, and curl lines.
# PG_INBOX_PORT (55432) and PORT (8080) change the ports. `make stop` stops both.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

pg_port=${PG_INBOX_PORT:-55432}
http_port=${PORT:-8080}

"$ROOT/scripts/deps.sh"
say "building"
make -s -j"$(nproc)"
as_root make -s install >/dev/null
say "starting the cluster in .pg/run (port $pg_port)"
"$ROOT/scripts/cluster.sh" start run "$pg_port"

psql_run() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }
psql_run -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'pg_inbox'" | grep -q 1 \
  || psql_run -d postgres -c 'CREATE DATABASE pg_inbox'
psql_run -d pg_inbox -c 'CREATE EXTENSION IF NOT EXISTS pg_inbox'
url="postgresql://postgres@127.0.0.1:$pg_port/pg_inbox"

pidfile=$ROOT/.pg/server.pid
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill "$(cat "$pidfile")" && sleep 1
fi
say "starting the server on 127.0.0.1:$http_port (log: .pg/server.log)"
nohup "$ROOT/server/pg_inbox_server" --database-url "$url" --port "$http_port" \
  >>"$ROOT/.pg/server.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null || { tail -20 "$ROOT/.pg/server.log"; exit 1; }

token=$(psql_run -d pg_inbox -tAc \
  "SELECT inbox.create_token('demo-user', ARRAY['notifications:read', 'notifications:write', 'notifications:send'])")
base="http://127.0.0.1:$http_port"
cat <<TXT

pg_inbox is running.
  database   psql "$url"
  server     $base   (pid $(cat "$pidfile"), log .pg/server.log)
  token      $token   (user demo-user: read, write, send)

Open the demo (the bell of demo-user, and a form that sends it notifications):
  $base/demo#token=$token&user=demo-user

Try:
  curl -s -X POST $base/api/notifications -H "Authorization: Bearer $token" \\
       -H 'Content-Type: application/json' -d '{"userId": "demo-user", "title": "Hello", "body": "First notification"}'
  curl -s "$base/api/notifications?limit=20" -H "Authorization: Bearer $token"
  curl -s $base/api/notifications/unread-count -H "Authorization: Bearer $token"
  curl -s -X POST $base/api/notifications -H "Authorization: Bearer $token" \\
       -H 'Content-Type: application/json' -d '{"userId": "demo-user", "type": "liked", "groupKey": "post:1", "actorId": "bob", "aggregate": true}'
  curl -s "$base/api/notifications/groups?limit=20" -H "Authorization: Bearer $token"   # Mastodon-style groups
  curl -s $base/api/notification-types -H "Authorization: Bearer $token"
  curl -s "$base/notifications?limit=5&meta=*" -H "Authorization: Bearer $token"     # Directus-compatible
  curl -N "$base/api/notifications/stream?access_token=$token"                     # live: server-sent events

Stop with: make stop
TXT
