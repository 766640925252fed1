from django.db import migrations

# ``prisoners_listing_prepare(d)`` runs at every listing request. PL/pgSQL caches the plans of
# its statements; after five calls in a session it may keep a generic plan, planned without the
# day: for ``valid_until <= d`` that is a sequential scan of the whole listing (about 250 ms at a
# million persons) instead of the partial index on ``valid_until`` (well under a millisecond).
# Planning each call with its day costs a fraction of a millisecond.

FORWARD = "ALTER FUNCTION prisoners_listing_prepare(date) SET plan_cache_mode = force_custom_plan;"
BACKWARD = "ALTER FUNCTION prisoners_listing_prepare(date) RESET plan_cache_mode;"


class Migration(migrations.Migration):
    dependencies = [
        ("prisoners", "0007_namevariant_visibility_unindexed"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD, elidable=False)]
