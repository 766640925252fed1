"""The read-only open-data API: routes of both apps, and the OpenAPI schema.

The schema is served as JSON at ``/api/schema/``; the open-data page (``events:open-data``)
renders the same schema as a readable reference, so no documentation UI is loaded from a CDN.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from events.api import DealViewSet, EpisodeViewSet, StatisticsView
from prisoners.api import PersonViewSet, not_found

app_name = "api"

router = DefaultRouter()
router.register("persons", PersonViewSet, basename="person")
router.register("events", EpisodeViewSet, basename="event")
router.register("deals", DealViewSet, basename="deal")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("statistics/", StatisticsView.as_view(), name="statistics"),
    path("", include(router.urls)),
    # Anything else under /api/ ending in a slash: JSON, not the site's HTML page. (Without the
    # slash, CommonMiddleware first redirects to the address with one.)
    re_path(r"^.*/$", not_found),
]
