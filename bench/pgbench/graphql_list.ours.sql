-- POST /graphql/system's list query, called directly: a random token user's first 20
-- notifications (every field), in Directus's default order.
\set n random(1, :tokens)
SELECT inbox.graphql('{ notifications(limit: 20) { id timestamp status recipient sender subject message collection item } }',
                     NULL, NULL, t.token) FROM bench.tokens t WHERE t.n = :n;
