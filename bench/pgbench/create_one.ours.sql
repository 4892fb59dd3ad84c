-- Create one notification for a random user through the API.
\set u random(1, :users)
SELECT inbox.create('user' || :u::text, '{"type": "mention", "title": "Sofia Rossi mentioned you in comment #4821", "body": "Could you take a look at the retention policy question before the freeze on Thursday? The logs are attached to the run.", "data": {"url": "/projects/7/comments/4821", "actor": {"id": "user7", "name": "Sofia Rossi"}}, "actorId": "user7", "collection": "comments", "item": "4821"}');
