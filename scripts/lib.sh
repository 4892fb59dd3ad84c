# Shared by the scripts in this folder: where things are and how to run them.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# PG_BIN may come from the environment: `make test` points it at its private install root.
PG_BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}

# Root may install with apt-get and `make install` directly; anyone else goes through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# PostgreSQL refuses to run as root: root runs the cluster as the `postgres` system user.
as_cluster_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# A folder the cluster owner can read: the checkout's .pg, or one in /var/tmp named after the
# checkout when root's checkout is out of the `postgres` user's reach (say, under /root).
private_dir() {
  if [[ $(id -u) -ne 0 ]] || runuser -u postgres -- test -x "$ROOT"; then
    echo "$ROOT/.pg"
  else
    echo "/var/tmp/pg_inbox-$(echo "$ROOT" | md5sum | cut -c1-8)"
  fi
}

# A private copy of Debian's PostgreSQL with this checkout's build installed into it, so that
# tests never touch the system's extension files and two checkouts can test side by side.
# PostgreSQL is relocatable: a postgres binary finds its lib and share folders relative to
# its own path, so the tree is a copy of the (small) bin folder, links to every system file,
# and `make install DESTDIR=` on top. Prints the tree's bin folder.
private_pg_root() {
  local root bindir libdir sharedir
  root="$(private_dir)/pgroot"
  bindir=$(pg_config --bindir) libdir=$(pg_config --pkglibdir) sharedir=$(pg_config --sharedir)
  rm -rf "$root"
  mkdir -p "$root$(dirname "$bindir")" "$root$libdir" "$root$sharedir"
  cp -a "$bindir" "$root$bindir"
  (cd "$libdir" && find . -type d ! -name . -exec mkdir -p "$root$libdir/{}" \; \
    && find . ! -type d ! -name 'pg_inbox*' -exec ln -s "$libdir/{}" "$root$libdir/{}" \;)
  (cd "$sharedir" && find . -type d ! -name . -exec mkdir -p "$root$sharedir/{}" \; \
    && find . ! -type d ! -name 'pg_inbox*' -exec ln -s "$sharedir/{}" "$root$sharedir/{}" \;)
  make -C "$ROOT" -s install DESTDIR="$root" >/dev/null
  chmod -R a+rX "$root"
  echo "$root$bindir"
}
