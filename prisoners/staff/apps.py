from django.apps import AppConfig


class StaffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prisoners.staff"
    label = "staff"
    verbose_name = "Staff curation"
