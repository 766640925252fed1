"""The known persons an article mentions, by any stored spelling, with their character spans.

Candidate names are the runs of capitalised words of the text. Every run's two- and
three-word readings (Cyrillic words also in their nominative forms: "Марию Колесникову" ->
"мария колесникова") are looked up in ONE query on the ``search_key`` btree index; the words
left standing alone ("Ms. Kolesnikova", "Колесникову") are looked up as surnames in ONE more
query (one bounded range scan of the surname-first index per word). With the names of the
persons found, an article costs three queries whatever the size of the table.

A surname alone is read as a person already named in full in the article, or, failing that, as
the only person with that surname. A full name that several persons bear is flagged (no person,
the candidates listed), never guessed.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from unidecode import unidecode

from prisoners.models import Person
from prisoners.search import word_forms
from prisoners.translit import search_key


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A word: letters, with inner apostrophes or hyphens (Ціханоўскі, O'Neill, Jean-Pierre).
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’ʼ\-][^\W\d_]+)*")
_POSSESSIVE_RE = re.compile(r"['’]s$")
TITLES = _words("mr mrs ms miss dr prof sir mister madam г г-н г-жа господин госпожа")
# Capitalised words that are never part of a person's name in running text.
STOP_WORDS = _words(
    """the a an and but or in on at of to for from by with after before upon according this that
    these those he she they his her their it its we our us i you mr ms mrs dr president
    nobel prize peace belarus ukraine russia lithuania poland minsk kyiv vilnius warsaw moscow
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december western european u s eu bbc
    в на и но по из за от до с у о об при после как это он она они его её ее их
    президент беларусь украина россия литва польша минск киев вильнюс варшава москва
    political prisoner prisoners journalist blogger activist politician opposition leader
    laureate editor lawyer judge police court
    политзаключенный политзаключенная политзаключенные журналист журналистка блогер
    блогерка активист активистка оппозиционер оппозиционерка адвокат суд"""
)
MAX_RUN = 4  # longer capitalised runs are headlines: searched, never proposed as a name
MAX_SURNAME_ROWS = 20  # rows read per surname: enough to tell one person from several
MAX_FULL_KEYS = 20000  # full-name readings per article (one indexed lookup each)


@dataclass
class Token:
    text: str
    key: str
    start: int
    end: int

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


@dataclass
class Mention:
    start: int
    end: int
    text: str
    person_id: int | None
    name: str = ""
    candidates: list[int] = field(default_factory=list)
    full: bool = True  # found by a full name (not a surname alone)

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "person_id": self.person_id,
            "name": self.name,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }
        if self.candidates:
            data["candidates"] = self.candidates
            data["ambiguous"] = True
        return data


def tokens(text: str) -> list[Token]:
    found = []
    for match in _WORD_RE.finditer(text):
        word = match.group()
        end = match.end()
        stripped = _POSSESSIVE_RE.sub("", word)
        if stripped != word:
            end -= len(word) - len(stripped)
            word = stripped
        found.append(Token(word, search_key(word), match.start(), end))
    return found


def capitalised_runs(text: str, toks: list[Token]) -> list[list[Token]]:
    """Runs of capitalised words separated by spaces only (no punctuation, no line break)."""
    runs: list[list[Token]] = []
    current: list[Token] = []
    for tok in toks:
        name_like = tok.capitalised and tok.key not in STOP_WORDS and tok.key not in TITLES
        joined = current and text[current[-1].end : tok.start] in (" ", "\u00a0")
        if name_like and (joined or not current):
            current.append(tok)
            continue
        if current:
            runs.append(current)
        current = [tok] if name_like else []
    if current:
        runs.append(current)
    return runs


def _readings(word: str, forms: int = 5) -> tuple[str, ...]:
    return (word, *word_forms(word)[:forms])


def _full_keys(run: list[Token]) -> dict[str, list[tuple[int, int]]]:
    """Readings of the run's 2- and 3-word parts (and first + last of three): key -> spans."""
    keys: dict[str, list[tuple[int, int]]] = defaultdict(list)
    n = len(run)
    for size in (3, 2):
        for i in range(n - size + 1):
            part = run[i : i + size]
            choices = [_readings(t.key, 5 if size == 2 else 2) for t in part]
            for combo in itertools.product(*choices):
                keys[" ".join(combo)].append((i, i + size))
            if size == 3:
                for combo in itertools.product(choices[0], choices[2]):
                    keys[" ".join(combo)].append((i, i + size))
    return keys


_SURNAME_SQL = """
SELECT probe.k, x.person_id, x.search_key
FROM unnest(%s::text[]) AS probe(k) CROSS JOIN LATERAL (
    SELECT v.person_id, v.search_key
    FROM prisoners_namevariant v JOIN prisoners_person p ON p.id = v.person_id
    WHERE (split_part("v"."search_key"::text, ' ', -1) || ' ' || "v"."search_key"::text)
              ~>=~ (probe.k || ' ')
      AND (split_part("v"."search_key"::text, ' ', -1) || ' ' || "v"."search_key"::text)
              ~<~ (probe.k || ' ' || %s)
      AND p.merged_into_id IS NULL
    ORDER BY (split_part("v"."search_key"::text, ' ', -1) || ' ' || "v"."search_key"::text)
        USING ~<~
    LIMIT %s
) AS x
"""

_FULL_SQL = """
SELECT v.search_key, v.person_id
FROM unnest(%s::text[]) AS probe(k) CROSS JOIN LATERAL (
    SELECT v.search_key, v.person_id FROM prisoners_namevariant v
    JOIN prisoners_person p ON p.id = v.person_id
    WHERE v.search_key = probe.k AND p.merged_into_id IS NULL
    LIMIT 50
) AS v
"""


def _lookup_full(keys: list[str]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    if not keys:
        return found
    with connection.cursor() as cursor:
        cursor.execute(_FULL_SQL, [keys])
        for key, person_id in cursor.fetchall():
            found[key].add(person_id)
    return found


def _lookup_surnames(keys: list[str]) -> tuple[dict[str, set[int]], set[str]]:
    """Persons by surname, and the surnames whose rows were cut at ``MAX_SURNAME_ROWS``
    (more bearers may exist than were read)."""
    found: dict[str, set[int]] = defaultdict(set)
    rows: dict[str, int] = defaultdict(int)
    if not keys:
        return found, set()
    with connection.cursor() as cursor:
        cursor.execute(_SURNAME_SQL, [keys, "\U0010ffff", MAX_SURNAME_ROWS])
        for probe, person_id, _key in cursor.fetchall():
            found[probe].add(person_id)
            rows[probe] += 1
    return found, {probe for probe, n in rows.items() if n >= MAX_SURNAME_ROWS}


def find_mentions(text: str) -> tuple[list[Mention], list[list[Token]]]:
    """The known persons mentioned in ``text``, in text order, and the capitalised runs that
    matched nobody (candidate unknown names)."""
    toks = tokens(text)
    runs = capitalised_runs(text, toks)
    run_keys = [_full_keys(run) for run in runs]
    all_keys = list(dict.fromkeys(k for keys in run_keys for k in keys))[:MAX_FULL_KEYS]
    full = _lookup_full(all_keys)

    mentions: list[Mention] = []
    singles: list[tuple[list[Token], int]] = []  # (run, index) of words left alone
    unmatched: list[list[Token]] = []
    for run, keys in zip(runs, run_keys, strict=True):
        # Best reading per span: the longest spans first, then left to right.
        spans: dict[tuple[int, int], set[int]] = defaultdict(set)
        for key, places in keys.items():
            for place in places:
                spans[place] |= full.get(key, set())
        used = [False] * len(run)
        for (i, j), persons in sorted(spans.items(), key=lambda s: (-(s[0][1] - s[0][0]), s[0])):
            if not persons or any(used[i:j]):
                continue
            for k in range(i, j):
                used[k] = True
            ids = sorted(persons)
            mentions.append(
                Mention(
                    start=run[i].start,
                    end=run[j - 1].end,
                    text=text[run[i].start : run[j - 1].end],
                    person_id=ids[0] if len(ids) == 1 else None,
                    candidates=ids if len(ids) > 1 else [],
                )
            )
        if not any(used):
            if len(run) == 1:
                singles.append((run, 0))
            elif len(run) <= MAX_RUN:
                unmatched.append(run)

    # Surnames standing alone: a run of one word (a title before it is allowed); and the
    # surnames of two-word names no spelling matched ("Maria Kalesnikava", a spelling mixed
    # from two schemes).
    surname_readings = {id(run): [run[0].key, *word_forms(run[0].key)[:4]] for run, _ in singles}
    pairs = [run for run in unmatched if len(run) == 2]
    for run in pairs:
        surname_readings[id(run)] = [run[-1].key, *word_forms(run[-1].key)[:4]]
    probes = list(dict.fromkeys(k for keys in surname_readings.values() for k in keys))
    by_surname, cut = _lookup_surnames([k for k in probes if len(k) >= 3])
    named_before: dict[int, int] = {}  # person -> first full mention start
    for mention in mentions:
        if mention.person_id is not None:
            named_before.setdefault(mention.person_id, mention.start)
    for run, _ in singles:
        tok = run[0]
        bearers: set[int] = set()
        for key in surname_readings[id(run)]:
            bearers |= by_surname.get(key, set())
        if not bearers:
            continue
        earlier = [p for p in bearers if named_before.get(p, len(text)) < tok.start]
        readings = set(surname_readings[id(run)])
        if any(
            other[-1].start < tok.start and readings & {other[-1].key, *word_forms(other[-1].key)}
            for other in unmatched
        ):
            continue  # also the surname of someone named before who is not known: unsure
        if len(earlier) == 1:
            chosen: int | None = earlier[0]
        elif len(bearers) == 1 and not cut & set(surname_readings[id(run)]):
            chosen = next(iter(bearers))
        else:
            continue
        mentions.append(Mention(tok.start, tok.end, tok.text, chosen, full=False))

    _pairs_by_surname(text, pairs, surname_readings, by_surname, cut, mentions, unmatched)
    names = dict(
        Person.objects.filter(
            pk__in={m.person_id for m in mentions if m.person_id is not None}
        ).values_list("pk", "name")
    )
    for mention in mentions:
        if mention.person_id is not None:
            mention.name = names.get(mention.person_id, "")
    mentions.sort(key=lambda m: m.start)
    return mentions, unmatched


MAX_PAIR_BEARERS = 20


def _initials(word: str) -> str:
    return unidecode(word[:3]).lower()[:2]


def _pairs_by_surname(
    text: str,
    pairs: list[list[Token]],
    readings: dict[int, list[str]],
    by_surname: dict[str, set[int]],
    cut: set[str],
    mentions: list[Mention],
    unmatched: list[list[Token]],
) -> None:
    """A two-word name no spelling matched is a known person when its surname is theirs and
    the given names begin alike ("Maria" and "Maryia", "Viktor" and "Viktar"), and only one
    person fits: one query for the few persons bearing those surnames."""
    bearers: dict[int, set[int]] = {}
    for run in pairs:
        keys = readings[id(run)]
        if cut & set(keys):
            continue
        found: set[int] = set()
        for key in keys:
            found |= by_surname.get(key, set())
        if 0 < len(found) <= MAX_PAIR_BEARERS:
            bearers[id(run)] = found
    if not bearers:
        return
    wanted = set().union(*bearers.values())
    given = {
        pk: name.split()[0]
        for pk, name in Person.objects.filter(pk__in=wanted).values_list("pk", "name")
        if name
    }
    for run in pairs:
        if id(run) not in bearers:
            continue
        fits = [
            pk
            for pk in bearers[id(run)]
            if pk in given and _initials(given[pk]) == _initials(run[0].text)
        ]
        if len(fits) != 1:
            continue
        start, end = run[0].start, run[-1].end
        mentions.append(Mention(start, end, text[start:end], fits[0]))
        unmatched.remove(run)
