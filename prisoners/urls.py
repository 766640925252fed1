from django.urls import path

from . import views
from .views import listing, profile, search

app_name = "prisoners"

urlpatterns = [
    path("", views.home, name="home"),
    path("persons/", listing.person_list, name="list"),
    path("persons/export.csv", listing.export_csv, name="export-csv"),
    path("persons/export.json", listing.export_json, name="export-json"),
    path("persons/<int:pk>/", profile.person_detail, name="detail"),
    path("search/", search.search, name="search"),
    path("search/suggest/", search.suggest, name="suggest"),
]
