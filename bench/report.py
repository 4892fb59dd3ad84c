#!/usr/bin/env python3
"""The benchmark's report: records (JSON lines) in, latest.md, latest.json and plots out.

Every figure in the table comes from records of one run: "ours" and "baseline" are paired
here, never taken from different runs. The peer comparison (Directus) comes from the run of
bench/peer.sh, which measures both of its sides itself; its rows say when they were measured.

Usage: report.py --work DIR --out DIR
  DIR/records.jsonl, DIR/meta.json   the run (bench/run.sh writes them)
  OUT/peer.jsonl, OUT/peer-meta.json the last peer run, if any
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_json(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


class Records:
    def __init__(self, records):
        self.records = records

    def find(self, step, side, clients=None, kind=None):
        for r in self.records:
            if r.get("step") != step or r.get("side", side) != side:
                continue
            if clients is not None and r.get("clients") != clients:
                continue
            if kind is not None and r.get("kind") != kind:
                continue
            return r
        return None

    def problem(self, step, side=None, clients=None):
        """Why a measurement is missing: the skip or error record of its step (or of the whole
        HTTP or peer section, recorded as step "http" or "peer")."""
        names = {step, step.split("_")[0]} if step.startswith(("http_", "peer_")) else {step}
        for r in self.records:
            if r.get("kind") not in ("skip", "error") or r.get("step") not in names:
                continue
            if side is not None and r.get("side") not in (None, side):
                continue
            if clients is not None and r.get("clients") not in (None, clients):
                continue
            return "%s: %s" % ("skipped" if r["kind"] == "skip" else "error", r.get("why", "?"))
        return None

    def levels(self, step, side, kind):
        return sorted({r["clients"] for r in self.records
                       if r.get("step") == step and r.get("side") == side and r.get("kind") == kind})


def fmt_num(x, digits=0):
    if x is None:
        return "–"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{}f}".format(x, digits)


def fmt_ms(x):
    if x is None:
        return "–"
    if x >= 100:
        return "%.0f ms" % x
    if x >= 10:
        return "%.1f ms" % x
    return "%.3f ms" % x


def evaluate(ratio, target):
    if target is None or ratio is None or target[0] == "ms<":
        return ""
    op, limit = target
    ok = ratio <= limit if op == "<=" else ratio >= limit
    return "PASS" if ok else "FAIL"


def target_text(target, note=""):
    if target is None:
        return "–"
    op, limit = target
    if op == "ms<":
        return "< %g ms at 1 client (server time)" % limit
    return "%s %s%s" % ("≤" if op == "<=" else "≥", ("%g" % limit), note)


def sql_rows(rec, settings):
    """The SQL-level comparisons: mean latency (ms) of ours against the baseline."""
    deep = settings.get("deep", 50000)
    n = settings.get("users", 10000)
    readall = settings.get("readall_rows", 10000)
    batch = settings.get("batch", 100)
    big = settings.get("big_readall", 100000)
    unseen = settings.get("unseen", 50)
    spec = [
        ("First page (20 rows) of the default list, random user",
         ("list_first_page", "ours"), ("list_first_page", "baseline"), "hand-written SELECT ... LIMIT 20", None, ""),
        ("Keyset page at depth {:,} vs the first page (heavy user)".format(deep),
         ("keyset_deep", "ours"), ("heavy_first_page", "ours"), "first page, same user", ("<=", 1.5), ""),
        ("Keyset page at depth {:,} vs LIMIT/OFFSET at the same depth (contrast)".format(deep),
         ("keyset_deep", "ours"), ("offset_deep", "baseline"), "hand-written LIMIT 20 OFFSET {:,}".format(deep), None, ""),
        ("Filtered list (nested AND/OR filter), random user",
         ("filtered_list", "ours"), ("filtered_list", "baseline"), "hand-written SQL", ("<=", 1.2), ""),
        ("Filtered list (nested AND/OR filter), heavy user",
         ("filtered_list_heavy", "ours"), ("filtered_list_heavy", "baseline"), "hand-written SQL", ("<=", 1.2), ""),
        ("Filtered list, heavy user, with the exact pageInfo.total (the default; informational)",
         ("filtered_list_heavy_total", "ours"), ("filtered_list_heavy_total", "baseline"),
         "hand-written SQL + count(*) total", None, ""),
        ("Grouped first page (20 groups), heavy user",
         ("groups_heavy", "ours"), ("groups_heavy", "baseline"), "hand-written GROUP BY",
         ("ms<", 5.0), ""),
        ("Mastodon v2 grouped page (40 groups, accounts, statuses) vs its first ungrouped page, heavy user",
         ("mastodon_groups_heavy", "ours"), ("mastodon_groups_heavy", "baseline"),
         "GET /api/v1/notifications?limit=40's function, same user", ("<=", 2.0), ""),
        ("Unread count, heavy user",
         ("unread_count", "ours"), ("unread_count", "baseline"), "SELECT count(*) ... WHERE read_at IS NULL",
         ("<=", 0.05), " (≥ 20x faster)"),
        ("GraphQL list query (20 notifications, every field), random token user",
         ("graphql_list", "ours"), ("graphql_list", "baseline"),
         "the Directus REST route's function (inbox.directus_read, GET /notifications?limit=20)", None, ""),
        ("GraphQL notifications_by_id (every field), random token user",
         ("graphql_by_id", "ours"), ("graphql_by_id", "baseline"),
         "the Directus REST route's function (inbox.directus_read_one, GET /notifications/:id)", None, ""),
        ("Mark one read", ("mark_read", "ours"), ("mark_read", "baseline"), "hand-written UPDATE", None, ""),
        ("Read-all, user with {:,} unread".format(readall),
         ("read_all", "ours"), ("read_all", "baseline"), "hand-written UPDATE", None, ""),
        ("Create one", ("create_one", "ours"), ("create_one", "baseline"), "hand-written INSERT", None, ""),
        ("Create a batch of {:,}".format(batch), ("batch", "ours"), ("batch", "baseline"),
         "hand-written INSERT ... SELECT", None, ""),
        ("Fan-out to {:,} recipients (inbox.fan_out_count)".format(n), ("fan_out", "ours"), ("fan_out", "baseline"),
         "hand-written INSERT ... SELECT", ("<=", 1.5), ""),
        ("Fan-out to {:,} recipients returning them (inbox.fan_out; informational)".format(n),
         ("fan_out_objects", "ours"), ("fan_out_objects", "baseline"),
         "hand-written INSERT ... SELECT RETURNING the same JSON", None, ""),
        # Issue 14: the change feed's cost (a latency ratio of 1.18 is 0.85x the throughput).
        ("Create one, with the change feed", ("feed_create_one", "ours"), ("feed_create_one", "baseline"),
         "the same without it (inbox.feed = off)", ("<=", 1.18), " (≥ 0.85x the throughput)"),
        ("Fan-out to {:,} recipients, with the change feed".format(n), ("feed_fan_out", "ours"),
         ("feed_fan_out", "baseline"), "the same without it (inbox.feed = off)", ("<=", 1.18),
         " (≥ 0.85x the throughput)"),
        ("Read-all, user with {:,} unread: one notification.read_all summary (informational)".format(readall),
         ("feed_read_all", "ours"), ("feed_read_all", "baseline"), "one event a row (no summary threshold)", None, ""),
        ("Create one while one poller calls inbox.poll_events every 5 ms (the choice)",
         ("feed_wake", "ours"), ("feed_wake", "baseline"), "create + NOTIFY at commit, one LISTEN session",
         None, ""),
        # Issue 19: the lifecycle (bench/steps.sh step_lifecycle).
        ("Read-all (a read mark), user with {:,} unread vs a user with 10".format(big),
         ("lc_read_all", "ours"), ("lc_read_all", "baseline"), "the same read-all, user with 10 unread",
         ("<=", 2.0), ""),
        ("Read-all (a read mark), user with {:,} unread vs the hand-written UPDATE".format(big),
         ("lc_read_all", "ours"), ("lc_read_all_update", "baseline"), "hand-written UPDATE of the same rows",
         ("<=", 0.01), " (≥ 100x faster)"),
        ("Unseen count, heavy user, before any seen mark",
         ("lc_unseen_count", "ours"), ("lc_unseen_count", "baseline"), "SELECT count(*) of the same rows",
         ("<=", 0.05), " (≥ 20x faster)"),
        ("Unseen count, heavy user, {:,} unseen after a seen mark (informational)".format(unseen),
         ("lc_unseen_count_marked", "ours"), ("lc_unseen_count_marked", "baseline"),
         "SELECT count(*) of the same rows", None, ""),
    ]
    rows = []
    for op, ours_key, base_key, base_label, target, note in spec:
        levels = sorted(set(rec.levels(*ours_key, "pgbench")) | set(rec.levels(*base_key, "pgbench"))) or [None]
        for c in levels:
            o = rec.find(*ours_key, clients=c, kind="pgbench") if c is not None else None
            b = rec.find(*base_key, clients=c, kind="pgbench") if c is not None else None
            row = {"operation": op, "level": "sql", "clients": c, "metric": "mean latency (ms)",
                   "baseline_is": base_label, "target": target_text(target, note)}
            if o and b:
                ratio = o["lat_ms"] / b["lat_ms"]
                row.update(ours=o["lat_ms"], baseline=b["lat_ms"], ratio=ratio,
                           ours_tps=o["tps"], baseline_tps=b["tps"], result=evaluate(ratio, target),
                           ours_cell="%s (%s/s)" % (fmt_ms(o["lat_ms"]), fmt_num(o["tps"])),
                           baseline_cell="%s (%s/s)" % (fmt_ms(b["lat_ms"]), fmt_num(b["tps"])),
                           loadavg=o.get("loadavg"))
                if target is not None and target[0] == "ms<":
                    # An absolute target: one client's mean latency is the server's time per call
                    # (plus a loopback round trip); more clients show how it holds under load.
                    row["result"] = ("PASS" if o["lat_ms"] < target[1] else "FAIL") if c == 1 else ""
            elif o and rec.find(*base_key, clients=c, kind="lower_bound"):
                # The baseline ran out of its time: the ratio is at most ours ÷ that time.
                lb = rec.find(*base_key, clients=c, kind="lower_bound")
                ratio = o["lat_ms"] / lb["lat_ms"]
                row.update(ours=o["lat_ms"], baseline=lb["lat_ms"], ratio=ratio, ours_tps=o["tps"],
                           result=evaluate(ratio, target), loadavg=o.get("loadavg"),
                           ours_cell="%s (%s/s)" % (fmt_ms(o["lat_ms"]), fmt_num(o["tps"])),
                           baseline_cell="> %s (%s)" % (fmt_ms(lb["lat_ms"]), lb.get("why", "")))
            else:
                why = rec.problem(ours_key[0] if not o else base_key[0], clients=c) or "not measured"
                row.update(ours=None, baseline=None, ratio=None, result=why,
                           ours_cell=("%s" % fmt_ms(o["lat_ms"])) if o else "–",
                           baseline_cell=("%s" % fmt_ms(b["lat_ms"])) if b else "–")
            rows.append(row)
        if ours_key[0] == "fan_out":
            rows.extend(fan_out_rate_rows(rec, n))
    return rows


def fan_out_rate_rows(rec, recipients):
    rows = []
    for c in rec.levels("fan_out", "ours", "pgbench"):
        o = rec.find("fan_out", "ours", clients=c, kind="pgbench")
        b = rec.find("fan_out", "baseline", clients=c, kind="pgbench")
        rate = o["tps"] * recipients
        base_rate = b["tps"] * recipients if b else None
        rows.append({"operation": "Fan-out rate (notifications/s)", "level": "sql", "clients": c,
                     "metric": "notifications/s", "baseline_is": "hand-written INSERT ... SELECT",
                     "ours": rate, "baseline": base_rate, "ratio": (rate / base_rate) if base_rate else None,
                     "target": "≥ 50,000/s", "result": "PASS" if rate >= 50000 else "FAIL",
                     "ours_cell": "%s/s" % fmt_num(rate), "baseline_cell": ("%s/s" % fmt_num(base_rate)) if b else "–",
                     "loadavg": o.get("loadavg")})
    return rows


def prune_rows(rec, settings):
    """Issue 19: CALL inbox.prune() over the expired fixture rows (rows/s), and create's p99
    latency while it runs against the same without it (goal ≤ 2x)."""
    rows = []
    p = rec.find("lc_prune", None, kind="prune")
    if p:
        exact = p.get("rows") == p.get("expected_rows")
        rows.append({"operation": "Prune (CALL inbox.prune(), expired rule): {:,} rows".format(p["rows"]),
                     "level": "sql", "clients": None, "metric": "rows/s", "baseline_is": "–",
                     "ours": p["rows_per_s"], "baseline": None, "ratio": None, "target": "–",
                     "result": "" if exact else "FAIL (removed %s of %s)" % (p.get("rows"), p.get("expected_rows")),
                     "ours_cell": "%s rows/s (%.1f s)" % (fmt_num(p["rows_per_s"]), p["seconds"]),
                     "baseline_cell": "–"})
    o = rec.find("lc_prune_create", "ours", kind="pgbench")
    b = rec.find("lc_prune_create", "baseline", kind="pgbench")
    row = {"operation": "Create one while inbox.prune runs: p99 latency", "level": "sql",
           "clients": o and o["clients"], "metric": "p99 latency (ms)",
           "baseline_is": "create one, no prune running", "target": "≤ 2",
           "ours": None, "baseline": None, "ratio": None, "ours_cell": "–", "baseline_cell": "–"}
    if o and b and b.get("p99_ms"):
        ratio = o["p99_ms"] / b["p99_ms"]
        row.update(ours=o["p99_ms"], baseline=b["p99_ms"], ratio=ratio, loadavg=o.get("loadavg"),
                   result=evaluate(ratio, ("<=", 2.0)) if p and p.get("outlasted_creates") == "yes"
                   else "not judged: the prune ended before the creates did",
                   ours_cell="p99 %s (mean %s)" % (fmt_ms(o["p99_ms"]), fmt_ms(o["lat_ms"])),
                   baseline_cell="p99 %s (mean %s)" % (fmt_ms(b["p99_ms"]), fmt_ms(b["lat_ms"])))
    else:
        row["result"] = rec.problem("lc_prune") or rec.problem("lc_prune_create") or "not measured"
    rows.append(row)
    return rows


def per_second(r):
    """Requests/s of a wrk record, transactions/s of a pgbench record."""
    return r["rps"] if r["kind"] == "wrk" else r["tps"]


def failed_requests(*records):
    return sum(r.get("non2xx", 0) + r.get("socket_errors", 0) for r in records if r.get("kind") == "wrk")


def throughput_rows(rec, routes, level, base_kind, base_is, missing="not measured"):
    """Routes measured with wrk (ours) against a baseline at the same concurrency: pgbench on the
    same SQL function, or the peer under the same wrk load. ratio = ours/s ÷ baseline/s."""
    rows = []
    for step, route, target in routes:
        levels = sorted(set(rec.levels(step, "ours", "wrk")) | set(rec.levels(step, "baseline", base_kind)))
        for c in levels or [None]:
            o = rec.find(step, "ours", clients=c, kind="wrk") if c is not None else None
            b = rec.find(step, "baseline", clients=c, kind=base_kind) if c is not None else None
            row = {"operation": route, "level": level, "clients": c, "metric": "requests/s",
                   "baseline_is": base_is, "target": target_text(target),
                   "ours": None, "baseline": None, "ratio": None, "ours_cell": "–", "baseline_cell": "–"}
            if o and b:
                ratio = per_second(o) / per_second(b) if per_second(b) else None
                errors = failed_requests(o, b)
                row.update(ours=per_second(o), baseline=per_second(b), ratio=ratio, errors=errors,
                           result=evaluate(ratio, target) if not errors else "FAIL (%d failed requests)" % errors,
                           ours_p50_ms=o["p50_ms"], ours_p99_ms=o["p99_ms"],
                           baseline_p50_ms=b.get("p50_ms"), baseline_p99_ms=b.get("p99_ms"),
                           ours_cell=rate_cell(o), baseline_cell=rate_cell(b), loadavg=o.get("loadavg"))
            else:
                row["result"] = rec.problem(step, clients=c) or missing
            rows.append(row)
    return rows


def rate_cell(r):
    return "%s/s (p50 %s, p99 %s)" % (fmt_num(per_second(r)), fmt_ms(r.get("p50_ms")), fmt_ms(r.get("p99_ms")))


def rss_row(rec, step, side, label, limit_mib=None):
    r = rec.find(step, side, kind="rss")
    if not r:
        return []
    mib = r["vmhwm_kib"] / 1024
    cell = "%.1f MiB" % mib
    return [{"operation": label, "level": "memory", "clients": None, "metric": "MiB",
             "ours": mib if side == "ours" else None, "baseline": mib if side == "baseline" else None,
             "ratio": None, "target": "< %d MiB" % limit_mib if limit_mib else "–",
             "result": ("PASS" if mib < limit_mib else "FAIL") if limit_mib else "",
             "ours_cell": cell if side == "ours" else "–", "baseline_cell": cell if side == "baseline" else "–",
             "baseline_is": "–" if side == "ours" else "Directus"}]


HTTP_ROUTES = [
    ("http_list", "GET /api/notifications?limit=20", (">=", 0.70)),
    ("http_unread_count", "GET /api/notifications/unread-count", None),
    ("http_mark_read", "PUT /api/notifications/{id}/read", None),
    ("http_create", "POST /api/notifications", None),
    ("http_mastodon_list", "GET /api/v1/notifications?limit=40 (Mastodon)", (">=", 0.8)),
    ("http_mastodon_groups", "GET /api/v2/notifications?limit=40 (Mastodon, grouped, accounts expanded)", (">=", 0.8)),
]


def attack_rows(rec, settings):
    """The server under attack (issue 13): the same wrk load with idle and slowloris connections
    held ("ours") and without ("baseline"); the goal is within 1.2x. Then the memory after
    parallel header floods."""
    held = "%s idle + %s slowloris connections held" % (
        fmt_num(settings.get("hold_idle")), fmt_num(settings.get("hold_slow")))
    rows = []
    for step, route, metric, worse_is in (("attack_healthz", "GET /healthz p99", "p99_ms", "higher"),
                                          ("attack_list", "GET /api/notifications?limit=20", "rps", "lower")):
        o = rec.find(step, "ours", kind="wrk")
        b = rec.find(step, "baseline", kind="wrk")
        row = {"operation": "%s, %s" % (route, held), "level": "attack", "clients": o and o["clients"],
               "metric": metric, "baseline_is": "none held", "ours": None, "baseline": None, "ratio": None,
               "ours_cell": "–", "baseline_cell": "–",
               "target": "≤ 1.2" if worse_is == "higher" else "≥ 0.83 (1/1.2)"}
        if o and b and b.get(metric):
            ratio = o[metric] / b[metric]
            target = ("<=", 1.2) if worse_is == "higher" else (">=", 1 / 1.2)
            errors = failed_requests(o, b)
            row.update(ours=o[metric], baseline=b[metric], ratio=ratio, errors=errors,
                       result=evaluate(ratio, target) if not errors else "FAIL (%d failed requests)" % errors,
                       ours_cell=rate_cell(o), baseline_cell=rate_cell(b), loadavg=o.get("loadavg"))
        else:
            row["result"] = rec.problem(step) or "not measured"
        rows.append(row)
    r = rec.find("flood_rss", "ours", kind="rss")
    if r:
        mib = r["vmrss_kib"] / 1024
        rows.append({"operation": "Server resident memory after %s parallel %s MiB header floods" % (
                         r.get("floods"), r.get("flood_mib")),
                     "level": "memory", "clients": None, "metric": "MiB", "ours": mib, "baseline": None,
                     "ratio": None, "target": "< 64 MiB", "result": "PASS" if mib < 64 else "FAIL",
                     "ours_cell": "%.1f MiB (peak %.1f MiB)" % (mib, r["vmhwm_kib"] / 1024),
                     "baseline_cell": "–", "baseline_is": "–"})
    return rows


# GraphQL through the server against the Directus REST route reading the same rows, both under wrk.
GRAPHQL_ROUTES = [
    ("http_graphql_list", "POST /graphql/system { notifications(limit: 20) }",
     "GET /notifications?limit=20 (wrk, same server)"),
    ("http_graphql_by_id", "POST /graphql/system { notifications_by_id(id) }",
     "GET /notifications/:id (wrk, same server)"),
]


def http_rows(rec, settings=None):
    """The server (wrk) against pgbench calling the same SQL function at the same concurrency;
    GraphQL against the Directus REST route, both through the server; the server under attack."""
    graphql = []
    for step, route, base_is in GRAPHQL_ROUTES:
        graphql += throughput_rows(rec, [(step, route, None)], "http", "wrk", base_is)
    return (throughput_rows(rec, HTTP_ROUTES, "http", "pgbench", "pgbench, same SQL function") + graphql
            + rss_row(rec, "server_rss", "ours", "Server peak resident memory (VmHWM)", 64)
            + attack_rows(rec, settings or {}))


PEER_ROUTES = [
    ("peer_list", "GET /notifications?limit=20", (">=", 10.0)),
    ("peer_get", "GET /notifications/:id", None),
    ("peer_create", "POST /notifications", None),
    ("peer_create_email", "POST /notifications, e-mail on create (issue 15)", (">=", 10.0)),
]


def mail_rows(rec):
    """The e-mail step's e-mails: how many of each side's creates reached its SMTP server, and how
    long after the load the last one arrived (Directus sends without waiting; pg_inbox's delivery
    worker sends from the outbox)."""
    rows = []
    for side, who in (("ours", "pg_inbox"), ("baseline", "Directus")):
        r = rec.find("peer_create_email", side, kind="mail")
        if not r:
            continue
        cell = "%s of %s creates mailed, the last %.1f s after the load" % (
            fmt_num(r["mails"]), fmt_num(r["creates"]), r["drain_s"])
        rows.append({"operation": "%s e-mails received by its SMTP server (%s)" % (who, r.get("smtp", "?")),
                     "level": "peer", "clients": None, "metric": "e-mails",
                     "ours": r["mails"] if side == "ours" else None,
                     "baseline": r["mails"] if side == "baseline" else None, "ratio": None,
                     "target": "every create", "result": "PASS" if r["mails"] >= r["creates"] else "FAIL",
                     "ours_cell": cell if side == "ours" else "–", "baseline_cell": cell if side == "baseline" else "–",
                     "baseline_is": "–" if side == "ours" else "Directus"})
    return rows


def peer_rows(rec):
    """pg_inbox's Directus-compatible routes against Directus itself, same data, same run."""
    return (throughput_rows(rec, PEER_ROUTES, "peer", "wrk", "Directus", "not measured (run make bench-peer)")
            + mail_rows(rec)
            + rss_row(rec, "server_rss", "ours", "pg_inbox server peak resident memory (VmHWM)")
            + rss_row(rec, "directus_rss", "baseline", "Directus peak resident memory (VmHWM)"))


def baseline_cell(row):
    what, cell = row.get("baseline_is", "–"), row.get("baseline_cell", "–")
    return what if cell == "–" else "%s: %s" % (what, cell)


def md_table(rows):
    out = ["| operation | clients | ours | baseline | ratio | target | result |",
           "|---|---:|---|---|---:|---|---|"]
    for r in rows:
        ratio = "–" if r.get("ratio") is None else ("%.3f" % r["ratio"] if r["ratio"] < 0.1 else "%.2f" % r["ratio"])
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            r["operation"], "–" if r.get("clients") is None else r["clients"], r.get("ours_cell", "–"),
            baseline_cell(r),
            ratio, r.get("target", "–"), r.get("result") or "–"))
    return "\n".join(out)


def write_plots(rec, work, out):
    """PNG plots through gnuplot: latency by page depth, server req/s against direct SQL."""
    made = []
    depth = []
    for r in rec.records:
        if r.get("kind") == "pgbench" and "depth" in r and r["step"].startswith("depth_keyset_"):
            off = rec.find("depth_offset_%d" % r["depth"], "baseline", kind="pgbench")
            depth.append((r["depth"], r["lat_ms"], off["lat_ms"] if off else None))
    if depth:
        dat = os.path.join(work, "depth.dat")
        with open(dat, "w") as f:
            f.write("depth keyset offset\n")
            for d, k, o in sorted(depth):
                f.write("%d %.4f %s\n" % (d, k, "%.4f" % o if o is not None else "NaN"))
        png = os.path.join(out, "depth.png")
        subprocess.run(["gnuplot", "-e", "data='%s'; out='%s'" % (dat, png), os.path.join(HERE, "plots", "depth.gp")],
                       check=True)
        made.append("depth.png")
    levels = sorted({r["clients"] for r in rec.records if r.get("kind") == "wrk" and r["step"].startswith("http_")})
    if levels:
        dat = os.path.join(work, "http.dat")
        names = [(step, route) for step, route, _ in HTTP_ROUTES]
        with open(dat, "w") as f:
            f.write("connections " + " ".join('"%s (server)" "%s (pgbench)"' % (route, route) for _, route in names) + "\n")
            for c in levels:
                cells = []
                for step, _ in names:
                    o = rec.find(step, "ours", clients=c, kind="wrk")
                    b = rec.find(step, "baseline", clients=c, kind="pgbench")
                    cells.append("%.1f" % o["rps"] if o else "NaN")
                    cells.append("%.1f" % b["tps"] if b else "NaN")
                f.write("%d %s\n" % (c, " ".join(cells)))
        png = os.path.join(out, "http.png")
        subprocess.run(["gnuplot", "-e", "data='%s'; out='%s'; series=%d" % (dat, png, len(names)),
                        os.path.join(HERE, "plots", "http.gp")], check=True)
        made.append("http.png")
    return made


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    # (make bench-peer may run before any make bench: its plots' data files still need a place.)
    os.makedirs(args.work, exist_ok=True)
    records = load_jsonl(os.path.join(args.work, "records.jsonl"))
    meta = load_json(os.path.join(args.work, "meta.json"), {})
    if not records:
        # The run's raw records are gone (bench/data is scratch): keep the published ones.
        previous = load_json(os.path.join(args.out, "latest.json"), {})
        records, meta = previous.get("records", []), previous.get("meta", {})
    peer_records = load_jsonl(os.path.join(args.out, "peer.jsonl"))
    peer_meta = load_json(os.path.join(args.out, "peer-meta.json"), None)
    rec = Records(records)
    settings = meta.get("settings", {})

    load = rec.find("load", None, kind="load")
    sql = sql_rows(rec, settings) + prune_rows(rec, settings)
    http = http_rows(rec, meta.get("settings", {}))
    peer = peer_rows(Records(peer_records))
    plots = write_plots(rec, args.work, args.out)

    failed = [r for r in sql + http + peer if str(r.get("result", "")).startswith("FAIL")]
    passed = [r for r in sql + http + peer if r.get("result") == "PASS"]
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump({"meta": meta, "load": load, "sql": sql, "http": http, "peer": peer,
                   "peer_meta": peer_meta, "plots": plots, "passed": len(passed), "failed": len(failed),
                   "records": records, "peer_records": peer_records}, f, indent=1)

    m = meta.get("machine", {})
    lines = ["# pg_inbox benchmark: %s run" % meta.get("mode", "?"), ""]
    lines.append("Run %s → %s at commit `%s`%s. Machine: %s, %s cores, %s, %s, kernel %s; PostgreSQL %s "
                 "(shared_buffers %s); %s; %s." % (
        meta.get("started", "?"), meta.get("finished", "?"), meta.get("commit", "?"),
        " (with uncommitted changes)" if meta.get("dirty") else "",
        m.get("cpu", "?"), m.get("cores", "?"), m.get("memory", "?"), m.get("os", "?"), m.get("kernel", "?"),
        m.get("postgresql", "?"), m.get("shared_buffers", "?"), m.get("pgbench", "?"), m.get("wrk", "?")))
    lines.append("")
    lines.append("The machine is shared (other builds and tests may run): each measurement records "
                 "/proc/loadavg just before it (see the last table). pgbench and wrk run on the same cores "
                 "as PostgreSQL and the server.")
    lines.append("")
    s = settings
    if load:
        lines += ["## Data set", "",
                  "%s notifications: %s users x %s, plus the heavy user with %s (%s active, %s unread); "
                  "fixed seed (every value is a hash of the row's ordinal)." % (
                      fmt_num(load["rows"]), fmt_num(s.get("users")), fmt_num(s.get("per_user")), fmt_num(s.get("heavy")),
                      fmt_num(load.get("heavy_active")), fmt_num(load.get("heavy_unread"))),
                  "",
                  "| load | rows/s | table per million | indexes per million | VACUUM ANALYZE | counters exact |",
                  "|---|---:|---:|---:|---:|---|",
                  "| %.1f s | %s | %s MiB | %s MiB | %.1f s | %s |" % (
                      load["seconds"], fmt_num(load["rows_per_s"]), load["table_mib_per_million"],
                      load["index_mib_per_million"], load["vacuum_analyze_s"],
                      "yes" if load.get("counters_exact") == "t" else "NO"),
                  ""]
    else:
        lines += ["## Data set", "", rec.problem("load") or "not loaded", ""]
    lines += ["## SQL level (pgbench)", "",
              "pgbench -M prepared, random users via \\set, %s s per run at %s clients. ours and baseline "
              "are mean latency per transaction (transactions/s in brackets); ratio = ours ÷ baseline "
              "(lower is better). Baselines return the same JSON as ours." % (
                  s.get("pgbench_seconds", "?"), " and ".join(str(s.get("sql_clients", "?")).split())),
              "", md_table(sql), ""]
    lines += ["## HTTP level (wrk against pgbench on the same SQL function)", "",
              "wrk with a Lua script sending a bearer token (random users), %s s per run at %s connections; "
              "pgbench runs the SQL function behind the route at the same concurrency. ratio = server "
              "requests/s ÷ pgbench transactions/s (higher is better). The GraphQL rows compare "
              "POST /graphql/system with the Directus REST route that reads the same rows, both through "
              "the server under the same wrk load (ratio = GraphQL requests/s ÷ REST requests/s)." % (
                  s.get("wrk_seconds", "?"), ", ".join(str(s.get("http_connections", "?")).split())),
              "", md_table(http), ""]
    lines += ["## Peer: Directus", ""]
    if peer_meta:
        lines.append("Measured by `make bench-peer` (%s → %s, %s): pg_inbox's Directus-compatible routes and "
                     "Directus %s on the same notifications in the same cluster, same wrk loads, one run. "
                     "ratio = pg_inbox requests/s ÷ Directus requests/s." % (
                         peer_meta.get("started", "?"), peer_meta.get("finished", "?"),
                         peer_meta.get("commit", "?"), peer_meta.get("directus", "?")))
    else:
        lines.append("Not measured in this run: `make bench-peer` runs it.")
    lines += ["", md_table(peer), ""]
    if plots:
        lines += ["## Plots", ""] + ["![%s](%s)" % (p, p) for p in plots] + [""]
    lines += ["## Summary", "", "%d targets passed, %d failed." % (len(passed), len(failed)), ""]
    lines += ["## Every measurement", "",
              "| step | side | clients | tool | per second | mean | p50 | p99 | load average before |",
              "|---|---|---:|---|---:|---:|---:|---:|---|"]
    for r in records + peer_records:
        if r.get("kind") in ("pgbench", "wrk"):
            lines.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s |" % (
                r["step"], r["side"], r["clients"], r["kind"], fmt_num(per_second(r)),
                fmt_ms(r.get("lat_ms", r.get("mean_ms"))), fmt_ms(r.get("p50_ms")), fmt_ms(r.get("p99_ms")),
                r.get("loadavg", "")))
        elif r.get("kind") in ("skip", "error"):
            lines.append("| %s | %s | %s | %s | %s: %s | | | | |" % (
                r["step"], r.get("side", ""), r.get("clients", ""), r.get("tool", ""), r["kind"], r.get("why", "")))
    lines.append("")
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write("\n".join(lines))
    print("%d targets passed, %d failed; %s" % (len(passed), len(failed), os.path.join(args.out, "latest.md")))


if __name__ == "__main__":
    sys.exit(main())
