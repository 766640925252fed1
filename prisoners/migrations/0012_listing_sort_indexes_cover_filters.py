from django.db import migrations

# A page of the listing walks the index of its sort order and keeps the rows that pass the
# filters, until the page is full. It reads the table for every row it walks: when the filters
# are correlated with the order (the young were detained recently, so sorting by the earliest
# detention meets them late), or keep few rows (one person in 200), that is thousands or tens
# of thousands of rows before the page is full, mostly not in PostgreSQL's buffers: at a
# million persons ``age=18-29&sort=detained`` read 50,000 rows, 180-240 ms, and
# ``gender=unknown`` (by name) 90 ms the first time.
#
# The sort indexes now carry every column a filter of the listing reads (INCLUDE), so the walk
# is an index-only scan that reads no table row it leaves out (where the visibility map says
# the page is all visible, as it is once vacuumed): 8 ms for the first page above. Their cost
# is size: at a million persons about 230 MB for each detention-date index (42 MB before),
# 99 and 130 MB for the two days indexes, and the name indexes grow likewise.
#
# The indexes keep their names and key columns, which is what the model declares
# (``PersonListing.Meta.indexes``); only the INCLUDE list is added here.

COVERED = (
    "visibility, name_withheld, merged_into_id, status, gender, birth_year, home_region_id, "
    "country_now_id, custody_country_id, facility_id, place_level, article_codes, deal_codes, "
    "recogniser_codes, year_codes, risk_codes"
)

INDEXES = (
    ("prisoners_listing_name_en", "(sort_name, person_id)", ""),
    ("prisoners_listing_name_be", "(sort_name_be, person_id)", ""),
    ("prisoners_listing_name_ru", "(sort_name_ru, person_id)", ""),
    ("prisoners_listing_name_uk", "(sort_name_uk, person_id)", ""),
    ("prisoners_listing_detained", "(detained_on, person_id)", ""),
    ("prisoners_listing_det_desc", "(detained_on DESC NULLS LAST, person_id DESC)", ""),
    ("prisoners_listing_days_grow", "(days_key, person_id)", " WHERE growing"),
    ("prisoners_listing_days_fixed", "(days_key, person_id)", " WHERE NOT growing"),
)


def _sql(include: str) -> str:
    return "\n".join(
        f"DROP INDEX {name};\n"
        f"CREATE INDEX {name} ON prisoners_personlisting {keys}{include}{where};"
        for name, keys, where in INDEXES
    )


FORWARD = _sql(f" INCLUDE ({COVERED})")
BACKWARD = _sql("")


class Migration(migrations.Migration):
    dependencies = [
        ("prisoners", "0011_listing_facets_deferred"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD, elidable=False)]
