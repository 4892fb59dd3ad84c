-- One page of the heavy user's default list through the API: :params is {"limit": 20} for the
-- first page, or {"limit": 20, "after": cursor} for a page deeper down.
SELECT inbox.list('heavy', :params::jsonb);
