import importlib

from django.db import migrations

# One visibility rule, also for derived facts. A listing row is one row per person, shared by
# every viewer who may see the person listed (``visibility.listing_filter``); its derived facts
# (status, where the person is, detention dates and days) are computed from the records that the
# lowest tier listing the person sees: the tier of the person's own visibility. A published
# person's row is thus the public derivation, for every viewer (researchers and staff see their
# own tier on the profile and in the API); a researcher-only person's row is derived from the
# researcher tier, a draft person's from everything.
#
# For that tier (``t``), events it does not see are ignored, and an episode's end counts only if
# t sees the release or death that ended it (``events_detentionepisode.end_level``, migration
# events/0006); otherwise the episode lasts until the next arrest t sees, or is still open
# (``prisoners_listing_end``), and a placement cut by that end is open too. The same rule as
# ``events.selectors`` with ``tier``; tests/prisoners/test_listing.py compares both.
#
# Lists of facts keep one code per level; a charge's or release's level is now also that of its
# episode (the higher of the two).
#
# The rows are refreshed by the triggers of migration 0005, which queue a person on any write to
# their events, visibility changes included (a release's visibility also changes its episode's
# ``end_level``).

LISTING = importlib.import_module("prisoners.migrations.0005_listing")

END = """
-- Where an episode stops for tier t: its end if t sees the release or death that ended it, else
-- the next arrest of the person that t sees, else never (NULL).
CREATE OR REPLACE FUNCTION prisoners_listing_end(
    person bigint, arrested date, ended date, level smallint, t smallint
) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN $3 IS NULL THEN NULL
        WHEN $4 <= $5 THEN $3
        ELSE (SELECT min(n.arrested_on) FROM events_detentionepisode n
              WHERE n.person_id = $1 AND prisoners_listing_level(n.visibility) <= $5
                AND n.arrested_on > coalesce($2, '-infinity'::date))
    END
$$;
"""

STATUS = """
-- events.selectors.with_status (and where the person is) for the persons ``ids`` on day ``d``,
-- from the records the tier of each person's visibility sees: the rule of the listing, also
-- used for a status on another day (``on=``).
CREATE OR REPLACE FUNCTION prisoners_listing_status(ids bigint[], d date)
RETURNS TABLE (
    person_id bigint, status varchar, country_now_id bigint, place_now_id bigint,
    place_level smallint, custody_country_id bigint, facility_id bigint,
    detained_on date, detained_on_precision varchar
)
-- Every read is by an indexed key; seq scans are off so that statistics still describing the
-- tables before a bulk load (COPY of the generator) cannot turn the lookups into table scans.
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
SELECT
    p.id,
    -- events.selectors.with_status, in the order of its Case.
    (CASE
        WHEN f.dead THEN 'deceased'
        WHEN f.held AND pl.kind = 'house_arrest' THEN 'house_arrest'
        WHEN f.held AND f.sentenced THEN 'imprisoned'
        WHEN f.held AND (pl.kind IN ('pre_trial', 'temporary') OR f.charged) THEN 'pre_trial'
        WHEN f.held THEN 'imprisoned'
        WHEN le.id IS NOT NULL AND lr.kind = 'house_arrest' THEN 'house_arrest'
        WHEN le.id IS NOT NULL AND f.expelled THEN 'released_expelled'
        WHEN le.id IS NOT NULL THEN 'released'
        WHEN f.has_episode THEN 'not_detained'
        ELSE 'unknown'
    END)::varchar,
    CASE WHEN f.held THEN ce.country_id WHEN f.expelled THEN lg.to_country_id
         ELSE le.country_id END,
    CASE WHEN f.held THEN pl.facility_id WHEN f.expelled THEN lg.to_place_id END,
    CASE WHEN f.held AND pl.facility_id IS NOT NULL THEN prisoners_listing_level(pl.visibility)
         WHEN f.expelled AND lg.to_place_id IS NOT NULL THEN prisoners_listing_level(lg.visibility)
    END,
    coalesce(ce.country_id, le.country_id),
    CASE WHEN f.held THEN pl.facility_id END,
    CASE WHEN f.held THEN ce.arrested_on ELSE le.arrested_on END,
    coalesce(CASE WHEN f.held THEN ce.arrested_on_precision ELSE le.arrested_on_precision END, '')
FROM unnest(ids) AS p(id)
-- The tier the row is derived for: that of the person's visibility (staff if there is none).
CROSS JOIN LATERAL (
    SELECT coalesce((SELECT prisoners_listing_level(pp.visibility) FROM prisoners_person pp
                     WHERE pp.id = p.id), 2::smallint) AS tier
) v
LEFT JOIN LATERAL (
    SELECT e.id, e.country_id, e.arrested_on, e.arrested_on_precision, e.ended_on, e.end_level
    FROM events_detentionepisode e
    CROSS JOIN LATERAL (
        SELECT prisoners_listing_end(e.person_id, e.arrested_on, e.ended_on, e.end_level, v.tier)
            AS ended_on
    ) x
    WHERE e.person_id = p.id AND prisoners_listing_level(e.visibility) <= v.tier
      AND (e.arrested_on IS NULL OR e.arrested_on <= d)
      AND (x.ended_on IS NULL OR x.ended_on > d)
    ORDER BY e.arrested_on DESC NULLS LAST, e.id DESC LIMIT 1
) ce ON true
LEFT JOIN LATERAL (
    SELECT e.id, x.ended_on, e.country_id, e.arrested_on, e.arrested_on_precision
    FROM events_detentionepisode e
    CROSS JOIN LATERAL (
        SELECT prisoners_listing_end(e.person_id, e.arrested_on, e.ended_on, e.end_level, v.tier)
            AS ended_on
    ) x
    WHERE e.person_id = p.id AND prisoners_listing_level(e.visibility) <= v.tier
      AND x.ended_on <= d
    ORDER BY x.ended_on DESC, e.id DESC LIMIT 1
) le ON true
LEFT JOIN LATERAL (
    SELECT r.kind FROM events_release r
    WHERE r.episode_id = le.id AND prisoners_listing_level(r.visibility) <= v.tier LIMIT 1
) lr ON true
LEFT JOIN LATERAL (
    SELECT t.to_country_id, t.to_place_id, t.visibility
    FROM events_transfer t
    LEFT JOIN events_release r
        ON r.id = t.release_id AND prisoners_listing_level(r.visibility) <= v.tier
    WHERE t.person_id = p.id AND prisoners_listing_level(t.visibility) <= v.tier
      AND coalesce(t.transferred_on, r.released_on) <= d
      AND coalesce(t.transferred_on, r.released_on) >= le.ended_on
    ORDER BY coalesce(t.transferred_on, r.released_on) DESC, t.sequence DESC, t.id DESC LIMIT 1
) lg ON true
LEFT JOIN LATERAL (
    SELECT c.kind, c.facility_id, c.visibility
    FROM events_custodyplacement c
    WHERE c.episode_id = ce.id AND prisoners_listing_level(c.visibility) <= v.tier
      AND c.started_on <= d
      AND (c.ended_on IS NULL OR c.ended_on > d
           -- cut by an end this tier does not see: open
           OR (c.ended_on = ce.ended_on AND ce.end_level > v.tier))
    ORDER BY c.started_on DESC, c.id DESC LIMIT 1
) pl ON true
CROSS JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM events_death x WHERE x.person_id = p.id AND x.died_on <= d
                     AND prisoners_listing_level(x.visibility) <= v.tier) AS dead,
           ce.id IS NOT NULL AS held,
           EXISTS (SELECT 1 FROM events_courtdecision k
                   WHERE k.episode_id = ce.id AND k.kind IN ('sentence', 'appeal', 'extension')
                     AND prisoners_listing_level(k.visibility) <= v.tier
                     AND (k.decided_on IS NULL OR k.decided_on <= d)) AS sentenced,
           EXISTS (SELECT 1 FROM events_charge h WHERE h.episode_id = ce.id
                     AND prisoners_listing_level(h.visibility) <= v.tier) AS charged,
           (lg.to_country_id IS NOT NULL AND lg.to_country_id <> le.country_id) AS expelled,
           EXISTS (SELECT 1 FROM events_detentionepisode e WHERE e.person_id = p.id
                     AND prisoners_listing_level(e.visibility) <= v.tier) AS has_episode
) f
$$;
"""

ROWS = """
CREATE OR REPLACE FUNCTION prisoners_listing_rows(ids bigint[], d date)
RETURNS TABLE (
    person_id bigint, visibility varchar, merged_into_id bigint, name_withheld boolean,
    sort_name varchar, sort_name_be varchar, sort_name_ru varchar, sort_name_uk varchar,
    gender varchar, birth_year smallint, home_region_id bigint,
    status varchar, country_now_id bigint, place_now_id bigint, place_level smallint,
    custody_country_id bigint, facility_id bigint,
    detained_on date, detained_on_precision varchar, first_arrest_on date,
    days_key integer, growing boolean, as_of date, valid_until date,
    article_codes bigint[], deal_codes bigint[], recogniser_codes bigint[],
    year_codes integer[], risk_codes integer[]
)
-- Every read is by an indexed key; seq scans are off so that statistics still describing the
-- tables before a bulk load (COPY of the generator) cannot turn the lookups into table scans.
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
SELECT
    p.id,
    p.visibility,
    p.merged_into_id,
    p.name_withheld,
    -- Sort keys: the name localized_name shows the public (a name-withheld person is listed
    -- for staff only, see visibility.listing_filter).
    p.name,
    coalesce(nm.be, nm.ru, p.name),
    coalesce(nm.ru, nm.be, p.name),
    coalesce(nm.uk, nm.be, nm.ru, p.name),
    p.gender,
    extract(year FROM p.birth_date)::smallint,
    p.home_region_id,
    s.status, s.country_now_id, s.place_now_id, s.place_level, s.custody_country_id,
    s.facility_id, s.detained_on, s.detained_on_precision,
    ep.first_arrest,
    -- events.selectors.with_days_in_detention: episodes with a known arrest by d.
    CASE WHEN ep.growing THEN ep.days - (d - DATE '2000-01-01') ELSE ep.days END,
    ep.growing,
    d,
    (SELECT min(x) FROM (
        SELECT ep.next_arrest
        UNION ALL SELECT ep.next_end
        UNION ALL SELECT min(c.started_on) FROM events_custodyplacement c
            WHERE c.person_id = p.id AND c.started_on > d
        UNION ALL SELECT min(c.ended_on) FROM events_custodyplacement c
            WHERE c.person_id = p.id AND c.ended_on > d
        UNION ALL SELECT min(k.decided_on) FROM events_courtdecision k
            WHERE k.episode_id = ANY(ep.episode_ids) AND k.decided_on > d
        UNION ALL SELECT min(x.died_on) FROM events_death x
            WHERE x.person_id = p.id AND x.died_on > d
        UNION ALL SELECT min(coalesce(t.transferred_on, r.released_on)) FROM events_transfer t
            LEFT JOIN events_release r ON r.id = t.release_id
            WHERE t.person_id = p.id AND coalesce(t.transferred_on, r.released_on) > d
        UNION ALL SELECT min(g.recognised_on) FROM prisoners_recognition g
            WHERE g.person_id = p.id AND g.recognised_on > d
        UNION ALL SELECT min(g.withdrawn_on) FROM prisoners_recognition g
            WHERE g.person_id = p.id AND g.withdrawn_on > d
        UNION ALL SELECT min(a.since) FROM prisoners_atriskflag a
            WHERE a.person_id = p.id AND a.since > d
        UNION ALL SELECT min(a.until) + 1 FROM prisoners_atriskflag a
            WHERE a.person_id = p.id AND a.until >= d
    ) AS s(x)),
    coalesce((SELECT array_agg(k.id * 4 + k.level ORDER BY k.id) FROM (
        SELECT h.article_id AS id,
               min(greatest(prisoners_listing_level(h.visibility),
                            prisoners_listing_level(e.visibility))) AS level
        FROM events_detentionepisode e JOIN events_charge h ON h.episode_id = e.id
        WHERE e.person_id = p.id GROUP BY 1) k), '{}'),
    coalesce((SELECT array_agg(k.id * 4 + k.level ORDER BY k.id) FROM (
        SELECT r.deal_id AS id,
               min(greatest(prisoners_listing_level(r.visibility),
                            prisoners_listing_level(e.visibility))) AS level
        FROM events_detentionepisode e JOIN events_release r ON r.episode_id = e.id
        WHERE e.person_id = p.id AND r.deal_id IS NOT NULL
        GROUP BY 1) k), '{}'),
    coalesce((SELECT array_agg(k.id * 4 + k.level ORDER BY k.id) FROM (
        SELECT g.organisation_id AS id, min(prisoners_listing_level(g.visibility)) AS level
        FROM prisoners_recognition g
        WHERE g.person_id = p.id AND (g.recognised_on IS NULL OR g.recognised_on <= d)
          AND (g.withdrawn_on IS NULL OR g.withdrawn_on > d)
        GROUP BY 1) k), '{}'),
    coalesce((SELECT array_agg(k.id * 4 + k.level ORDER BY k.id) FROM (
        SELECT extract(year FROM e.arrested_on)::integer AS id,
               min(prisoners_listing_level(e.visibility)) AS level
        FROM events_detentionepisode e
        WHERE e.person_id = p.id AND e.arrested_on IS NOT NULL GROUP BY 1) k), '{}'),
    coalesce((SELECT array_agg(k.id * 4 + k.level ORDER BY k.id) FROM (
        SELECT array_position(
                   ARRAY['serious_illness', 'over_60', 'disability', 'family', 'other'], a.kind
               ) AS id,
               min(prisoners_listing_level(a.visibility)) AS level
        FROM prisoners_atriskflag a
        WHERE a.person_id = p.id AND (a.since IS NULL OR a.since <= d)
          AND (a.until IS NULL OR a.until >= d)
        GROUP BY 1) k), '{}')
FROM prisoners_person p
JOIN prisoners_listing_status(ids, d) AS s ON s.person_id = p.id
LEFT JOIN LATERAL (
    SELECT max(v.text) FILTER (WHERE v.language = 'be') AS be,
           max(v.text) FILTER (WHERE v.language = 'ru') AS ru,
           max(v.text) FILTER (WHERE v.language = 'uk') AS uk
    FROM prisoners_namevariant v
    WHERE v.person_id = p.id AND v.kind = 'primary' AND v.visibility = 'public'
) nm ON true
-- The episodes the row's tier sees (see prisoners_listing_status), each with its end as that
-- tier sees it.
LEFT JOIN LATERAL (
    SELECT count(*) AS n,
           array_agg(e.id) AS episode_ids,
           min(coalesce(e.arrested_on, DATE '0001-01-01')) AS first_arrest,
           coalesce(sum(least(coalesce(e.end_seen, d), d) - e.arrested_on)
                    FILTER (WHERE e.arrested_on <= d), 0)::integer AS days,
           coalesce(bool_or(e.arrested_on <= d AND (e.end_seen IS NULL OR e.end_seen > d)),
                    false) AS growing,
           min(e.arrested_on) FILTER (WHERE e.arrested_on > d) AS next_arrest,
           min(e.end_seen) FILTER (WHERE e.end_seen > d) AS next_end
    FROM (
        SELECT e.id, e.arrested_on,
               prisoners_listing_end(e.person_id, e.arrested_on, e.ended_on, e.end_level,
                                     prisoners_listing_level(p.visibility)) AS end_seen
        FROM events_detentionepisode e
        WHERE e.person_id = p.id
          AND prisoners_listing_level(e.visibility) <= prisoners_listing_level(p.visibility)
    ) e
) ep ON true
WHERE p.id = ANY(ids)
$$;
"""


def rebuild(apps, schema_editor):  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM prisoners_person")
        (last,) = cursor.fetchone()
        for start in range(0, last + 1, 20000):
            cursor.execute(
                "SELECT prisoners_listing_refresh(ARRAY(SELECT id FROM prisoners_person"
                " WHERE id > %s AND id <= %s))",
                [start, start + 20000],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("prisoners", "0005_listing"),
        ("events", "0006_episode_end_level"),
    ]

    operations = [
        migrations.RunSQL(
            END + STATUS + ROWS,
            LISTING.STATUS + LISTING.ROWS + "DROP FUNCTION IF EXISTS"
            " prisoners_listing_end(bigint, date, date, smallint, smallint);",
        ),
        migrations.RunPython(rebuild, rebuild),
    ]
