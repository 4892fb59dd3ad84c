-- pg_inbox: the upgrade from 0.1.0 to 0.2.0 (ALTER EXTENSION pg_inbox UPDATE).
--
-- Every change to an SQL object since 0.1.0 goes both here and into extension/sql/*.sql (the
-- install script of 0.2.0), in the order its part of extension/sql has it. tests/upgrade.sh
-- installs 0.1.0, updates it and compares the catalog with a fresh install: an object changed in
-- one place and not in the other fails that test. Every name is schema-qualified, as in the
-- install script.

\echo Use "ALTER EXTENSION pg_inbox UPDATE" to load this file. \quit
