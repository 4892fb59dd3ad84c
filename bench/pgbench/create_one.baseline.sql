-- The same row inserted by hand, returned in the same JSON shape.
\set u random(1, :users)
INSERT INTO inbox.notifications AS n (user_id, type, title, body, data, actor_id, collection, item)
VALUES ('user' || :u::text, 'mention', 'Sofia Rossi mentioned you in comment #4821',
        'Could you take a look at the retention policy question before the freeze on Thursday? The logs are attached to the run.',
        '{"url": "/projects/7/comments/4821", "actor": {"id": "user7", "name": "Sofia Rossi"}}',
        'user7', 'comments', '4821')
RETURNING inbox.to_json(n);
