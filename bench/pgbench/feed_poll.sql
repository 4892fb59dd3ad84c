-- The server's one change-feed poller (issue 14): inbox.poll_events from its last cursor every
-- 5 ms, run next to the writers of bench/steps.sh step_feed. The cursor is kept in a pgbench
-- variable (\gset); 'none' is the first poll's NULL.
SELECT max(next_cursor) AS cursor FROM inbox.poll_events(nullif(:cursor, 'none')) \gset
\sleep 5 ms
