"""URLs under ``/staff/``. Every view declares its roles with ``roles.staff_view``; the test
``tests/staff/test_roles.py`` walks this resolver for every role."""

from django.urls import path

from events.ingest import views as imports

from .views import auth, dashboard, deal_entry, duplicates, entry, history, review, users

app_name = "staff"

urlpatterns = [
    path("", dashboard.dashboard_view, name="dashboard"),
    path("login/", auth.login_view, name="login"),
    path("login/code/", auth.verify_view, name="verify"),
    path("login/enrol/", auth.enrol_view, name="enrol"),
    path("logout/", auth.logout_view, name="logout"),
    path("terms-ending/", dashboard.terms_ending_view, name="terms-ending"),
    path("incommunicado/", dashboard.incommunicado_view, name="incommunicado"),
    path("review/<slug:kind>/", review.review_list_view, name="review-list"),
    path("review/<slug:kind>/<int:pk>/", review.review_detail_view, name="review-detail"),
    path(
        "review/<slug:kind>/<int:pk>/visibility/",
        review.visibility_view,
        name="review-visibility",
    ),
    path("review/<slug:kind>/<int:pk>/claims/", review.claim_add_view, name="review-claim-add"),
    path(
        "review/<slug:kind>/<int:pk>/claims/accept/",
        review.claim_accept_view,
        name="review-claim-accept",
    ),
    path(
        "history/<slug:app_label>/<slug:model_name>/<int:pk>/",
        history.history_view,
        name="history",
    ),
    path(
        "history/<slug:app_label>/<slug:model_name>/<int:pk>/revert/<int:event_id>/",
        history.revert_view,
        name="revert",
    ),
    path("deals/new/", deal_entry.deal_entry_view, name="deal-entry"),
    # Entry forms (views/entry.py): a person, and the facts of a person.
    path("persons/new/", entry.person_entry_view, name="entry-person"),
    path("persons/<int:person_id>/episodes/new/", entry.episode_entry_view, name="entry-episode"),
    path("persons/<int:person_id>/charges/new/", entry.charge_entry_view, name="entry-charge"),
    path(
        "persons/<int:person_id>/sentences/new/", entry.sentence_entry_view, name="entry-sentence"
    ),
    path(
        "persons/<int:person_id>/placements/new/",
        entry.placement_entry_view,
        name="entry-placement",
    ),
    path(
        "persons/<int:person_id>/incommunicado/new/",
        entry.incommunicado_entry_view,
        name="entry-incommunicado",
    ),
    path("persons/<int:person_id>/releases/new/", entry.release_entry_view, name="entry-release"),
    path(
        "persons/<int:person_id>/transfers/new/",
        entry.transfers_entry_view,
        name="entry-transfers",
    ),
    path("review/<slug:kind>/<int:pk>/edit/", entry.field_edit_view, name="entry-field-edit"),
    path("duplicates/", duplicates.duplicates_view, name="duplicates"),
    path("duplicates/dismiss/", duplicates.dismiss_view, name="duplicates-dismiss"),
    path("duplicates/merge/", duplicates.merge_view, name="merge"),
    path("users/", users.user_list_view, name="user-list"),
    path("users/new/", users.user_create_view, name="user-create"),
    path("users/<int:pk>/", users.user_detail_view, name="user-detail"),
    path(
        "users/<int:pk>/two-factor/reset/", users.user_reset_device_view, name="user-reset-device"
    ),
    path("users/<int:pk>/unlock/", users.user_unlock_view, name="user-unlock"),
    # Article import (events.ingest)
    path("imports/", imports.imports_view, name="imports"),
    path("imports/runs/<int:pk>/", imports.run_view, name="import-run"),
    path("imports/runs/<int:pk>/progress/", imports.run_progress_view, name="import-progress"),
    path("imports/feeds/", imports.feeds_view, name="import-feeds"),
    path("imports/feeds/new/", imports.feed_create_view, name="import-feed-create"),
    path("imports/feeds/<int:pk>/", imports.feed_view, name="import-feed"),
    path("imports/feeds/<int:pk>/poll/", imports.feed_poll_view, name="import-feed-poll"),
    path("imports/articles/<int:pk>/", imports.article_view, name="import-article"),
    path("proposals/", imports.proposals_view, name="proposals"),
    path("proposals/<int:pk>/", imports.proposal_view, name="proposal"),
]
