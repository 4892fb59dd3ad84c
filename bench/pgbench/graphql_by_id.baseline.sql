-- What GET /notifications/:id (the Directus REST route) runs, called directly: the same
-- notification for the same token.
\set k random(1, :items)
SELECT inbox.directus_read_one(i.token, i.id::text, '{}') FROM bench.items i WHERE i.n = :k;
