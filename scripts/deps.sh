#!/usr/bin/env bash
# Installs what pg_inbox needs to build, run and test, from Debian's packages and npm.
# Installs only what is missing, so a second run does nothing.
source "$(dirname "$0")/lib.sh"

packages=(
  g++ make pkg-config
  postgresql-15 postgresql-server-dev-15 postgresql-contrib
  libpqxx-dev libboost1.81-dev nlohmann-json3-dev   # Boost: Beast and Asio, header-only
  curl
  python3   # bench/report.py (the benchmark smoke suite) and tests/upgrade/normalise_dump.py
  libcurl4-openssl-dev  # the server's delivery workers: webhooks (HTTP) and e-mail (SMTP)
  python3-aiosmtpd      # tests/delivery.sh: a real SMTP server that receives the e-mails
  chromium  # tests/stream/browser.test.mjs: EventSource in a real browser (puppeteer-core)
)
# The browser suite (tests/ui.sh): headless Chromium, driven by puppeteer-core (tests/package.json).
packages+=(chromium fonts-dejavu-core)
[[ ${PG_INBOX_BENCH:-} == 1 ]] && packages+=(wrk gnuplot-nox)
# Building Citus from source (tests/citus.sh, bench-citus; ../shared/vendor/README.md): asked for
# only when no citus.so is installed, so that a plain `make test` installs none of it.
[[ ${PG_INBOX_CITUS_BUILD:-} == 1 ]] && packages+=(
  libzstd-dev liblz4-dev libcurl4-openssl-dev libkrb5-dev libssl-dev libselinux1-dev
  libxslt1-dev libpam0g-dev libreadline-dev flex bison autoconf)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js runs the HTTP, Directus SDK and GraphQL test clients; any Node >= 18 will do.
if ! command -v node >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  missing+=(nodejs npm)
elif ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The test clients (node:test suites, @directus/sdk, graphql-js) are pinned in tests/package-lock.json.
if [[ -f $ROOT/tests/package.json ]]; then
  if [[ ! -d $ROOT/tests/node_modules ]] || [[ $ROOT/tests/package-lock.json -nt $ROOT/tests/node_modules ]]; then
    say "installing the test clients with npm"
    (cd "$ROOT/tests" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
fi
