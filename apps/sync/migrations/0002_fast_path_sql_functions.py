"""SQL helpers of the CSV fast path (apps/sync/fastpath.py): IMMUTABLE SQL functions, inlined by
the planner, that accept only values the Python validator accepts with the same normal form.
Anything they do not accept is handed back to the Python validator, which decides (and words the
reason), so these functions never need to reject precisely, only to accept safely."""

from django.db import migrations

# ISO 7064 MOD 11-2 (GB 11643): weights 2^(17-i) mod 11, check = (1 - sum) mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_SUM = " + ".join(f"(get_byte(t::bytea, {i}) - 48) * {w}" for i, w in enumerate(_ID_WEIGHTS))
# GB 32100: character values from the alphabet, weights 3^i mod 31, check = (31 - sum) mod 31.
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SUM = " + ".join(
    f"(strpos('{_USCC}', substr(t, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(_USCC_WEIGHTS)
)

FORWARD = f"""
CREATE OR REPLACE FUNCTION govdata_sync_ymd(y integer, m integer, d integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN y BETWEEN 1800 AND 2200 AND m BETWEEN 1 AND 12 AND d BETWEEN 1 AND
    CASE WHEN m IN (4, 6, 9, 11) THEN 30
         WHEN m = 2 THEN CASE WHEN (y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0 THEN 29 ELSE 28 END
         ELSE 31 END
  THEN make_date(y, m, d) END
$$;

-- 2020-01-05, 2020/1/5, 2020.1.5, 2020年1月5日, 20200105 without spaces; NULL for anything else
-- (including impossible or out-of-range dates: the Python validator then gives the reason).
CREATE OR REPLACE FUNCTION govdata_sync_date(t text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN t ~ '^[0-9]{{4}}[-/.年][0-9]{{1,2}}[-/.月][0-9]{{1,2}}日?$' THEN govdata_sync_ymd(
      split_part(translate(t, '/.年月日', '----'), '-', 1)::integer,
      split_part(translate(t, '/.年月日', '----'), '-', 2)::integer,
      split_part(translate(t, '/.年月日', '----'), '-', 3)::integer)
    WHEN t ~ '^[0-9]{{8}}$' THEN govdata_sync_ymd(
      substr(t, 1, 4)::integer, substr(t, 5, 2)::integer, substr(t, 7, 2)::integer)
  END
$$;

-- 18 ASCII characters (octet length 18), 17 digits and the right check character (x for X).
CREATE OR REPLACE FUNCTION govdata_sync_id_card_ok(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN octet_length(t) = 18 AND ltrim(left(t, 17), '0123456789') = ''
      AND right(t, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X', 'x')
    THEN substr('10X98765432', ({_ID_SUM}) % 11 + 1, 1) = upper(right(t, 1))
    ELSE false END
$$;

-- An upper-case unified social credit code with the right check character.
CREATE OR REPLACE FUNCTION govdata_sync_credit_code_ok(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN octet_length(t) = 18 AND t ~ '^[0-9]{{8}}[0-9A-HJ-NP-RTUW-Y]{{10}}$'
    THEN (31 - ({_USCC_SUM}) % 31) % 31 = strpos('{_USCC}', substr(t, 18, 1)) - 1
    ELSE false END
$$;

-- A mainland mobile number exactly as the Python validator's fast path accepts it.
CREATE OR REPLACE FUNCTION govdata_sync_mobile_ok(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT octet_length(t) = 11 AND left(t, 1) = '1'
    AND substr(t, 2, 1) IN ('3', '4', '5', '6', '7', '8', '9') AND ltrim(t, '0123456789') = ''
$$;

-- -?[0-9]{{1,30}}(.[0-9]{{1,30}})? without a regular expression (much cheaper per row).
CREATE OR REPLACE FUNCTION govdata_sync_plain_decimal(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ltrim(ltrim(t, '-'), '0123456789.') = '' AND octet_length(t) <= 62
    AND octet_length(t) - octet_length(ltrim(t, '-')) <= 1
    AND octet_length(t) - octet_length(replace(t, '.', '')) <= 1
    AND octet_length(split_part(ltrim(t, '-'), '.', 1)) BETWEEN 1 AND 30
    AND (strpos(t, '.') = 0 OR octet_length(split_part(t, '.', 2)) BETWEEN 1 AND 30)
$$;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS govdata_sync_plain_decimal(text);
DROP FUNCTION IF EXISTS govdata_sync_mobile_ok(text);
DROP FUNCTION IF EXISTS govdata_sync_credit_code_ok(text);
DROP FUNCTION IF EXISTS govdata_sync_id_card_ok(text);
DROP FUNCTION IF EXISTS govdata_sync_date(text);
DROP FUNCTION IF EXISTS govdata_sync_ymd(integer, integer, integer);
"""


class Migration(migrations.Migration):
    dependencies = [("sync", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
