"""Load every ISO 3166 country with its names in English, Belarusian, Russian and Ukrainian."""

from django.db import migrations

NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"}


def load_countries(apps, schema_editor):
    from babel import Locale

    country_model = apps.get_model("prisoners", "Country")
    names = {lang: Locale(lang).territories for lang in ("en", "be", "ru", "uk")}
    rows = [
        country_model(
            code=code,
            name=name,
            name_be=names["be"].get(code, ""),
            name_ru=names["ru"].get(code, ""),
            name_uk=names["uk"].get(code, ""),
        )
        for code, name in names["en"].items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    ]
    country_model.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("prisoners", "0001_initial")]

    operations = [migrations.RunPython(load_countries, migrations.RunPython.noop)]
