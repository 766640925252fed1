"""Reference places: Belarusian regions, the cities and the best-known places of custody."""

from django.db import migrations

REGIONS = [
    ("Brest Region", "Брэсцкая вобласць", "Брестская область"),
    ("Vitsebsk Region", "Віцебская вобласць", "Витебская область"),
    ("Homiel Region", "Гомельская вобласць", "Гомельская область"),
    ("Hrodna Region", "Гродзенская вобласць", "Гродненская область"),
    ("Minsk Region", "Мінская вобласць", "Минская область"),
    ("Mahiliou Region", "Магілёўская вобласць", "Могилёвская область"),
    ("Minsk City", "Мінск", "Минск"),
]

# (country, region, name, name_be, name_ru)
CITIES = [
    ("BY", "Minsk City", "Minsk", "Мінск", "Минск"),
    ("BY", "Minsk Region", "Zhodzina", "Жодзіна", "Жодино"),
    ("BY", "Homiel Region", "Homiel", "Гомель", "Гомель"),
    ("BY", "Hrodna Region", "Hrodna", "Гродна", "Гродно"),
    ("BY", "Mahiliou Region", "Mahiliou", "Магілёў", "Могилёв"),
    ("BY", "Mahiliou Region", "Babruisk", "Бабруйск", "Бобруйск"),
    ("BY", "Mahiliou Region", "Horki", "Горкі", "Горки"),
    ("BY", "Vitsebsk Region", "Vitsebsk", "Віцебск", "Витебск"),
    ("BY", "Vitsebsk Region", "Hlybokaye", "Глыбокае", "Глубокое"),
    ("BY", "Homiel Region", "Zarechcha", "Зарэчча", "Заречье"),
    ("BY", "Brest Region", "Brest", "Брэст", "Брест"),
    ("LT", None, "Vilnius", "Вільня", "Вильнюс"),
    ("UA", None, "Kyiv", "Кіеў", "Киев"),
    ("PL", None, "Warsaw", "Варшава", "Варшава"),
]

# (kind, city, name, name_be, name_ru)
FACILITIES = [
    ("pre_trial", "Minsk", "Pre-trial detention centre No. 1, Minsk",
     "СІЗА № 1, Мінск", "СИЗО № 1, Минск"),
    ("kgb", "Minsk", "KGB pre-trial detention centre, Minsk", "СІЗА КДБ, Мінск", "СИЗО КГБ, Минск"),
    ("pre_trial", "Zhodzina", "Prison No. 8, Zhodzina", "Турма № 8, Жодзіна", "Тюрьма № 8, Жодино"),
    ("colony", "Homiel", "Penal colony No. 4, Homiel", "Калонія № 4, Гомель", "Колония № 4, Гомель"),
    ("colony", "Zarechcha", "Penal colony No. 24, Zarechcha",
     "Калонія № 24, Зарэчча", "Колония № 24, Заречье"),
    ("prison", "Hrodna", "Prison No. 1, Hrodna", "Турма № 1, Гродна", "Тюрьма № 1, Гродно"),
    ("prison", "Mahiliou", "Prison No. 4, Mahiliou", "Турма № 4, Магілёў", "Тюрьма № 4, Могилёв"),
    ("colony", "Vitsebsk", "Penal colony No. 3, Vitsba", "Калонія № 3, Віцьба", "Колония № 3, Витьба"),
    ("colony", "Horki", "Penal colony No. 9, Horki", "Калонія № 9, Горкі", "Колония № 9, Горки"),
    ("colony", "Babruisk", "Penal colony No. 2, Babruisk",
     "Калонія № 2, Бабруйск", "Колония № 2, Бобруйск"),
    ("colony", "Hlybokaye", "Penal colony No. 13, Hlybokaye",
     "Калонія № 13, Глыбокае", "Колония № 13, Глубокое"),
    ("colony", "Mahiliou", "Penal colony No. 15, Mahiliou",
     "Калонія № 15, Магілёў", "Колония № 15, Могилёв"),
]


def load(apps, schema_editor):
    country_model = apps.get_model("prisoners", "Country")
    region_model = apps.get_model("prisoners", "Region")
    place_model = apps.get_model("prisoners", "Place")
    countries = {c.code: c for c in country_model.objects.filter(code__in=["BY", "LT", "UA", "PL"])}
    regions = {}
    for name, name_be, name_ru in REGIONS:
        regions[name], _ = region_model.objects.get_or_create(
            country=countries["BY"], name=name, defaults={"name_be": name_be, "name_ru": name_ru}
        )
    cities = {}
    for code, region, name, name_be, name_ru in CITIES:
        cities[name], _ = place_model.objects.get_or_create(
            country=countries[code],
            kind="city",
            name=name,
            defaults={"name_be": name_be, "name_ru": name_ru, "region": regions.get(region)},
        )
    for kind, city, name, name_be, name_ru in FACILITIES:
        place_model.objects.get_or_create(
            country=countries["BY"],
            kind=kind,
            name=name,
            defaults={
                "name_be": name_be,
                "name_ru": name_ru,
                "city": cities[city],
                "region": cities[city].region,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("prisoners", "0002_countries")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
