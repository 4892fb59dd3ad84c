#!/usr/bin/env bash
# prepare.sh PREFIX DB: distributes a database of the Citus cluster PREFIX (scripts/citus.sh)
# that a suite has set up: the application tables its relations name become reference tables
# (a per-user query that reaches them runs on a worker, which must have them), inbox.distribute()
# runs, and on the workers any statement that would touch more than one shard fails
# (citus.multi_task_query_log_level = error: delegated calls and triggers run there).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${1:?prefix} db=${2:?database}
url() { local u; u=$("$ROOT/scripts/cluster.sh" url "$prefix-$1"); echo "${u%/*}/$db"; }
PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$(url coordinator)" <<SQL
SELECT pg_catalog.create_reference_table(pg_catalog.format('%I.%I', r.target_schema, r.target_table))
  FROM (SELECT DISTINCT target_schema, target_table FROM inbox.relations) AS r
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                    WHERE p.logicalrelid = pg_catalog.format('%I.%I', r.target_schema, r.target_table)::regclass);
SELECT inbox.distribute(${PG_INBOX_CITUS_SHARDS:-8});
SQL
for node in worker1 worker2; do
  # (Citus runs DDL only from the coordinator unless propagation is off.)
  psql -X -q -v ON_ERROR_STOP=1 -d "$(url "$node")" -c "SET citus.enable_ddl_propagation = off" \
    -c "ALTER DATABASE $db SET citus.multi_task_query_log_level = error" >/dev/null
done
