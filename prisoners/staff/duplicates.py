"""Likely duplicates: pairs of persons that are probably the same person, and why.

Candidates are persons whose name variants share a *skeleton* (``staff_name_skeleton``, migration
``staff.0003_duplicates``: the search key without vowels, й, ў and soft signs), so that
"Kalesnikava", "Kolesnikova", "Калеснікава" and "Колесникова" meet. The groups are read in key
order from an index that holds the key and the person (an index-only scan that stops after one
page of groups), never by scanning every person: a page costs the same with a million persons.
Keys shared by more than ``GROUP_CAP`` persons (very common names) are left out.

Each pair of a page is then scored from what is known of both persons:

- the same spelling (search key), or only a similar one (skeleton);
- the birth year: the same, one unknown, or different (a strong sign of two persons);
- detention episodes arrested on the same day, or overlapping;
- an identifier in another list with the same value or URL.

Merged persons and pairs dismissed as "not the same person" (``DuplicateDismissal``) are not
suggested.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from events.models import DetentionEpisode
from prisoners.audit import audit_context
from prisoners.errors import ApplicationError
from prisoners.models import DatePrecision, ExternalIdentifier, Person

from .models import DuplicateDismissal

GROUPS_PER_PAGE = 100
GROUP_CAP = 20
MIN_SCORE = 2

SCORE_SAME_SPELLING = 3
SCORE_SIMILAR_SPELLING = 2
SCORE_SAME_BIRTH_YEAR = 2
SCORE_OTHER_BIRTH_YEAR = -4
SCORE_SAME_ARREST = 3
SCORE_OVERLAPPING_CUSTODY = 1
SCORE_SAME_IDENTIFIER = 4

SAME_SPELLING = _("Same spelling: {text}")
SIMILAR_SPELLING = _("Similar spellings: {one} / {other}")
SAME_BIRTH_YEAR = _("Born the same year: {year}")
ONE_BIRTH_YEAR_UNKNOWN = _("Birth year known for one of them only")
OTHER_BIRTH_YEAR = _("Different birth years: {one} / {other}")
SAME_ARREST = _("Arrested on the same day: {date}")
OVERLAPPING_CUSTODY = _("Detention periods overlap")
SAME_IDENTIFIER = _("Same identifier in another list: {value}")

SAME_PERSON = _("A person cannot be a duplicate of itself.")
ALREADY_DISMISSED = _("This pair was already dismissed.")

SKELETON = "staff_name_skeleton(search_key)"
# How many name variants one page reads at most (in key order, from the index alone).
WINDOW = 50_000

WINDOW_SQL = f"""
SELECT count(*), max(k) FROM (
    SELECT {SKELETON} AS k FROM prisoners_namevariant WHERE {SKELETON} > %s ORDER BY 1 LIMIT %s
) AS scanned
"""  # noqa: S608 (constant)
BEFORE_SQL = f"""
SELECT max({SKELETON}) FROM prisoners_namevariant WHERE {SKELETON} > %s AND {SKELETON} < %s
"""  # noqa: S608 (constant)
GROUPS_SQL = f"""
SELECT {SKELETON}, array_agg(DISTINCT person_id ORDER BY person_id)
FROM prisoners_namevariant
WHERE {SKELETON} > %s AND {SKELETON} <= %s
GROUP BY 1
HAVING count(DISTINCT person_id) BETWEEN 2 AND %s
ORDER BY 1
LIMIT %s
"""  # noqa: S608 (constant)
# How many persons (up to GROUP_CAP + 1) share each of the keys given.
SIZES_SQL = f"""
SELECT k, (SELECT count(*) FROM (
    SELECT DISTINCT person_id FROM prisoners_namevariant WHERE {SKELETON} = k LIMIT %s
) AS d)
FROM unnest(%s::text[]) AS k
"""  # noqa: S608 (constant)


@dataclass
class Pair:
    one: Person
    other: Person
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, score: int, reason: Any) -> None:
        self.score += score
        self.reasons.append(str(reason))


@dataclass
class Page:
    pairs: list[Pair]
    next_after: str | None  # the key the next page starts after; None on the last page


def _birth_year(person: Person) -> int | None:
    known = (DatePrecision.DAY, DatePrecision.MONTH, DatePrecision.YEAR)
    if person.birth_date is None or person.birth_date_precision not in known:
        return None
    return person.birth_date.year


def _overlap(one: DetentionEpisode, other: DetentionEpisode) -> bool:
    def bounds(ep: DetentionEpisode) -> tuple[Any, Any]:
        return ep.arrested_on, ep.ended_on

    (a1, e1), (a2, e2) = bounds(one), bounds(other)
    starts_before_other_ends = e2 is None or a1 is None or a1 <= e2
    other_starts_before_end = e1 is None or a2 is None or a2 <= e1
    return starts_before_other_ends and other_starts_before_end


def _score(pair: Pair, names: dict[int, dict[str, str]], episodes: Any, ids: Any) -> None:
    one, other = pair.one, pair.other
    keys_one, keys_other = names[one.pk], names[other.pk]
    same = sorted(set(keys_one) & set(keys_other))
    if same:
        pair.add(SCORE_SAME_SPELLING, str(SAME_SPELLING).format(text=keys_one[same[0]]))
    else:
        by_skeleton = {skeleton: key for key, skeleton in keys_one.items()}
        for key, skeleton in sorted(keys_other.items()):
            if skeleton in by_skeleton:
                mine = by_skeleton[skeleton]
                text = str(SIMILAR_SPELLING).format(one=mine, other=key)
                pair.add(SCORE_SIMILAR_SPELLING, text)
                break
    year_one, year_other = _birth_year(one), _birth_year(other)
    if year_one is not None and year_one == year_other:
        pair.add(SCORE_SAME_BIRTH_YEAR, str(SAME_BIRTH_YEAR).format(year=year_one))
    elif year_one is not None and year_other is not None:
        text = str(OTHER_BIRTH_YEAR).format(one=year_one, other=year_other)
        pair.add(SCORE_OTHER_BIRTH_YEAR, text)
    elif (year_one is None) != (year_other is None):
        pair.reasons.append(str(ONE_BIRTH_YEAR_UNKNOWN))
    same_day = None
    overlapping = False
    for ep in episodes[one.pk]:
        for ep2 in episodes[other.pk]:
            if (
                ep.arrested_on is not None
                and ep.arrested_on == ep2.arrested_on
                and ep.arrested_on_precision == ep2.arrested_on_precision == DatePrecision.DAY
            ):
                same_day = ep.arrested_on
            elif _overlap(ep, ep2):
                overlapping = True
    if same_day is not None:
        pair.add(SCORE_SAME_ARREST, str(SAME_ARREST).format(date=same_day.isoformat()))
    elif overlapping:
        pair.add(SCORE_OVERLAPPING_CUSTODY, OVERLAPPING_CUSTODY)
    shared = sorted(ids[one.pk] & ids[other.pk])
    if shared:
        pair.add(SCORE_SAME_IDENTIFIER, str(SAME_IDENTIFIER).format(value=shared[0]))


def _groups(after: str, groups: int, window: int) -> tuple[list[tuple[str, list[int]]], str | None]:
    """The name groups (key, persons) of one page after the key ``after``, and the key the next
    page starts after (``None`` at the end). A page reads at most ``window`` index entries."""
    with connection.cursor() as cursor:
        cursor.execute(WINDOW_SQL, [after, window])
        scanned, last = cursor.fetchone()
        if not scanned:
            return [], None
        upper, next_after = last, None
        if scanned == window:
            # The last key may go on beyond the window: this page ends before it.
            cursor.execute(BEFORE_SQL, [after, last])
            before = cursor.fetchone()[0]
            if before is None:  # one key filled the window: far more persons than GROUP_CAP
                return [], last
            upper = next_after = before
        cursor.execute(GROUPS_SQL, [after, upper, GROUP_CAP, groups + 1])
        rows = [(key, list(persons)) for key, persons in cursor.fetchall()]
    if len(rows) > groups:
        rows = rows[:groups]
        next_after = rows[-1][0]
    return rows, next_after


def _shown_before(
    candidates: set[tuple[int, int]], names: dict[int, dict[str, str]], after: str
) -> set[tuple[int, int]]:
    """The pairs that also share a key before this page, of a group an earlier page listed: a
    pair is suggested once, under the first key it shares."""
    earlier: dict[tuple[int, int], set[str]] = {}
    for low, high in candidates:
        shared = set(names[low].values()) & set(names[high].values())
        keys = {key for key in shared if key <= after}
        if keys:
            earlier[(low, high)] = keys
    if not earlier:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(SIZES_SQL, [GROUP_CAP + 1, sorted(set().union(*earlier.values()))])
        listed = {key for key, size in cursor.fetchall() if size <= GROUP_CAP}
    return {pair for pair, keys in earlier.items() if keys & listed}


def likely_duplicates(
    *, after: str = "", groups: int = GROUPS_PER_PAGE, window: int = WINDOW
) -> Page:
    """One page of likely duplicates: the name groups after the key ``after``, scored."""
    rows, next_after = _groups(after, groups, window)
    candidates = {pair for _key, persons in rows for pair in combinations(persons, 2)}
    if not candidates:
        return Page(pairs=[], next_after=next_after)
    person_ids = {pk for pair in candidates for pk in pair}
    persons = Person.objects.filter(pk__in=person_ids, merged_into__isnull=True).in_bulk()
    dismissed = set(
        DuplicateDismissal.objects.filter(person_low__in=person_ids).values_list(
            "person_low_id", "person_high_id"
        )
    )
    names: dict[int, dict[str, str]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT person_id, search_key, staff_name_skeleton(search_key)"
            " FROM prisoners_namevariant WHERE person_id = ANY(%s)",
            [sorted(persons)],
        )
        for person_id, key, skeleton in cursor.fetchall():
            names[person_id][key] = skeleton
    episodes: dict[int, list[DetentionEpisode]] = defaultdict(list)
    for episode in DetentionEpisode.objects.filter(person__in=persons).only(
        "person_id", "arrested_on", "arrested_on_precision", "ended_on"
    ):
        episodes[episode.person_id].append(episode)
    ids: dict[int, set[str]] = defaultdict(set)
    for person_id, value, url in ExternalIdentifier.objects.filter(person__in=persons).values_list(
        "person_id", "value", "url"
    ):
        ids[person_id].add(value)
        if url:
            ids[person_id].add(url)
    shown_before = _shown_before(candidates, names, after)
    pairs = []
    for low, high in sorted(candidates):
        if low not in persons or high not in persons or (low, high) in dismissed:
            continue
        if (low, high) in shown_before:
            continue
        pair = Pair(one=persons[low], other=persons[high])
        _score(pair, names, episodes, ids)
        if pair.score >= MIN_SCORE:
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, p.one.name, p.one.pk, p.other.pk))
    return Page(pairs=pairs, next_after=next_after)


def pair_score(one: Person, other: Person) -> Pair:
    """The score and reasons of one pair (shown on the merge page)."""
    names: dict[int, dict[str, str]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT person_id, search_key, staff_name_skeleton(search_key)"
            " FROM prisoners_namevariant WHERE person_id = ANY(%s)",
            [[one.pk, other.pk]],
        )
        for person_id, key, skeleton in cursor.fetchall():
            names[person_id][key] = skeleton
    episodes: dict[int, list[DetentionEpisode]] = defaultdict(list)
    for episode in DetentionEpisode.objects.filter(person__in=[one, other]):
        episodes[episode.person_id].append(episode)
    ids: dict[int, set[str]] = defaultdict(set)
    for person_id, value, url in ExternalIdentifier.objects.filter(
        person__in=[one, other]
    ).values_list("person_id", "value", "url"):
        ids[person_id] |= {value, url} - {""}
    pair = Pair(one=one, other=other)
    _score(pair, names, episodes, ids)
    return pair


@transaction.atomic
def duplicate_dismiss(*, one: Person, other: Person, user: Any, reason: str) -> DuplicateDismissal:
    """Record that two persons are not the same person: the pair is not suggested again."""
    if one.pk == other.pk:
        raise ApplicationError(str(SAME_PERSON))
    low, high = sorted((one, other), key=lambda p: p.pk)
    if DuplicateDismissal.objects.filter(person_low=low, person_high=high).exists():
        raise ApplicationError(str(ALREADY_DISMISSED))
    with audit_context(user=user, reason=reason):
        dismissal = DuplicateDismissal(
            person_low=low,
            person_high=high,
            reason=" ".join(reason.split()),
            dismissed_by=user if getattr(user, "pk", None) else None,
        )
        dismissal.full_clean()
        dismissal.save()
    return dismissal
