-- The peer's side of the data set, run in Directus's own database after `directus bootstrap`
-- (psql variables: users, tokens, admin_email, admin_token). The notifications themselves are
-- copied in afterwards from pg_inbox's table, row for row.
--
-- Every user of the data set becomes a Directus user whose id is md5(user_id) as a uuid, in a
-- role with app access: Directus's built-in minimal permissions then let each user read exactly
-- their own notifications (recipient = $CURRENT_USER), as pg_inbox's tokens do. The first
-- `tokens` users get a static token, dtok_<user_id>. No user receives notification e-mails.

\set ON_ERROR_STOP 1

INSERT INTO directus_roles (id, name, icon)
VALUES ('6d2a5d3e-0b1c-4d7e-9a51-3b0c2f6e8a01', 'Bench users', 'person');
INSERT INTO directus_policies (id, name, icon, app_access, admin_access, enforce_tfa)
VALUES ('6d2a5d3e-0b1c-4d7e-9a51-3b0c2f6e8a02', 'Bench app access', 'badge', true, false, false);
INSERT INTO directus_access (id, role, policy)
VALUES ('6d2a5d3e-0b1c-4d7e-9a51-3b0c2f6e8a03', '6d2a5d3e-0b1c-4d7e-9a51-3b0c2f6e8a01',
        '6d2a5d3e-0b1c-4d7e-9a51-3b0c2f6e8a02');

INSERT INTO directus_users (id, first_name, email, status, role, token, email_notifications)
SELECT md5(u.user_id)::uuid, u.user_id, u.user_id || '@example.com', 'active',
       '6d2a5d3e-0b1c-4d7e-9a51-3b0c2f6e8a01',
       CASE WHEN u.n <= :tokens THEN 'dtok_' || u.user_id END, false
  FROM (SELECT g AS n, 'user' || g AS user_id FROM generate_series(1, :users) g
        UNION ALL SELECT :users + 1, 'heavy') u;

UPDATE directus_users SET token = :'admin_token', email_notifications = false
 WHERE email = :'admin_email';
