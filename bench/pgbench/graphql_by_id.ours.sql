-- POST /graphql/system's by-id query, called directly: one of a random token user's own
-- notifications (every field), the id passed as a variable as clients do.
\set k random(1, :items)
SELECT inbox.graphql('query ($id: ID!) { notifications_by_id(id: $id) { id timestamp status recipient sender subject message collection item } }',
                     pg_catalog.jsonb_build_object('id', i.id::text), NULL, i.token)
  FROM bench.items i WHERE i.n = :k;
