# Sourced by bench/mastodon_compare.sh and bench/mastodon_cpu.sh: loads an earlier commit's
# Mastodon v2 functions beside the installed ones.
# shellcheck shell=bash
#
# load_old_mastodon URL BASE SCHEMA: the functions below, as `git show BASE:extension/sql/
# 65_mastodon.sql` has them, created in SCHEMA (dropped first) and calling each other there and
# everything else in inbox. A function BASE does not have is left out. A C function takes the
# installed library, or MASTODON_OLD_LIBRARY (pg_inbox_base: BASE's C code built and installed
# beside it by bench/mastodon_base_lib.sh) when BASE's C function differs from the installed
# one's; pg_inbox is LOADed first, as that library needs.
old_mastodon_functions=(_mastodon_scanned _mastodon_group_page _mastodon_page_groups _mastodon_grouped
  mastodon_groups mastodon_notifications mastodon_group)

load_old_mastodon() {
  local url=$1 base=$2 schema=$3 old f file
  old=$(git -C "$ROOT" show "$base:extension/sql/65_mastodon.sql") || return 1
  file=$(mktemp)
  {
    echo "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema; LOAD '\$libdir/pg_inbox';"
    for f in "${old_mastodon_functions[@]}"; do
      # The function's text, from its CREATE to the line closing its body.
      # A C function (LANGUAGE C, no body) ends at its LANGUAGE line and takes the installed library.
      awk -v f="inbox.$f(" 'index($0, "CREATE FUNCTION " f) == 1 { on = 1 } on { print } on && (/^\$\$;/ || /^LANGUAGE C.*;$/) { exit }' <<<"$old" |
        sed "s|'MODULE_PATHNAME'|'\$libdir/${MASTODON_OLD_LIBRARY:-pg_inbox}'|"
    done
  } >"$file"
  for f in "${old_mastodon_functions[@]}"; do
    sed -i "s/inbox\.$f(/$schema.$f(/g" "$file"
  done
  psql -X -qtA -v ON_ERROR_STOP=1 -d "$url" -c "SET client_min_messages = warning" -f "$file" >/dev/null
  local rc=$?
  rm -f "$file"
  return $rc
}
