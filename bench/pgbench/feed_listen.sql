-- The listener of feed_notify.sql: LISTENs, and every 5 ms runs a statement so that the
-- notifications are read off the queue (pgbench does not consume them itself).
LISTEN inbox_feed;
\sleep 5 ms
