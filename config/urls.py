from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("config.api_urls")),
    path("staff/", include("prisoners.staff.urls")),
    path("", include("prisoners.urls")),
    path("", include("events.urls")),
]

handler404 = "prisoners.views.errors.page_not_found"
