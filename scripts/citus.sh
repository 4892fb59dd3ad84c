#!/usr/bin/env bash
# A Citus cluster for the scale-out tests (tests/citus.sh) and benchmark (bench/citus.sh): a
# coordinator and two workers, each a private cluster of scripts/cluster.sh on 127.0.0.1.
#
#   citus.sh install                 make citus.so available to the PostgreSQL in PG_BIN (exit 3,
#                                    with the reason on stderr, when it can be neither found nor built)
#   citus.sh start PREFIX PORT       start PREFIX-coordinator on PORT, PREFIX-worker1 and
#                                    PREFIX-worker2 on PORT+1 and PORT+2 (fresh)
#   citus.sh stop PREFIX             stop all three
#   citus.sh createdb PREFIX DB      (re)create DB on the three nodes, with Citus and its workers
#
# Where citus.so comes from, first found: the PostgreSQL in PG_BIN (a system install: the private
# root of `make test` links to it); a build cached in .pg/citus-build; else a build of CITUS_SRC
# (a source tree or a tarball) or of ../shared/vendor/citus-v13.2.2.tar.gz beside the checkout
# (../shared/vendor/README.md), about 90 s on two cores, installed with `make install DESTDIR=`
# into the private root only, never into the system. Debian has no Citus package; its build
# dependencies are installed by scripts/deps.sh only when a build is needed.
source "$(dirname "$0")/lib.sh"

cmd=${1:?usage: citus.sh install|start|stop|createdb ...}

pg_libdir() { echo "$("$PG_BIN/pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)"; }

# The private root of scripts/lib.sh (private_pg_root): PG_BIN is <root> + the system's bindir.
private_root() { echo "${PG_BIN%"$(pg_config --bindir)"}"; }

citus_tarball() {
  if [[ -n ${CITUS_SRC:-} ]]; then
    echo "$CITUS_SRC"
  else
    echo "$ROOT/../shared/vendor/citus-v13.2.2.tar.gz"
  fi
}

# Builds Citus into $1 (the build tree, kept for the next `make test`): unpacks, applies the one
# PostgreSQL 15.20 fix of ../shared/vendor/README.md to the copy, configures and compiles.
build_citus() {
  local tree=$1 src
  src=$(citus_tarball)
  if [[ ! -e $src ]]; then
    echo "no citus.so installed, and no Citus source to build it from: $src does not exist" >&2
    echo "(set CITUS_SRC to a Citus 13 source tree or tarball, or install Citus for PostgreSQL 15)" >&2
    return 3
  fi
  PG_INBOX_CITUS_BUILD=1 "$ROOT/scripts/deps.sh" >&2 || {
    echo "could not install Citus's build dependencies" >&2
    return 3
  }
  rm -rf "$tree" && mkdir -p "$tree"
  say "building Citus from $src (about 90 s on two cores)"
  if [[ -d $src ]]; then
    cp -a "$src/." "$tree/"
  else
    tar -xzf "$src" -C "$tree" --strip-components=1
  fi
  # PostgreSQL 15.20 declares have_createdb_privilege(); Citus 13.2.2 defines a static copy
  # for PostgreSQL < 16. Renaming the copy lets Citus's one caller use PostgreSQL's.
  if grep -q 'have_createdb_privilege' "$(pg_config --includedir-server)/commands/dbcommands.h" 2>/dev/null; then
    sed -i 's/^have_createdb_privilege(void)$/citus_unused_have_createdb_privilege(void)/' \
      "$tree/src/include/pg_version_compat.h"
  fi
  (cd "$tree" && ./configure PG_CONFIG="$(command -v pg_config)" >configure.log 2>&1 \
    && make -s -j"$(nproc)" with_llvm=no >make.log 2>&1) || {
    echo "the Citus build failed; the end of its log:" >&2
    tail -20 "$tree/make.log" "$tree/configure.log" 2>/dev/null >&2
    return 3
  }
  touch "$tree/.built"
}

case $cmd in
  install)
    root=$(private_root)
    libdir=$root$(pg_config --pkglibdir)
    [[ -e $libdir/citus.so ]] && exit 0
    if [[ -e $(pg_config --pkglibdir)/citus.so ]]; then
      # Installed in the system after the private root was made: link it as the root does.
      ln -sfn "$(pg_config --pkglibdir)"/citus*.so "$libdir/"
      ln -sfn "$(pg_config --sharedir)"/extension/citus* "$root$(pg_config --sharedir)/extension/"
      [[ -e $libdir/citus.so ]] && exit 0
    fi
    if [[ -z $root ]]; then
      echo "no citus.so in $libdir, and PG_BIN is the system's PostgreSQL: a build is installed only into a private root (scripts/lib.sh private_pg_root)" >&2
      exit 3
    fi
    tree=$(private_dir)/citus-build
    stamp=$(citus_tarball)
    if [[ ! -f $tree/.built ]] || [[ $(cat "$tree/.source" 2>/dev/null) != "$stamp" ]]; then
      build_citus "$tree" || exit 3
      echo "$stamp" >"$tree/.source"
    fi
    make -s -C "$tree" install with_llvm=no DESTDIR="$root" >/dev/null || {
      echo "could not install the Citus build into $root" >&2
      exit 3
    }
    chmod -R a+rX "$root"
    [[ -e $libdir/citus.so ]] || {
      echo "citus.so was not installed into $libdir" >&2
      exit 3
    }
    ;;
  start)
    prefix=${2:?prefix} port=${3:?port}
    i=0
    for node in coordinator worker1 worker2; do
      # A port of the ephemeral range can be held for a moment by an outgoing connection
      # (Citus opens many): try again before giving up.
      for try in 1 2 3 4; do
        "$ROOT/scripts/cluster.sh" start "$prefix-$node" $((port + i)) --fresh && break
        ((try < 4)) || exit 1
        sleep 3
      done
      as_cluster_owner tee -a "$(private_dir)/$prefix-$node/data/postgresql.auto.conf" >/dev/null <<CONF
shared_preload_libraries = 'citus'
shared_buffers = '256MB'
max_connections = 300
citus.shard_count = ${PG_INBOX_CITUS_SHARDS:-32}
# Loopback only: no TLS between the nodes (Citus would otherwise turn ssl on with a
# self-signed certificate, and clients of the coordinator would negotiate it too).
citus.node_conninfo = 'sslmode=disable'
# citus_stat_counters: how many statements ran on one shard and how many on several.
citus.enable_stat_counters = on
CONF
      "$ROOT/scripts/cluster.sh" restart "$prefix-$node"
      i=$((i + 1))
    done
    ;;
  stop)
    prefix=${2:?prefix}
    for node in coordinator worker1 worker2; do "$ROOT/scripts/cluster.sh" stop "$prefix-$node"; done
    ;;
  createdb)
    prefix=${2:?prefix} db=${3:?database}
    coordinator=$("$ROOT/scripts/cluster.sh" url "$prefix-coordinator")
    coordinator_port=${coordinator##*:} coordinator_port=${coordinator_port%%/*}
    for node in worker1 worker2 coordinator; do
      url=$("$ROOT/scripts/cluster.sh" url "$prefix-$node")
      PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$url" \
        -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
      psql -X -q -v ON_ERROR_STOP=1 -d "${url%/*}/$db" -c 'CREATE EXTENSION citus' >/dev/null || exit 1
    done
    {
      echo "SELECT pg_catalog.citus_set_coordinator_host('127.0.0.1', $coordinator_port);"
      for node in worker1 worker2; do
        url=$("$ROOT/scripts/cluster.sh" url "$prefix-$node")
        p=${url##*:} p=${p%%/*}
        echo "SELECT pg_catalog.citus_add_node('127.0.0.1', $p);"
      done
    } | PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "${coordinator%/*}/$db" >/dev/null || exit 1
    ;;
  *)
    echo "usage: citus.sh install|start|stop|createdb ..." >&2
    exit 2
    ;;
esac
