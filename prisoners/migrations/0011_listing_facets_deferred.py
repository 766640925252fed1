from importlib import import_module

from django.db import migrations

# Facet counts of several facets (``prisoners.listing.facet_counts``) may be left to a second
# request (the facets fragment) when the filtered rows are many: a page of the listing then
# answers in a bounded time, whatever the filters.
#
# ``prisoners_listing_facets`` of migration 0010 gains three arguments:
#
# ``rows_sql``, ``known_rows``, ``inline_limit``: with ``inline_limit`` NULL it counts as
# before. Otherwise the number of filtered rows is ``known_rows`` when the caller knows it
# (two facets: ``prisoners_listingpair``), else counted from ``rows_sql`` up to
# ``inline_limit + 1`` rows at most (the cost of that count is bounded). Up to
# ``inline_limit`` rows they are counted exactly, at once (the rows just read are in the
# buffers); above, nothing is counted and the answer is ``{"deferred": true, "rows": n,
# "at_least": whether n is only a lower bound}``.

FORWARD = """
DROP FUNCTION IF EXISTS prisoners_listing_facets(
    text, text, text, bigint, bigint, double precision
);
CREATE OR REPLACE FUNCTION prisoners_listing_facets(
    estimate_sql text, exact text, sample text, exact_limit bigint, sample_rows bigint,
    max_percent double precision, rows_sql text, known_rows bigint, inline_limit bigint
) RETURNS json
LANGUAGE plpgsql VOLATILE SET jit = off AS $$
DECLARE
    snap pg_snapshot := pg_current_snapshot();
    plan json;
    expected double precision;
    pct double precision := 100;
    counts json;
    found bigint := known_rows;
BEGIN
    IF inline_limit IS NOT NULL THEN
        IF found IS NULL THEN
            EXECUTE format('SELECT count(*) FROM (%s LIMIT %s) AS r', rows_sql, inline_limit + 1)
                INTO found;
        END IF;
        IF found > inline_limit THEN
            RETURN json_build_object(
                'deferred', true,
                'rows', found,
                'at_least', known_rows IS NULL
            );
        END IF;
        EXECUTE exact INTO counts;
    ELSE
        EXECUTE 'EXPLAIN (FORMAT JSON) ' || estimate_sql INTO plan;
        expected := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision;
        IF expected <= exact_limit THEN
            EXECUTE exact INTO counts;
        ELSE
            pct := least(max_percent, 100, greatest(0.01, 100.0 * sample_rows / expected));
            EXECUTE sample INTO counts USING pct;
        END IF;
    END IF;
    RETURN json_build_object(
        'snapshot', snap::text,
        'clean', pg_current_xact_id_if_assigned() IS NULL,
        'percent', pct,
        'counts', counts
    );
END $$;
"""

# Back to migration 0010's function.
BACKWARD = (
    """
DROP FUNCTION IF EXISTS prisoners_listing_facets(
    text, text, text, bigint, bigint, double precision, text, bigint, bigint
);
"""
    + import_module("prisoners.migrations.0010_listing_facet_pairs").SAMPLED
)


class Migration(migrations.Migration):
    dependencies = [
        ("prisoners", "0010_listing_facet_pairs"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD, elidable=False)]
