"""The catalogue of Criminal Code articles most used against political prisoners in Belarus."""

from django.db import migrations

ARTICLES = [
    ("130", "Incitement of racial, national, religious or other social hatred",
     "Разжигание расовой, национальной, религиозной либо иной социальной вражды или розни"),
    ("191", "Obstruction of electoral rights", "Воспрепятствование осуществлению избирательных прав"),
    ("235", "Legalisation of proceeds of crime", "Легализация («отмывание») средств, полученных преступным путём"),
    ("243", "Tax evasion", "Уклонение от уплаты сумм налогов, сборов"),
    ("285", "Creation of or participation in a criminal organisation",
     "Создание преступной организации либо участие в ней"),
    ("293", "Mass riots", "Массовые беспорядки"),
    ("339", "Hooliganism", "Хулиганство"),
    ("342", "Organisation of or participation in actions grossly violating public order",
     "Организация и подготовка действий, грубо нарушающих общественный порядок, либо активное участие в них"),
    ("356", "Treason", "Измена государству"),
    ("357", "Conspiracy to seize state power", "Заговор или иные действия, совершённые с целью захвата государственной власти"),
    ("361", "Calls for actions harming national security",
     "Призывы к действиям, направленным на причинение вреда национальной безопасности"),
    ("361-1", "Creation of or participation in an extremist formation",
     "Создание экстремистского формирования либо участие в нём"),
    ("361-2", "Financing of extremist activity", "Финансирование экстремистской деятельности"),
    ("361-4", "Facilitation of extremist activity", "Содействие экстремистской деятельности"),
    ("364", "Violence or threat of violence against a police officer",
     "Насилие либо угроза применения насилия в отношении сотрудника органов внутренних дел"),
    ("367", "Defamation of the President", "Клевета в отношении Президента Республики Беларусь"),
    ("368", "Insulting the President", "Оскорбление Президента Республики Беларусь"),
    ("369", "Insulting a representative of the authorities", "Оскорбление представителя власти"),
    ("370", "Desecration of state symbols", "Надругательство над государственными символами"),
    ("411", "Malicious disobedience to the administration of a correctional institution",
     "Злостное неповиновение требованиям администрации исправительного учреждения"),
    ("430", "Taking a bribe", "Получение взятки"),
]


def load(apps, schema_editor):
    country_model = apps.get_model("prisoners", "Country")
    code_model = apps.get_model("events", "CriminalCode")
    article_model = apps.get_model("events", "CriminalArticle")
    code, _ = code_model.objects.get_or_create(
        short_name="BY-CC",
        defaults={
            "name": "Criminal Code of the Republic of Belarus",
            "country": country_model.objects.get(code="BY"),
        },
    )
    for number, title, title_ru in ARTICLES:
        article_model.objects.get_or_create(
            code=code, number=number, defaults={"title": title, "title_ru": title_ru}
        )


class Migration(migrations.Migration):
    dependencies = [("events", "0002_initial"), ("prisoners", "0003_places")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
