#!/usr/bin/env bash
# The benchmark harness still works: `bench/run.sh smoke` (tiny data, 1-second runs) against
# the test cluster, then one check per step that it ran and produced numbers. No check looks
# at how fast anything was: the figures of a smoke run mean nothing, only their presence does.
# A step whose dependency is not built yet is reported as skipped (neither passed nor failed).
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
export PGHOST PGPORT PGUSER

# wrk and gnuplot are the benchmark's own packages: make test's set-up does not install them.
if ! command -v wrk >/dev/null || ! command -v gnuplot >/dev/null; then
  PG_INBOX_BENCH=1 "$ROOT/scripts/deps.sh"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A server port of its own, derived from the cluster's so that parallel `make test` runs differ.
export BENCH_EXTERNAL_PG=1 BENCH_WORK=$work BENCH_RESULTS=$work/results
export BENCH_SERVER_PORT=${BENCH_SERVER_PORT:-$((PGPORT - 30000))}

"$ROOT/bench/run.sh" smoke >"$work/run.log" 2>&1
status=$?
tail -5 "$work/run.log"

python3 - "$work" "$status" <<'PY'
import json, os, sys
work, status = sys.argv[1], int(sys.argv[2])
records = [json.loads(l) for l in open(os.path.join(work, "records.jsonl"))] if os.path.exists(
    os.path.join(work, "records.jsonl")) else []
meta = json.load(open(os.path.join(work, "meta.json"))) if os.path.exists(os.path.join(work, "meta.json")) else {}
passed = failed = 0

def check(ok, what):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what)
    if ok:
        passed += 1
    else:
        failed += 1

check(status == 0, "bench/run.sh smoke exits 0 (status %d)" % status)
s = meta.get("settings", {})
load = next((r for r in records if r.get("kind") == "load"), None)
expected_rows = s.get("users", 0) * s.get("per_user", 0) + s.get("heavy", 0)
check(load is not None and load["rows"] == expected_rows and load["rows_per_s"] > 0,
      "load: %s rows loaded (expected %d) with a rate" % (load and load["rows"], expected_rows))
check(load is not None and load.get("counters_exact") == "t", "load: the counters equal the rows")
check(load is not None and load["table_bytes"] > 0 and load["index_bytes"] > 0, "load: table and index sizes")

# Each step: skipped as a whole (its dependency is missing), or every side at every level
# recorded with numbers and no error.
steps = {}
for r in records:
    if r.get("kind") in ("pgbench", "wrk", "skip", "error"):
        steps.setdefault(r["step"], []).append(r)
expected = ["unread_count", "mark_read", "read_all", "create_one", "batch", "fan_out", "fan_out_objects",
            "list_first_page", "keyset_deep", "heavy_first_page", "offset_deep", "depth_curve",
            "filtered_list", "filtered_list_heavy", "filtered_list_heavy_total", "groups_heavy",
            "graphql_list", "graphql_by_id", "mastodon_groups_heavy", "http", "attack_healthz", "attack_list",
            "lc_read_all", "lc_read_all_update", "lc_unseen_count", "lc_unseen_count_marked", "lc_prune_create"]
for name in expected:
    rs = steps.get(name, [])
    if name == "depth_curve":
        rs = [r for k, v in steps.items() if k.startswith("depth_") for r in v] + rs
    if name == "http":
        rs = [r for k, v in steps.items() if k.startswith("http_") for r in v] + rs
    skips = [r for r in rs if r["kind"] == "skip"]
    errors = [r for r in rs if r["kind"] == "error"]
    measured = [r for r in rs if r["kind"] in ("pgbench", "wrk")]
    if skips and not measured and not errors:
        print("skip %s: %s" % (name, skips[0]["why"]))
        continue
    check(bool(measured) and not errors,
          "%s: %d measurements%s" % (name, len(measured), "; errors: " + "; ".join(
              "%s/%s c%s %s" % (e["step"], e.get("side"), e.get("clients"), e["why"]) for e in errors) if errors else ""))
    numbers = all((r.get("tps") or r.get("rps") or 0) > 0 and (r.get("p50_ms") is not None) for r in measured)
    check(numbers, "%s: every measurement has a rate and percentiles" % name)
    if name not in ("depth_curve", "http", "keyset_deep", "heavy_first_page", "offset_deep", "lc_read_all_update"):
        sides = {r["side"] for r in measured}
        check(sides == {"ours", "baseline"}, "%s: both ours and the baseline measured (%s)" % (name, sorted(sides)))

# The server under attack: the memory after the header floods, each flood answered 431.
if steps.get("attack_healthz"):
    flood = next((r for r in records if r.get("kind") == "rss" and r.get("step") == "flood_rss"), None)
    answers = json.loads(flood["answers"]) if flood and isinstance(flood.get("answers"), str) else {}
    check(flood is not None and flood.get("vmrss_kib", 0) > 0, "flood_rss: the memory after the header floods")
    check(answers.get("statuses") and all(s == 431 for s in answers["statuses"]),
          "flood_rss: every header flood answered 431 (%s)" % answers.get("statuses"))

# The lifecycle (issue 19): the prune removed exactly the expired fixture rows.
if any(r["kind"] == "pgbench" for r in steps.get("lc_prune_create", [])):
    prune = next((r for r in records if r.get("kind") == "prune"), None)
    check(prune is not None and prune["rows"] == prune["expected_rows"] and prune["rows_per_s"] > 0,
          "lc_prune: CALL inbox.prune() removed the %s expired rows (%s) with a rate" % (
              prune and prune["expected_rows"], prune and prune["rows"]))

out = os.path.join(work, "results")
report = json.load(open(os.path.join(out, "latest.json"))) if os.path.exists(os.path.join(out, "latest.json")) else None
check(report is not None and os.path.exists(os.path.join(out, "latest.md")), "report: latest.md and latest.json written")
if report is not None:
    rows = report["sql"] + report["http"]
    paired = [r for r in rows if r.get("ratio") is not None]
    check(len(paired) > 0 and all(r["ratio"] > 0 for r in paired), "report: %d rows with ratios" % len(paired))
    # Every target is judged where both of its sides were measured (the value is not checked).
    if any(r["kind"] == "pgbench" for r in steps.get("groups_heavy", [])):
        g = [r for r in report["sql"] if r["operation"].startswith("Grouped first page") and r["clients"] == 1]
        check(len(g) == 1 and g[0].get("result") in ("PASS", "FAIL"),
              "report: the grouped first page is judged against its 5 ms target (%s)" % (g and g[0].get("result")))
    # GraphQL through the server is judged against the Directus REST route on the same rows.
    for step in ("http_graphql_list", "http_graphql_by_id"):
        if any(r["kind"] == "wrk" for r in steps.get(step, [])):
            sides = {r["side"] for r in steps[step] if r["kind"] == "wrk"}
            check(sides == {"ours", "baseline"}, "%s: GraphQL and the REST route measured (%s)" % (step, sorted(sides)))
            g = [r for r in report["http"] if r.get("ratio") is not None and r["operation"].startswith(
                "POST /graphql/system { notifications%s" % ("(" if step.endswith("list") else "_by_id"))]
            check(len(g) > 0, "report: %s rows with ratios against the REST route (%d)" % (step, len(g)))
    for plot in ("depth.png", "http.png"):
        prefix = "depth_keyset_" if plot == "depth.png" else "http_"
        wanted = any(r["kind"] in ("pgbench", "wrk") for k, v in steps.items() if k.startswith(prefix) for r in v)
        if wanted:
            p = os.path.join(out, plot)
            check(os.path.exists(p) and open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "report: %s is a PNG" % plot)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
