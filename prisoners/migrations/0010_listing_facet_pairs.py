from django.db import migrations

# Facet counts of the listing, kept by the database (``prisoners.listing.pair_counts``).
#
# ``prisoners_listingpair`` holds, for every two facet values (``fa``, ``va``) and (``fb``,
# ``vb``) that occur together in a listing row, how many rows have both (``n``), per ``lvl``:
# the lowest tier that sees the row and both values. A facet value of a row is one of:
#
#   0 status, 1 gender (their position in STATUSES and GENDERS), 2 birth year (-1 when
#   unknown), 3 home region, 4 country now,
#   5 custody country (each seen by whoever sees the row), 6 facility (seen from the row's
#   ``place_level``), 7 article, 8 deal, 9 recognised by, 10 year of detention, 11 at-risk kind
#   (the lists of facts: ``id * 4 + level``, one value per id at its lowest level).
#
# A pair is kept once, its lesser value first: ``(fa, va) <= (fb, vb)``.
#
# The row is seen as ``prisoners.visibility.listing_filter`` says: never when merged; staff
# only when its name is withheld; otherwise from the level of its visibility. So the counts
# of the rows a viewer of tier T sees, filtered by one facet A (any of the values V), are
# ``sum(n)`` over the pairs with one side in (A, V) and ``lvl <= T``, by their other side;
# unfiltered, the same over every status (a row has exactly one). A pair of a value with
# itself counts that value.
#
# A statement-level trigger on ``prisoners_personlisting`` (transition tables: one call per
# statement) adds the pairs of the new rows and takes away those of the old ones, in the
# writing transaction: the counts are never stale, and a transaction sees its own writes
# (``prisoners_listing_prepare`` refreshes its rows first). Rows are upserted in key order, so
# two writers wait for each other instead of deadlocking.

FACETS = """
CREATE TABLE prisoners_listingpair (
    fa smallint NOT NULL,
    va bigint NOT NULL,
    fb smallint NOT NULL,
    vb bigint NOT NULL,
    lvl smallint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (fa, va, fb, vb, lvl)
) WITH (fillfactor = 70);
CREATE INDEX prisoners_listingpair_b ON prisoners_listingpair (fb, vb);

"""

# The values of the two text facets, by position (``prisoners.listing.PAIR_TEXT_VALUES``).
STATUSES = (
    "pre_trial",
    "imprisoned",
    "house_arrest",
    "released",
    "released_expelled",
    "deceased",
    "not_detained",
    "unknown",
)
GENDERS = ("female", "male", "other", "unknown")


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


# The pairs of {rows} (the columns of a listing row, and ``sign``: 1 added, -1 taken away),
# summed by key.
PAIRS = """
WITH x AS (
    SELECT s.*, CASE
        WHEN s.merged_into_id IS NOT NULL THEN NULL
        WHEN s.name_withheld THEN 2
        ELSE prisoners_listing_level(s.visibility)
    END AS row_lv
    FROM ({rows}) AS s
), vals AS (
    SELECT x.person_id, x.sign, x.row_lv, fv.f, fv.v, fv.lv
    FROM x CROSS JOIN LATERAL (
        SELECT 0 AS f, coalesce(array_position({statuses}, x.status::text), 0)::bigint AS v,
               0 AS lv
        UNION ALL SELECT 1, coalesce(array_position({genders}, x.gender::text), 0), 0
        UNION ALL SELECT 2, coalesce(x.birth_year, -1), 0
        UNION ALL SELECT 3, x.home_region_id, 0 WHERE x.home_region_id IS NOT NULL
        UNION ALL SELECT 4, x.country_now_id, 0 WHERE x.country_now_id IS NOT NULL
        UNION ALL SELECT 5, x.custody_country_id, 0 WHERE x.custody_country_id IS NOT NULL
        UNION ALL SELECT 6, x.facility_id, x.place_level
            WHERE x.facility_id IS NOT NULL AND x.place_level IS NOT NULL
        UNION ALL SELECT 7, c / 4, min(c % 4) FROM unnest(x.article_codes) c GROUP BY 2
        UNION ALL SELECT 8, c / 4, min(c % 4) FROM unnest(x.deal_codes) c GROUP BY 2
        UNION ALL SELECT 9, c / 4, min(c % 4) FROM unnest(x.recogniser_codes) c GROUP BY 2
        UNION ALL SELECT 10, c / 4, min(c % 4) FROM unnest(x.year_codes) c GROUP BY 2
        UNION ALL SELECT 11, c / 4, min(c % 4) FROM unnest(x.risk_codes) c GROUP BY 2
    ) AS fv
    WHERE x.row_lv IS NOT NULL
)
SELECT a.f, a.v, b.f, b.v, greatest(a.row_lv, a.lv, b.lv), sum(a.sign)
FROM vals a JOIN vals b
    ON b.person_id = a.person_id AND b.sign = a.sign AND (a.f, a.v) <= (b.f, b.v)
GROUP BY 1, 2, 3, 4, 5
HAVING sum(a.sign) <> 0
ORDER BY 1, 2, 3, 4, 5
""".replace("{statuses}", _array(STATUSES)).replace("{genders}", _array(GENDERS))

NEW = "SELECT 1 AS sign, r.* FROM new_rows r"
OLD = "SELECT -1 AS sign, r.* FROM old_rows r"
UPSERT = (
    "INSERT INTO prisoners_listingpair AS p (fa, va, fb, vb, lvl, n) {pairs}"
    " ON CONFLICT (fa, va, fb, vb, lvl) DO UPDATE SET n = p.n + EXCLUDED.n;"
)

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION prisoners_listing_count_pairs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {UPSERT.format(pairs=PAIRS.format(rows=NEW))}
    ELSIF TG_OP = 'UPDATE' THEN
        {UPSERT.format(pairs=PAIRS.format(rows=NEW + " UNION ALL " + OLD))}
    ELSE
        {UPSERT.format(pairs=PAIRS.format(rows=OLD))}
    END IF;
    RETURN NULL;
END $$;

-- A bulk write (thousands of rows at once) makes a few hundred thousand pairs: the planner
-- cannot guess how many from the transition tables, and sorting them costs several times
-- hashing them.
ALTER FUNCTION prisoners_listing_count_pairs()
    SET work_mem = '32MB' SET enable_sort = off SET enable_mergejoin = off;

CREATE OR REPLACE FUNCTION prisoners_listing_clear_pairs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE prisoners_listingpair;
    RETURN NULL;
END $$;

CREATE TRIGGER prisoners_listing_pairs_ins AFTER INSERT ON prisoners_personlisting
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION prisoners_listing_count_pairs();
CREATE TRIGGER prisoners_listing_pairs_upd AFTER UPDATE ON prisoners_personlisting
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION prisoners_listing_count_pairs();
CREATE TRIGGER prisoners_listing_pairs_del AFTER DELETE ON prisoners_personlisting
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION prisoners_listing_count_pairs();
CREATE TRIGGER prisoners_listing_pairs_truncate AFTER TRUNCATE ON prisoners_personlisting
FOR EACH STATEMENT EXECUTE FUNCTION prisoners_listing_clear_pairs();
"""

# The rows already there (none in an empty database).
SETTINGS = (
    "SET LOCAL work_mem = '256MB';\n"
    "SET LOCAL enable_sort = off;\n"
    "SET LOCAL enable_mergejoin = off;\n"
)
BACKFILL = (
    SETTINGS  # noqa: S608 (constants only)
    + "INSERT INTO prisoners_listingpair (fa, va, fb, vb, lvl, n) "
    + PAIRS.format(rows="SELECT 1 AS sign, r.* FROM prisoners_personlisting r")
    + ";\nANALYZE prisoners_listingpair;"
)

# Facet counts of several facets, counted over the filtered rows (``listing.facet_counts``):
# as ``prisoners_listing_facets`` of migration 0005, with the sample read from at most
# ``max_percent`` of the table's blocks: a block costs the same whatever the filter keeps of
# it, so a sample of a narrow filter costs most, and is capped (fewer rows, shown with "≈").
SAMPLED = """
CREATE OR REPLACE FUNCTION prisoners_listing_facets(
    estimate_sql text, exact text, sample text, exact_limit bigint, sample_rows bigint,
    max_percent double precision
) RETURNS json
LANGUAGE plpgsql VOLATILE SET jit = off AS $$
DECLARE
    snap pg_snapshot := pg_current_snapshot();
    plan json;
    expected double precision;
    pct double precision := 100;
    counts json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || estimate_sql INTO plan;
    expected := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
    IF expected <= exact_limit THEN
        EXECUTE exact INTO counts;
    ELSE
        pct := least(max_percent, 100, greatest(0.01, 100.0 * sample_rows / expected));
        EXECUTE sample INTO counts USING pct;
    END IF;
    RETURN json_build_object(
        'snapshot', snap::text,
        'clean', pg_current_xact_id_if_assigned() IS NULL,
        'percent', pct,
        'counts', counts
    );
END $$;
"""

FORWARD = FACETS + BACKFILL + TRIGGERS + SAMPLED

BACKWARD = """
DROP FUNCTION IF EXISTS prisoners_listing_facets(
    text, text, text, bigint, bigint, double precision
);
DROP TRIGGER IF EXISTS prisoners_listing_pairs_truncate ON prisoners_personlisting;
DROP TRIGGER IF EXISTS prisoners_listing_pairs_del ON prisoners_personlisting;
DROP TRIGGER IF EXISTS prisoners_listing_pairs_upd ON prisoners_personlisting;
DROP TRIGGER IF EXISTS prisoners_listing_pairs_ins ON prisoners_personlisting;
DROP FUNCTION IF EXISTS prisoners_listing_clear_pairs();
DROP FUNCTION IF EXISTS prisoners_listing_count_pairs();
DROP TABLE IF EXISTS prisoners_listingpair;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("prisoners", "0009_namevariant_word_indexes"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD, elidable=False)]
