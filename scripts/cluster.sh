#!/usr/bin/env bash
# A private PostgreSQL cluster in .pg/NAME of the checkout, listening on 127.0.0.1 only.
#
#   cluster.sh start NAME PORT [--fresh]   start it (initdb on first use; --fresh starts over)
#   cluster.sh stop NAME                   stop it
#   cluster.sh restart NAME                restart it (the server tests use this)
#   cluster.sh url NAME [DB]               print its libpq URI
#
# Local connections are trusted: the cluster is bound to loopback and exists for development,
# tests and benchmarks. Root runs it as the `postgres` user; when that user cannot reach the
# checkout (say, under /root), the data lives in /var/tmp and .pg/NAME links to it.
source "$(dirname "$0")/lib.sh"

cmd=${1:?usage: cluster.sh start|stop|restart|url NAME [PORT]}
name=${2:?cluster name}
link=$ROOT/.pg/$name

data_dir() { echo "$(private_dir)/$name"; }

# (ALTER SYSTEM, which Citus runs at its first start, rewrites the value quoted: '55451'.)
port_of() { sed -n "s/^port = '\\?\\([0-9]*\\).*/\\1/p" "$(data_dir)/data/postgresql.auto.conf" 2>/dev/null | tail -1; }

case $cmd in
  start)
    port=${3:?port}
    dir=$(data_dir)
    if [[ ${4:-} == --fresh ]]; then
      [[ -f $dir/data/postmaster.pid ]] && as_cluster_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
      rm -rf "$dir"
    fi
    mkdir -p "$ROOT/.pg"
    if [[ $dir != "$link" ]]; then
      mkdir -p "$dir" && ln -sfn "$dir" "$link"
    fi
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    if [[ ! -f $dir/data/PG_VERSION ]]; then
      say "initdb $dir/data"
      as_cluster_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
      as_cluster_owner tee -a "$dir/data/postgresql.auto.conf" >/dev/null <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
shared_buffers = '512MB'
log_min_messages = warning
log_line_prefix = '%m [%p] '
CONF
    fi
    if ! as_cluster_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_cluster_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null
    fi
    ;;
  stop)
    dir=$(data_dir)
    [[ -d $dir/data ]] && as_cluster_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  restart)
    as_cluster_owner "$PG_BIN/pg_ctl" -D "$(data_dir)/data" -l "$(data_dir)/log" -m fast -w restart >/dev/null
    ;;
  url)
    echo "postgresql://postgres@127.0.0.1:$(port_of)/${3:-postgres}"
    ;;
  *)
    echo "usage: cluster.sh start|stop|restart|url NAME [PORT]" >&2
    exit 2
    ;;
esac
