#!/usr/bin/env bash
# Delivery (issue 15), black-box with real parts: tests/delivery/delivery.test.mjs starts the
# server with its delivery workers, a real SMTP server (tests/delivery/smtp_sink.py on Debian's
# python3-aiosmtpd) and an HTTP receiver that verifies signatures with the standardwebhooks
# package, and checks e-mail, webhooks, retries, a kill -9 mid-delivery, preferences,
# unsubscribe and the digest. Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
export ROOT PGHOST PGPORT PGUSER
cd "$ROOT/tests"
[[ -d node_modules/standardwebhooks ]] || npm ci --silent >/dev/null 2>&1
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "not ok - python3-aiosmtpd is not installed (scripts/deps.sh installs it)"
  echo "0 passed, 1 failed"
  exit 1
fi

db=pg_inbox_delivery
export HTTP_DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
fresh_database "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL || exit 1
CREATE EXTENSION pg_inbox;
CREATE TABLE public.users (id text PRIMARY KEY, email text);
SELECT inbox.define_relation('recipient', 'userId', 'public.users', 'id');
-- E-mail on; webhooks may go to the receiver on loopback; the retry schedule in milliseconds.
ALTER DATABASE $db SET pg_inbox.email_column = 'email';
ALTER DATABASE $db SET pg_inbox.webhook_allow_private = on;
ALTER DATABASE $db SET pg_inbox.delivery_backoff_scale = 0.0005;
ALTER DATABASE $db SET pg_inbox.delivery_max_attempts = 5;
SQL
prepare_database "$db" || exit 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
export BASE_URL="http://127.0.0.1:$(free_port)" SMTP_PORT=$(free_port) RECEIVER_PORT=$(free_port)
export MAIL_DIR=$work/mail PYTHON=/usr/bin/python3

passed=0
failed=0
run_node_suites delivery/*.test.mjs
echo "$passed passed, $failed failed"
((failed == 0))
