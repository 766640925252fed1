from django.db import migrations

# Where a year of detention starts in the order of the detention date.
#
# A listing filtered on a year of detention and sorted by the earliest detention first walks the
# detention-date index from its start, past every earlier detention, to the first row of that
# year: ``year=2024&sort=detained`` read 755,000 index entries at a million persons (230 ms).
# A row's detention date (``detained_on``: the arrest of the episode the person is in, or of the
# last one ended) is almost always in or after its years of detention, but not by construction
# (episodes entered out of order, a later one ended before an earlier one), so the walk cannot
# simply start at the first day of the year.
#
# ``prisoners_listingyear`` holds, for every year of detention and visibility level, a date no
# later than the detention date of any listing row with that year at that level (``earliest``).
# The level is the lowest tier that sees both the row and its year, as ``lvl`` of
# ``prisoners_listingpair``: a year the public cannot see (a researcher-only episode) may belong
# to a row whose public detention date is older. The statement triggers of the
# listing lower it when a row comes in or changes (in the writing transaction, like the facet
# counts of migration 0010); a row that goes away leaves it as it was, still a lower bound. A
# page then starts its walk at the earliest date of the years chosen
# (``prisoners.listing.page_ids``), in the same statement, so in the same snapshot, as the rows.

TABLE = """
CREATE TABLE prisoners_listingyear (
    year integer NOT NULL,
    lvl smallint NOT NULL,
    earliest date NOT NULL,
    PRIMARY KEY (year, lvl)
);
"""

# The earliest detention date of {rows} per year of detention and level: lower where it is
# lower (rows already low enough are not touched, so concurrent writers rarely wait for each
# other). The level of a row as migration 0010 has it: none when merged (never listed), staff
# when its name is withheld, else that of its visibility.
LOWER = """
INSERT INTO prisoners_listingyear AS y (year, lvl, earliest)
SELECT n.year, n.lvl, n.earliest FROM (
    SELECT c / 4 AS year,
           greatest(c % 4, CASE WHEN r.name_withheld THEN 2
                                ELSE prisoners_listing_level(r.visibility) END)::smallint
               AS lvl,
           min(r.detained_on) AS earliest
    FROM {rows} AS r CROSS JOIN LATERAL unnest(r.year_codes) AS c
    WHERE r.detained_on IS NOT NULL AND r.merged_into_id IS NULL
    GROUP BY 1, 2
) AS n
WHERE NOT EXISTS (
    SELECT 1 FROM prisoners_listingyear k
    WHERE k.year = n.year AND k.lvl = n.lvl AND k.earliest <= n.earliest
)
ORDER BY n.year, n.lvl
ON CONFLICT (year, lvl) DO UPDATE SET earliest = EXCLUDED.earliest
    WHERE EXCLUDED.earliest < y.earliest;
"""

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION prisoners_listing_lower_years() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {LOWER.format(rows="new_rows")}
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION prisoners_listing_clear_years() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE prisoners_listingyear;
    RETURN NULL;
END $$;

CREATE TRIGGER prisoners_listing_years_ins AFTER INSERT ON prisoners_personlisting
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION prisoners_listing_lower_years();
CREATE TRIGGER prisoners_listing_years_upd AFTER UPDATE ON prisoners_personlisting
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION prisoners_listing_lower_years();
CREATE TRIGGER prisoners_listing_years_truncate AFTER TRUNCATE ON prisoners_personlisting
FOR EACH STATEMENT EXECUTE FUNCTION prisoners_listing_clear_years();
"""

BACKFILL = LOWER.format(rows="prisoners_personlisting")

FORWARD = TABLE + BACKFILL + TRIGGERS

BACKWARD = """
DROP TRIGGER IF EXISTS prisoners_listing_years_truncate ON prisoners_personlisting;
DROP TRIGGER IF EXISTS prisoners_listing_years_upd ON prisoners_personlisting;
DROP TRIGGER IF EXISTS prisoners_listing_years_ins ON prisoners_personlisting;
DROP FUNCTION IF EXISTS prisoners_listing_clear_years();
DROP FUNCTION IF EXISTS prisoners_listing_lower_years();
DROP TABLE IF EXISTS prisoners_listingyear;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("prisoners", "0012_listing_sort_indexes_cover_filters"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD, elidable=False)]
