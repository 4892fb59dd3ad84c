SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;

-- Public ids are ntf_ + 13 base32 characters, and decode back to the same internal id.
SELECT i, inbox.public_id(i), inbox.internal_id(inbox.public_id(i)) = i AS round_trip
  FROM unnest(ARRAY[1, 2, 3, 1000, 9223372036854775807, -1, 0]::bigint[]) AS i;

-- Consecutive internal ids give unrelated-looking public ids, all distinct.
SELECT count(DISTINCT inbox.public_id(i)) AS distinct_ids,
       bool_and(inbox.public_id(i) ~ '^ntf_[0-9a-hjkmnp-tv-z]{13}$') AS well_formed,
       bool_and(inbox.internal_id(inbox.public_id(i)) = i) AS all_round_trip
  FROM generate_series(1, 100000) AS i;

-- Anything but the canonical spelling is malformed (22023), including the upper-case form.
\set VERBOSITY default
SELECT inbox.internal_id('ntf_x');
SELECT inbox.internal_id('');
SELECT inbox.internal_id('42');
SELECT inbox.internal_id('NTF_9WTR4MFDTXQ5Z');
SELECT inbox.internal_id('ntf_9WTR4MFDTXQ5Z');
SELECT inbox.internal_id('ntf_9wtr4mfdtxq5zz');
SELECT inbox.internal_id('abc_9wtr4mfdtxq5z');
SELECT inbox.internal_id('ntf_9wtr4mfdtxqiz');
-- The first digit carries only four bits: 'g' and above would overflow 64 bits.
SELECT inbox.internal_id('ntf_g000000000000');
SELECT inbox.internal_id('ntf_f000000000000') IS NOT NULL AS top_digit_f_ok;
\set VERBOSITY terse
DO $$
BEGIN
    PERFORM inbox.internal_id('ntf_x');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'SQLSTATE 22023 as promised';
END $$;
SELECT inbox.public_id(NULL), inbox.internal_id(NULL);
