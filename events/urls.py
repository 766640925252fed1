from django.urls import path

from .views import deals, feeds, opendata, statistics

app_name = "events"

urlpatterns = [
    path("deals/", deals.deal_list_view, name="deal-list"),
    path("deals/<slug:slug>/", deals.deal_detail_view, name="deal-detail"),
    path("statistics/", statistics.statistics, name="statistics"),
    path("feeds/releases.atom", feeds.feed, name="feed"),
    path("open-data/", opendata.open_data, name="open-data"),
]
