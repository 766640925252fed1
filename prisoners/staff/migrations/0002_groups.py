"""The groups behind the staff roles: editors, reviewers, admins.

Idempotent: groups that exist are kept as they are. The names are written out here (not
imported) so that this migration means the same whatever the code becomes. The researchers'
group is made when the first researcher account is (``create_researcher``, the accounts page).
"""

from django.db import migrations

GROUPS = ("editors", "reviewers", "admins")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("staff", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
