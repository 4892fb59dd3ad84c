#!/usr/bin/env python3
"""The SQL patterns that break pg_inbox on a Citus cluster (issue 17), found without Citus.

    citus_lint.py sql FILE...      an install or upgrade script
    citus_lint.py generated FILE   the statements tests/lint/generated_sql.cpp prints (JSON lines)

Prints one line per finding, "where: rule: what", and exits 1 when there is one. The rules:

  sql-function-parameters  a LANGUAGE sql function with parameters whose body touches a table of
                           the inbox schema: Citus cannot plan the statements of a SQL function
                           with its parameters ("could not create distributed plan"), and a
                           planning error there once crashed the coordinator. Write it in
                           PL/pgSQL.
  whole-row                a table alias passed whole to a function, or selected whole (f(n),
                           SELECT n): on a shard the alias has the shard's row type
                           (inbox.notifications_102008), so inbox.to_json(n) does not exist
                           there. Write ROW(n.*)::inbox.notifications.
  now-in-case              now() (or another non-immutable function) inside a CASE or COALESCE
                           expression: Citus refuses it in a statement on a distributed table.
                           Take the value into a variable first.
  case-value-when          CASE <value> WHEN <constant> in an expression: Citus folds it wrongly
                           (citus#2862, "operator does not exist: text = boolean"). Write CASE
                           WHEN <value> = <constant>. (PL/pgSQL's CASE statement, ending in END
                           CASE, never reaches Citus and is allowed.)
  insert-values-subquery   a subquery inside INSERT ... VALUES: "subqueries are not supported
                           within INSERT queries". Compute the value first.
  per-row-marks            (generated statements of one user) a read of inbox.marks inside the
                           statement: it runs on the user's shard, where a lookup of another
                           distributed table for each row is refused ("cannot execute a
                           distributed query from a query on a shard"). The pg layer reads the
                           marks once and binds them (query/marks.hpp, issue 19).

The check is lexical: comments and string literals are set aside, function bodies are checked
as code, and the tables of the inbox schema are those the script creates (plus pg_inbox's own
list for generated statements).
"""
import json
import re
import sys

NON_IMMUTABLE = re.compile(
    r"\b(?:pg_catalog\.)?(?:now|clock_timestamp|statement_timestamp|transaction_timestamp|random|"
    r"gen_random_uuid|nextval|timeofday)\s*\(|\bcurrent_timestamp\b|\blocaltimestamp\b",
    re.I)
KNOWN_TABLES = {
    "notifications", "user_counters", "workspace_counters", "notification_groups",
    "notification_actors", "idempotency_keys", "notification_types", "writable_fields",
    "relations", "tokens", "cursor_secrets",
}
# Names that follow a table but are not an alias of it.
NOT_ALIASES = {
    "where", "on", "using", "join", "left", "right", "inner", "full", "cross", "natural", "set",
    "order", "group", "limit", "having", "union", "returning", "values", "select", "default",
    "for", "with", "into", "as", "and", "or", "not", "lateral", "window", "offset", "fetch",
    "except", "intersect", "then", "else", "end", "loop", "overriding", "only",
}


def mask(text):
    """The text with string literals, quoted identifiers and comments blanked (same length), and
    the dollar-quoted spans found: [(start, end, tag)] of their contents."""
    out = list(text)
    spans = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif c == "'" or c == '"':
            # E'...' strings: a backslash escapes the next character.
            escaped = c == "'" and i > 0 and text[i - 1] in "eE" and (i < 2 or not text[i - 2].isalnum())
            j = i + 1
            while j < n:
                if escaped and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            for k in range(i + 1, min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        elif c == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", text[i:])
            if m and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
                tag = m.group(0)
                j = text.find(tag, i + len(tag))
                j = n if j < 0 else j
                spans.append((i + len(tag), j, tag))
                i = j + len(tag)
            else:
                i += 1
        else:
            i += 1
    return "".join(out), spans


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def case_expressions(code):
    """(start, end) of every CASE ... END expression in masked code. PL/pgSQL's blocks are
    followed so that their END is not taken for a CASE's: BEGIN ... END, IF ... END IF,
    LOOP ... END LOOP, and CASE statements (END CASE), which are left out."""
    found = []
    stack = []  # "case" start positions, or None for a BEGIN block
    for m in re.finditer(r"\b(case|begin|end)\b(\s+(?:if|loop|case)\b)?", code, re.I):
        word, closes = m.group(1).lower(), (m.group(2) or "").strip().lower()
        if word == "case":
            stack.append(m.start())
        elif word == "begin":
            stack.append(None)
        elif closes in ("if", "loop"):
            continue
        elif stack:
            start = stack.pop()
            if start is not None and closes != "case":
                found.append((start, m.end()))
    return found


def balanced(code, open_pos):
    """The end (exclusive) of the parenthesised group that opens at code[open_pos] == '('."""
    depth = 0
    for k in range(open_pos, len(code)):
        if code[k] == "(":
            depth += 1
        elif code[k] == ")":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(code)


def check_code(code, tables, where, findings, allow_whole_row_params=()):
    """The rules that apply to any SQL or PL/pgSQL text (masked)."""
    # whole-row: aliases of the inbox tables (and of trigger transition tables).
    names = "|".join(sorted(tables | {"new_rows", "old_rows"}))
    aliases = set()
    for m in re.finditer(r"\b(?:from|join|update|into|using)\s+(?:only\s+)?(?:inbox\.)?(" + names +
                         r")\s+(?:as\s+)?([a-z_][a-z0-9_]*)\b(?!\s*\()", code, re.I):
        if m.group(1).lower() in ("new_rows", "old_rows") or re.search(
                r"inbox\.\s*$", code[max(0, m.start(1) - 8):m.start(1)], re.I):
            alias = m.group(2).lower()
            if alias not in NOT_ALIASES:
                aliases.add(alias)
    for alias in sorted(aliases - set(allow_whole_row_params)):
        a = re.escape(alias)
        for m in re.finditer(r"\b([a-z_][a-z0-9_.]*)\s*\(\s*(?:distinct\s+)?" + a + r"\s*[,)]", code, re.I):
            if m.group(1).lower() in ("row", "exists", "in", "values", "coalesce"):
                continue
            findings.append(f"{where(m.start())}: whole-row: {m.group(0).strip()} passes the row of "
                            f"{alias} whole; write ROW({alias}.*)::<its table>")
        for m in re.finditer(r"\bselect\s+(?:distinct\s+)?" + a + r"\s*(?:,|\bfrom\b|\binto\b)", code, re.I):
            findings.append(f"{where(m.start())}: whole-row: {m.group(0).strip()} selects the row of "
                            f"{alias} whole; write ROW({alias}.*)::<its table>")
    # now-in-case and case-value-when
    for start, end in case_expressions(code):
        span = code[start:end]
        inner = NON_IMMUTABLE.search(span)
        if inner:
            findings.append(f"{where(start + inner.start())}: now-in-case: {inner.group(0).strip()} inside "
                            f"CASE; take it into a variable first")
        if not re.match(r"case\s+when\b", span, re.I):
            findings.append(f"{where(start)}: case-value-when: {' '.join(span.split()[:4])} ...; "
                            f"write CASE WHEN <value> = <constant>")
    for m in re.finditer(r"\bcoalesce\s*\(", code, re.I):
        span = code[m.end() - 1:balanced(code, m.end() - 1)]
        inner = NON_IMMUTABLE.search(span)
        if inner:
            findings.append(f"{where(m.start())}: now-in-case: {inner.group(0).strip()} inside "
                            f"COALESCE; take it into a variable first")
    # insert-values-subquery
    for m in re.finditer(r"\binsert\s+into\b", code, re.I):
        rest = re.search(r"\b(values|select|default\s+values)\b|;", code[m.end():], re.I)
        if not rest or rest.group(1) is None or rest.group(1).lower() != "values":
            continue
        pos = m.end() + rest.end()
        while True:
            paren = re.match(r"\s*\(", code[pos:])
            if not paren:
                break
            open_pos = pos + paren.end() - 1
            close = balanced(code, open_pos)
            if re.search(r"\bselect\b", code[open_pos:close], re.I):
                findings.append(f"{where(open_pos)}: insert-values-subquery: a subquery inside "
                                f"INSERT ... VALUES; compute it first")
            comma = re.match(r"\s*,", code[close:])
            if not comma:
                break
            pos = close + comma.end()


FUNCTION = re.compile(r"\bcreate\s+(?:or\s+replace\s+)?function\s+([a-z_][a-z0-9_.]*)\s*\(", re.I)


def lint_script(path, findings):
    text = open(path, encoding="utf-8").read()
    code, spans = mask(text)
    tables = {m.group(1).lower() for m in re.finditer(r"\bcreate\s+table\s+inbox\.([a-z_][a-z0-9_]*)", code, re.I)}
    tables |= KNOWN_TABLES
    body_at = {}
    for start, end, tag in spans:
        body_at[start] = (end, tag)
    # Each function: its arguments, its language and its body, checked as code.
    checked = set()
    for m in FUNCTION.finditer(code):
        args_end = balanced(code, m.end() - 1)
        args = code[m.end():args_end - 1]
        # The body is the first dollar-quoted span after the arguments.
        body = next(((s, e, t) for s, e, t in spans if s > args_end), None)
        if body is None:
            continue
        start, end, _ = body
        header = code[args_end:start] + code[end:end + 400].split(";")[0]
        language = re.search(r"\blanguage\s+([a-z]+)", header, re.I)
        language = language.group(1).lower() if language else "sql"
        name = m.group(1)
        body_code, _ = mask(text[start:end])
        checked.add(start)

        def where(pos, base=start, name=name):
            return f"{path}:{line_of(text, base + pos)} ({name})"

        params = [p.strip() for p in args.split(",") if p.strip()]
        param_names = {p.split()[0].lower() for p in params if len(p.split()) > 1}
        if language == "sql" and params:
            touched = re.search(r"\binbox\.(" + "|".join(sorted(tables)) + r")\b(?!\s*\()", body_code, re.I)
            if touched:
                findings.append(f"{where(touched.start())}: sql-function-parameters: LANGUAGE sql with "
                                f"parameters touches inbox.{touched.group(1)}; write it in PL/pgSQL")
        if language in ("sql", "plpgsql"):
            check_code(body_code, tables, where, findings, allow_whole_row_params=param_names)
    # Statements outside function bodies (DO blocks and the rest).
    outside = list(code)
    for start, end, tag in spans:
        if start in checked:
            for k in range(start, end):
                if outside[k] != "\n":
                    outside[k] = " "
    check_code("".join(outside), tables, lambda pos: f"{path}:{line_of(text, pos)}", findings)


def lint_generated(path, findings):
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        code, _ = mask(record["sql"])
        request = json.dumps(record["request"], sort_keys=True)
        check_code(code, set(KNOWN_TABLES), lambda pos, r=request: f"{path}:{number} {r}", findings)
        one_user = record["request"].get("api") != "list_all" and not record["request"].get("admin")
        if one_user and re.search(r"\binbox\.marks\b", code):
            findings.append(f"{path}:{number} {request}: per-row-marks: the statement reads inbox.marks; "
                            "bind the user's marks instead (query/marks.hpp)")


def main(argv):
    if len(argv) < 3 or argv[1] not in ("sql", "generated"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    findings = []
    for path in argv[2:]:
        (lint_script if argv[1] == "sql" else lint_generated)(path, findings)
    for f in findings:
        print(f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
