#!/usr/bin/env bash
# Builds an earlier commit's C code as a library of its own, pg_inbox_base.so, for
# bench/mastodon_cpu.sh and bench/mastodon_compare.sh to run BASE's C function beside the
# installed one (MASTODON_OLD_LIBRARY=pg_inbox_base; bench/mastodon_old.sh).
#
#   bench/mastodon_base_lib.sh BASE [LIBDIR]      (LIBDIR: pg_config --pkglibdir; for a private
#                                                  copy of PostgreSQL, its DESTDIR's)
#
# Needs the tree built (`make`): the files under extension/src that differ between BASE and the
# working tree are compiled from BASE, every other object is the tree's. Linked with -Bsymbolic
# (BASE's code calls its own functions, not the same-named ones of pg_inbox.so, which the backend
# loaded first) and without pg/module.o (no second _PG_init defining the same settings: its
# references resolve in pg_inbox.so, which must be loaded first; mastodon_old.sh LOADs it).
set -euo pipefail
base=${1:?base commit}
libdir=${2:-$(pg_config --pkglibdir)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive "$base" extension/src | tar -x -C "$work"
server=$(pg_config --includedir-server)
objs=()
for o in $(make -s -n -W extension/src/pg/module.cpp 2>/dev/null | grep -- '-o pg_inbox.so' |
  grep -oE 'extension/src/[a-z_]+/[a-z_]+\.o'); do
  [[ $o == extension/src/pg/module.o ]] && continue
  src=${o%.o}.cpp
  if [[ -f $work/$src ]] && ! cmp -s "$work/$src" "$src"; then
    g++ -std=c++17 -O2 -g -fPIC -I"$work/extension/src" -isystem "$server" \
      -I"$(pg_config --includedir)/internal" -D_GNU_SOURCE -c -o "$work/${src//\//_}.o" "$work/$src"
    objs+=("$work/${src//\//_}.o")
    echo "from $base: $src" >&2
  else
    objs+=("$o")
  fi
done
gcc -fPIC -shared -Wl,-Bsymbolic -o "$work/pg_inbox_base.so" "${objs[@]}" -lstdc++
install -m 755 "$work/pg_inbox_base.so" "$libdir/pg_inbox_base.so"
echo "$libdir/pg_inbox_base.so"
