#!/usr/bin/env python3
"""Normalises `pg_dump --schema-only --binary-upgrade` output so that two databases holding the
same catalog, built by different routes (a fresh CREATE EXTENSION, or an older version then
ALTER EXTENSION UPDATE), give the same text. Reads the dump on stdin, writes it to stdout.

Binary-upgrade mode is the one pg_dump mode that writes an extension's member objects (an
ordinary dump writes only CREATE EXTENSION). What it adds beyond the catalog, and what is
normalised here, is what depends on when and where each object was created, not on what it is:

  1. `\\restrict KEY` / `\\unrestrict KEY`: a random key pg_dump draws for every dump.
  2. Storage identity, removed: the `binary_upgrade_set_next_*(...)` calls (OIDs, relfilenodes,
     attribute LSNs) with their "must preserve" comments, and the blocks that set
     relfrozenxid/relminmxid (transaction ids) of a table and its TOAST table. Whether a table
     has a TOAST table is storage too: an upgrade that drops a wide column keeps it.
  3. The OIDs and conditions of the configuration tables in
     `binary_upgrade_create_empty_extension`: tests/upgrade.sh compares those tables by name and
     condition in a section of its own.
  4. Dropped columns: an upgrade that drops a column leaves a placeholder attribute that no
     query can see and binary-upgrade mode recreates ("........pg.dropped.N........"). The
     placeholder and its "recreate dropped column" block are removed.
  5. The value in `SELECT pg_catalog.setval('seq', N, called)`: a sequence registered with
     pg_extension_config_dump (inbox.notifications_id_seq) has its state dumped with the schema,
     and that state is data (how many notifications were made), not catalog.
  6. Runs of blank lines, left by the removals, become one.

Nothing else is touched: object order (pg_dump's own: by kind, schema and name, whatever the
order of creation), column order, types, defaults, constraints, indexes, triggers, function
bodies and properties, comments, owners, privileges and extension membership compare as they are.
"""
import re
import sys

SET_NEXT = re.compile(r'^SELECT pg_catalog\.binary_upgrade_set_next_\w+\(.*\);$')
PRESERVE_COMMENT = re.compile(r'^-- For binary upgrade, must preserve ')
FROZEN_XID_COMMENT = re.compile(r"^-- For binary upgrade, set (heap|toast)'s relfrozenxid and relminmxid$")
DROPPED_COLUMN = re.compile(r'^\s+"\.{8}pg\.dropped\.\d+\.{8}" .*$')
RECREATE_DROPPED = '-- For binary upgrade, recreate dropped column.'
SETVAL = re.compile(r"^(SELECT pg_catalog\.setval\('[^']+'), \d+, (true|false)\);$")
EMPTY_EXTENSION = re.compile(r"^(SELECT pg_catalog\.binary_upgrade_create_empty_extension\("
                             r"'[^']*', '[^']*', \w+, '[^']*'), '\{[0-9,]*\}', '\{.*\}', "
                             r"(ARRAY\[.*\]::pg_catalog\.text\[\]\);)$")


def statement_end(lines, start, limit, test):
    """The index of the first line in lines[start:start+limit] that passes test, or None."""
    return next((j for j in range(start, min(start + limit, len(lines))) if test(lines[j])), None)


def normalise(lines):
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if SET_NEXT.match(line) or PRESERVE_COMMENT.match(line):
            i += 1
            continue
        if FROZEN_XID_COMMENT.match(line):
            # UPDATE pg_catalog.pg_class / SET relfrozenxid = ... / WHERE oid = ...;
            end = statement_end(lines, i + 1, 4, lambda l: l.startswith('WHERE oid = '))
            if end is not None:
                i = end + 1
                continue
        if line == RECREATE_DROPPED:
            # An UPDATE of pg_attribute, then ALTER TABLE ... DROP COLUMN (or ALTER TYPE ... DROP
            # ATTRIBUTE) of the placeholder.
            end = statement_end(lines, i + 1, 8,
                                lambda l: l.startswith('ALTER ') and '"........pg.dropped.' in l)
            if end is not None:
                i = end + 1
                continue
        if DROPPED_COLUMN.match(line):
            # When the placeholder was the last column, the one before it now ends the list.
            if i + 1 < len(lines) and lines[i + 1].startswith(')') and out and out[-1].endswith(','):
                out[-1] = out[-1][:-1]
            i += 1
            continue
        line = re.sub(r'^\\(restrict|unrestrict) \S+$', r'\\\1 KEY', line)
        line = SETVAL.sub(r"\1, ...);", line)
        line = EMPTY_EXTENSION.sub(r"\1, '{config tables}', '{conditions}', \2", line)
        if line == '' and out and out[-1] == '':
            i += 1
            continue
        out.append(line)
        i += 1
    return out


if __name__ == '__main__':
    sys.stdout.write('\n'.join(normalise(sys.stdin.read().split('\n'))))
