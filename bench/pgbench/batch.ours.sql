-- Create a batch of :batch notifications (consecutive users from a random one) through the API.
\set base random(0, :users - 1)
SELECT inbox.create_many(bench.batch(:base, :batch, :users));
