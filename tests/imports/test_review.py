"""Deciding proposals: accept (create, cite or claim), edit then accept, reject, twice, bulk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from events.ingest import pipeline
from events.ingest.models import Proposal
from events.ingest.review import ReviewError, proposal_accept, proposal_reject, proposals_decide
from events.models import Citation, Claim, CourtDecision, DetentionEpisode, Release, Transfer
from prisoners.models import NameVariant, Person, Visibility

CORPUS = Path(__file__).parent.parent / "articles" / "corpus"
SEED = (CORPUS / "000_af7107ba822f2a0d.txt").read_bytes()

FREED = """Title: Journalist Julia Fenner freed and flown to Vilnius
Publisher: Example News
Date: 2026-11-21
URL: https://news.example.org/fenner-freed

Julia Fenner was released from prison on Friday, her editor said.
Fenner was later taken to Vilnius, where she met colleagues.
"""

pytestmark = pytest.mark.django_db


def _id(name: str) -> Any:
    return NameVariant.objects.filter(text=name).values_list("person_id", flat=True).first()


def _import(django_capture_on_commit_callbacks: Any, text: str) -> Any:
    with django_capture_on_commit_callbacks(execute=True):
        run = pipeline.run_for_text(text=text, user=None)
    return run.items.get().article


@pytest.fixture
def freed(demo, django_capture_on_commit_callbacks):
    return _import(django_capture_on_commit_callbacks, FREED)


def _history_reason(obj: Any) -> tuple[str, dict[str, Any]]:
    event = type(obj).pgh_event_model.objects.filter(pgh_obj_id=obj.pk).order_by("-pgh_id")[0]
    return event.pgh_context.metadata["reason"], event.pgh_context.metadata


def test_accepting_a_release_creates_a_draft_release_citing_the_article(freed, editor):
    fenner = Person.objects.get(pk=_id("Julia Fenner"))
    proposal = Proposal.objects.get(article=freed, kind="release", person=fenner)
    assert proposal.date.isoformat() == "2026-11-20"  # "on Friday" before Sat 21 Nov
    accepted = proposal_accept(proposal_id=proposal.pk, user=editor, reason="editor confirmed")
    assert accepted.status == "accepted"
    release = Release.objects.get(episode__person=fenner)
    assert accepted.result == release
    assert release.released_on.isoformat() == "2026-11-20"
    assert release.visibility == Visibility.DRAFT  # nothing imported is published by itself
    assert DetentionEpisode.objects.get(pk=release.episode_id).ended_on == release.released_on
    citation = Citation.objects.get(
        content_type=ContentType.objects.get_for_model(Release), object_id=release.pk
    )
    assert citation.source.url == "https://news.example.org/fenner-freed"
    assert citation.source.title == "Journalist Julia Fenner freed and flown to Vilnius"
    assert "released from prison on Friday" in citation.quote
    reason, context = _history_reason(release)
    assert reason.startswith("editor confirmed [accepted proposal")
    assert "Journalist Julia Fenner freed" in reason
    assert context["user"] == editor.pk
    assert context["source"] == citation.source_id
    proposal_event = Proposal.pgh_event_model.objects.filter(pgh_obj_id=proposal.pk).last()
    assert proposal_event.pgh_context.metadata["user"] == editor.pk


def test_accepting_twice_creates_nothing_twice(freed, editor):
    proposal = Proposal.objects.get(article=freed, kind="release")
    proposal_accept(proposal_id=proposal.pk, user=editor, reason="ok")
    counts = (Release.objects.count(), Citation.objects.count())
    again = proposal_accept(proposal_id=proposal.pk, user=editor, reason="ok again")
    assert again.status == "accepted"
    assert (Release.objects.count(), Citation.objects.count()) == counts
    assert again.decision_reason == "ok"


def test_the_transfer_follows_the_accepted_release(freed, editor):
    release = Proposal.objects.get(article=freed, kind="release")
    transfer = Proposal.objects.get(article=freed, kind="transfer")
    assert transfer.to_country.code == "LT"
    outcome = proposals_decide(
        ids=[release.pk, transfer.pk], accept=True, user=editor, reason="both stated"
    )
    assert outcome.errors == {}
    leg = Transfer.objects.get(person_id=_id("Julia Fenner"))
    assert leg.release == Release.objects.get(episode__person_id=_id("Julia Fenner"))
    assert (leg.from_country.code, leg.to_country.code) == ("BY", "LT")
    assert leg.visibility == Visibility.DRAFT


def test_a_known_fact_is_cited_and_a_different_value_kept_as_a_claim(
    demo, editor, django_capture_on_commit_callbacks
):
    article = _import(django_capture_on_commit_callbacks, SEED.decode())
    tsikhanouski = _id("Sergei Tikhanovsky")
    releases = Release.objects.filter(episode__person_id=tsikhanouski).count()
    proposal = Proposal.objects.get(article=article, kind="release", person_id=tsikhanouski)
    proposal_accept(proposal_id=proposal.pk, user=editor, reason="the report")
    assert Release.objects.filter(episode__person_id=tsikhanouski).count() == releases
    release = Release.objects.get(episode__person_id=tsikhanouski)
    assert Citation.objects.filter(
        object_id=release.pk, source__title__startswith="Belarus"
    ).exists()
    claim = Claim.objects.get(object_id=release.pk, field_name="released_on")
    assert claim.value == "2025-12-13"  # the demo has "on or before 14 Dec": shown side by side


def test_group_counts_go_to_the_deal(demo, editor, django_capture_on_commit_callbacks):
    article = _import(django_capture_on_commit_callbacks, SEED.decode())
    to_ukraine = Proposal.objects.get(article=article, kind="transfer", count=114)
    proposal_accept(proposal_id=to_ukraine.pk, user=editor, reason="numbers of the report")
    destination = demo.destinations.get(country__code="UA")
    assert destination.reported_count == 114
    assert Citation.objects.filter(object_id=destination.pk, source__title__startswith="Belarus")
    total = Proposal.objects.get(article=article, kind="release", count=123)
    proposal_accept(proposal_id=total.pk, user=editor, reason="numbers of the report")
    demo.refresh_from_db()
    assert demo.reported_total == 123


def test_a_group_count_without_a_deal_asks_for_one(
    demo, editor, django_capture_on_commit_callbacks
):
    article = _import(django_capture_on_commit_callbacks, SEED.decode())
    total = Proposal.objects.get(article=article, kind="release", count=123)
    Proposal.objects.filter(pk=total.pk).update(deal=None)
    with pytest.raises(ReviewError, match="choose the deal"):
        proposal_accept(proposal_id=total.pk, user=editor, reason="x")
    proposal_accept(proposal_id=total.pk, user=editor, reason="x", changes={"deal": demo})
    assert Proposal.objects.get(pk=total.pk).deal == demo


def test_edit_then_accept_and_the_errors_that_ask_for_an_edit(freed, editor):
    proposal = Proposal.objects.get(article=freed, kind="release")
    Proposal.objects.filter(pk=proposal.pk).update(date=None)
    with pytest.raises(ReviewError, match="enter the date"):
        proposal_accept(proposal_id=proposal.pk, user=editor, reason="x")
    assert Proposal.objects.get(pk=proposal.pk).status == "pending"  # nothing half-written
    assert not Release.objects.filter(episode__person_id=_id("Julia Fenner")).exists()
    import datetime as dt

    proposal_accept(
        proposal_id=proposal.pk,
        user=editor,
        reason="date from her editor",
        changes={"date": dt.date(2026, 11, 19), "date_precision": "day"},
    )
    release = Release.objects.get(episode__person_id=_id("Julia Fenner"))
    assert release.released_on == dt.date(2026, 11, 19)


def test_an_ambiguous_name_must_be_resolved_and_a_new_name_creates_a_draft_person(
    demo, editor, django_capture_on_commit_callbacks
):
    article = _import(django_capture_on_commit_callbacks, FREED)
    proposal = Proposal.objects.get(article=article, kind="release")
    Proposal.objects.filter(pk=proposal.pk).update(person=None, candidates=[1, 2])
    with pytest.raises(ReviewError, match="several persons"):
        proposal_accept(proposal_id=proposal.pk, user=editor, reason="x")
    Proposal.objects.filter(pk=proposal.pk).update(candidates=[], person_name="Ivan Novik")
    accepted = proposal_accept(
        proposal_id=proposal.pk, user=editor, reason="new name in the report"
    )
    person = Person.objects.get(name="Ivan Novik")
    assert person.visibility == Visibility.DRAFT
    assert accepted.person == person
    release = Release.objects.get(episode__person=person)
    assert release.visibility == Visibility.DRAFT
    assert Citation.objects.filter(object_id=person.pk, field_name="name").exists()


def test_detention_and_sentence_proposals(demo, editor, django_capture_on_commit_callbacks):
    text = (
        "Title: Activist sentenced\nDate: 2026-03-10\n\n"
        "Julia Fenner was sentenced to 6 years in a penal colony on Monday, the court said."
    )
    article = _import(django_capture_on_commit_callbacks, text)
    sentence = Proposal.objects.get(article=article, kind="sentence")
    assert sentence.term
    before = CourtDecision.objects.filter(episode__person_id=_id("Julia Fenner")).count()
    proposal_accept(proposal_id=sentence.pk, user=editor, reason="court report")
    decisions = CourtDecision.objects.filter(episode__person_id=_id("Julia Fenner"))
    assert decisions.count() == before + 1  # another day than the sentence of the demo
    decision = decisions.get(decided_on=sentence.date)
    assert (decision.term_years, decision.visibility) == (6, "draft")
    assert Citation.objects.filter(object_id=decision.pk, source__title="Activist sentenced")
    assert Citation.objects.filter(source__title="Activist sentenced").exists()


def test_reject_and_its_rules(freed, editor):
    proposal = Proposal.objects.get(article=freed, kind="release")
    with pytest.raises(ReviewError, match="reason"):
        proposal_reject(proposal_id=proposal.pk, user=editor, reason=" ")
    rejected = proposal_reject(proposal_id=proposal.pk, user=editor, reason="wrong person")
    assert (rejected.status, rejected.decided_by, rejected.decision_reason) == (
        "rejected",
        editor,
        "wrong person",
    )
    with pytest.raises(ReviewError, match="rejected"):
        proposal_accept(proposal_id=proposal.pk, user=editor, reason="changed my mind")
    assert not Release.objects.filter(episode__person_id=_id("Julia Fenner")).exists()


def test_bulk_decisions_report_what_failed_and_keep_the_rest(freed, editor):
    release = Proposal.objects.get(article=freed, kind="release")
    transfer = Proposal.objects.get(article=freed, kind="transfer")
    Proposal.objects.filter(pk=transfer.pk).update(to_country=None)
    outcome = proposals_decide(
        ids=[release.pk, transfer.pk, 999999], accept=True, user=editor, reason="bulk"
    )
    assert [p.pk for p in outcome.accepted] == [release.pk]
    assert "country" in outcome.errors[transfer.pk]
    assert 999999 in outcome.errors
    assert Proposal.objects.get(pk=transfer.pk).status == "pending"  # nothing half-done
