"""Search for persons by any spelling of their name: the selector behind /search/ and suggestions.

One box finds a person by a Latin transliteration, Russian or Belarusian Cyrillic, an inflected
form ("Колесникову", "Калеснікавай", "Бяляцкага"), a typo ("Kalesnikva") or the start of a name
("Kales", "Maryia K"). Matching works on ``NameVariant.search_key`` (see ``translit.search_key``),
which holds one full name per variant ("maryia kalesnikava"); a query word matches a word of it.

Levels, best first (``Level``):

5. *exact*: the whole variant is the query ("Maria Kolesnikova");
4. *words*: every query word is a whole word of the variant, in any order ("Kolesnikova");
3. *prefix*: every query word starts a word of the variant ("Kales", "Maryia K");
2. *inflected*: every query word starts a word of the variant or folds to one (a case form
   turned back to the nominative: pymorphy3 for Russian, ``belarusian_forms`` for Belarusian);
1. *similar*: trigram word similarity (pg_trgm ``<%``) for typos ("Kalesnikva", "Beliatsky").

Within a level, closer spellings (trigram similarity) come first, then the person's name and id.

How it stays fast at a million persons (about ten million variants, names repeating a lot):
every level is one index scan (btree on ``search_key`` for *exact*, the trigram GIN index on
``UPPER(search_key)`` for the others, through a ``LIKE '%WORD%'`` hint that the word-boundary
regular expressions then check), **capped** at ``ROW_CAP`` rows, and a level is read only
when the levels above it found fewer persons than the page needs (a one-time filter in the same
SQL statement, so a typo search pays for the trigram scan and an exact one does not). When a
level hits its cap the page says so (``SearchPage.truncated``): the persons shown are the best
matches, but not every person of that level can be paged through; a longer query narrows it.
The cap is fixed, so paging through a result is consistent.

Visibility: candidate spellings come from ``NameVariant.objects.visible_to(viewer)``, the one
rule (withheld names, drafts, unpublished and merged persons never reach the public), and the
persons shown from ``Person.objects.visible_to(viewer)``.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import NameVariant, Person
from .models import SurnameFirst as SurnameFirst  # the expression of the surname index
from .selectors import localized_name, names_prefetch, person_urls
from .statements import kept, one_of, statement
from .translit import detect_language, search_key
from .visibility import Tier, viewer_tier, visible_fields

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

MAX_QUERY_LENGTH = 200
MIN_LETTERS = 2
MAX_WORDS = 5
PAGE_SIZE = 20
SUGGEST_SIZE = 8
MAX_PAGE = 50
# Rows (spellings, not persons) one group of levels may read; a person matches with one to five
# spellings. Every row read costs a heap and a person lookup: this bounds a search's work, and
# how far a very common name can be paged through (the page then says so).
ROW_CAP = 120
SUGGEST_ROW_CAP = 40
MAX_COMBOS = 16  # inflected readings of a query (forms of each word multiplied)
MIN_TYPO_LENGTH = 4  # shorter words are not searched with a letter changed
MAX_TYPOS = 2500  # readings of a query with one slip corrected (a 12-letter word has ~900)
# Words shorter than this give no trigram: they are checked on the rows others found.
MIN_INDEXED = 3
MAX_FORMS = 8

EMPTY_QUERY = _("Type a name to search for, in any spelling.")
TOO_LONG = _("The search text is too long: at most %(max)d characters.")
NO_LETTERS = _("Type at least two letters of a name.")


class Level(IntEnum):
    SIMILAR = 1
    INFLECTED = 2
    PREFIX = 3
    WORDS = 4
    EXACT = 5

    @property
    def label(self) -> _StrPromise:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.EXACT: _("exact spelling"),
    Level.WORDS: _("same words"),
    Level.PREFIX: _("start of a name"),
    Level.INFLECTED: _("another grammatical form"),
    Level.SIMILAR: _("similar spelling"),
}


# --- Inflected forms ------------------------------------------------------------------------

_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")
_WORD_RE = re.compile(r"[^\W_]+")


@functools.lru_cache(maxsize=1)
def _morph() -> Any:
    """The pymorphy3 analyser (Russian dictionary): slow to build, so built once, when needed."""
    import pymorphy3  # type: ignore[import-untyped, unused-ignore]

    return pymorphy3.MorphAnalyzer(lang="ru")


_RU_TAGS = frozenset({"Surn", "Name", "Patr", "ADJF", "NOUN"})


def russian_forms(word: str) -> set[str]:
    """Nominative forms a Russian word may be a case form of: ``колесникову`` ->
    {колесников, колесникова}; surnames and adjectives in both genders (``беляцкого`` ->
    {беляцкий, беляцкая})."""
    forms: set[str] = set()
    for parse in _morph().parse(word):
        tag = parse.tag
        if not (_RU_TAGS & tag.grammemes) or tag.number == "plur":
            continue
        forms.add(parse.normal_form)
        genders: tuple[str | None, ...] = (None,)
        if {"Surn", "ADJF"} & tag.grammemes:
            genders = (None, "masc", "femn")
        for gender in genders:
            wanted = {"nomn", "sing"} | ({gender} if gender else set())
            inflected = parse.inflect(wanted)
            if inflected is not None:
                forms.add(inflected.word)
    return {search_key(form) for form in forms if form}


# Belarusian endings of names and surnames, longest first. No Belarusian dictionary is
# available, so candidate nominatives are made by rule; a few are not words, which is harmless:
# they only ever match a stored spelling that is that word.
_BE_ADJ_ENDINGS = ("ага", "аму", "ым", "ім", "ай", "ую", "ая", "ой", "ою")  # -скі/-цкі/-ны
_BE_ENDINGS = tuple(
    sorted(
        {*_BE_ADJ_ENDINGS, "аю", "яй", "яю", "ам", "ем", "ом", "а", "я", "у", "ю", "е", "і", "ы"},
        key=len,
        reverse=True,
    )
)
_BE_VOWELS = frozenset("аеёіоуыэюяи")
_ALTERNATION = {"з": "г", "ц": "к", "с": "х"}  # Вольга -> Вользе, Бабка -> Бабцы? (dative -е)


def belarusian_forms(word: str) -> set[str]:
    """Nominative forms a Belarusian name or surname may be a case form of.

    ``калеснікавай`` -> калеснікава (and калеснікаў); ``бяляцкага`` -> бяляцкі, бяляцкая;
    ``ціханоўскую`` -> ціханоўская; ``марыі`` -> марыя; ``алеся`` -> алесь; ``сяргея`` ->
    сяргей; ``віктара`` -> віктар; ``бабарыкі`` -> бабарыка; ``ільіным`` -> ільін, ільіна.
    """
    forms: set[str] = set()
    for ending in _BE_ENDINGS:
        if not word.endswith(ending) or len(word) - len(ending) < 2:
            continue
        stem = word[: -len(ending)]
        last = stem[-1]
        if ending in _BE_ADJ_ENDINGS:  # Бяляцкага, Ціханоўскую, Чорным
            forms.add(stem + ("і" if last in "кгх" else "ы"))
            forms.add(stem + "ая")
        if stem.endswith(("ав", "ов", "ев")) and ending in ("а", "у", "е", "ым", "ай", "ую", "аю"):
            forms.update({stem[:-1] + "ў", stem + "а"})  # Калеснікава(й), Калеснікаву
        if stem.endswith(("ін", "ын")) and ending in ("а", "у", "е", "ым", "ай", "аю"):
            forms.update({stem, stem + "а"})  # Ільіна, Ільіным, Ільінай
        if ending in ("ы", "і", "е", "у", "ай", "аю", "ам", "ой", "ою"):  # Таццяны, Бабарыкі
            forms.add(stem + "а")
        if ending in ("і", "ю", "яй", "яю", "е"):  # Марыі, Марыю, Марыяй
            forms.add(stem + "я")
        if ending in ("а", "у", "ам", "е", "ом"):  # Віктара, Лосіку, Статкевічам
            forms.add(stem)
        if ending in ("я", "ю", "ем"):  # Алеся, Сяргея, Алесем
            forms.add(stem + ("й" if last in _BE_VOWELS else "ь"))
        if ending == "е" and last in _ALTERNATION:  # Вользе -> Вольга
            forms.add(stem[:-1] + _ALTERNATION[last] + "а")
    forms.discard(word)
    return {f for f in forms if len(f) >= MIN_LETTERS}


@functools.lru_cache(maxsize=4096)
def word_forms(word: str) -> tuple[str, ...]:
    """Other nominative forms a query word may stand for (not the word itself), likeliest
    first, at most ``MAX_FORMS``: Russian by pymorphy3, Belarusian by rule; none for Latin."""
    if not _CYRILLIC_RE.search(word) or len(word) < MIN_INDEXED:
        return ()
    language = detect_language(word)
    forms: set[str] = set()
    if language != "be":
        forms |= russian_forms(word)
    if language != "ru":
        forms |= belarusian_forms(word)
    forms.discard(word)
    # Closest to the typed word first: nominatives differ from a case form only at the end.
    ranked = sorted(forms, key=lambda f: (-_common_prefix_length(word, f), f))
    return tuple(ranked[:MAX_FORMS])


def _common_prefix_length(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


# --- Query parsing --------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    """What was typed, folded into words; ``error`` explains why nothing is searched."""

    text: str
    key: str = ""
    words: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def parse_query(raw: str | None) -> ParsedQuery:
    text = (raw or "").strip()
    if not text:
        return ParsedQuery(text, error=str(EMPTY_QUERY))
    if len(text) > MAX_QUERY_LENGTH:
        return ParsedQuery(text[:MAX_QUERY_LENGTH], error=TOO_LONG % {"max": MAX_QUERY_LENGTH})
    words = tuple(dict.fromkeys(_WORD_RE.findall(search_key(text))))[:MAX_WORDS]
    if sum(len(w) for w in words if not w.isdigit()) < MIN_LETTERS:
        return ParsedQuery(text, error=str(NO_LETTERS))
    return ParsedQuery(text, key=" ".join(words), words=words)


# --- The search -----------------------------------------------------------------------------


@dataclass
class SearchHit:
    person: Person
    name: str  # as this viewer may see it, in the interface language
    matched: str  # the spelling that matched
    matched_language: str
    level: Level
    birth_year: int | None = None  # public fields that tell namesakes apart
    region: str = ""
    status: str | None = None
    status_label: str = ""
    url: str = ""  # the person's page

    @property
    def matched_differs(self) -> bool:
        return search_key(self.matched) != search_key(self.name)


@dataclass
class SearchPage:
    query: ParsedQuery
    hits: list[SearchHit] = field(default_factory=list)
    page: int = 1
    page_size: int = PAGE_SIZE
    has_more: bool = False
    truncated: bool = False

    @property
    def first_number(self) -> int:
        """The position of the page's first hit in the whole result (for ``<ol start>``)."""
        return (self.page - 1) * self.page_size + 1

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.has_more else None


def _regex_words(words: tuple[str, ...], *, whole: bool) -> list[str]:
    """One regular expression per word: it is a whole word of the key (or starts one)."""
    tail = "( |$)" if whole else ""
    return [f"(^| ){w}{tail}" for w in words]


# A level's rows: (person_id, text, language, level, wsim, sim); the levels read in one scan
# form a group, capped at ``cap`` rows.
Group = tuple[str, list[Any]]


@dataclass(frozen=True)
class _Search:
    query: ParsedQuery
    viewer: Any
    cap: int  # rows one group, and one probe, may read


def _typed_level(query: ParsedQuery) -> tuple[str, list[Any]]:
    """SQL for the level of a row found as typed: exact, every word whole, or prefix."""
    whole = " AND ".join(["search_key ~ %s"] * len(query.words))
    return (
        f"CASE WHEN search_key = %s THEN {int(Level.EXACT)} "
        f"WHEN {whole} THEN {int(Level.WORDS)} ELSE {int(Level.PREFIX)} END",
        [query.key, *_regex_words(query.words, whole=True)],
    )


def _constant(level: Level) -> tuple[str, list[Any]]:
    return str(int(level)), []


def _ranked(s: _Search, rows: tuple[str, list[Any]], level: tuple[str, list[Any]]) -> Group:
    """Rows of (person_id, text, language, search_key) as a group: level and similarity to the
    query added, at most ``s.cap`` of them."""
    sql, params = rows
    level_sql, level_params = level
    return (
        f"SELECT person_id, text, language, {level_sql} AS level, "  # noqa: S608
        "word_similarity(%s, search_key) AS wsim, similarity(search_key, %s) AS sim "
        f"FROM ({sql}) AS u LIMIT {int(s.cap)}",
        [*level_params, s.query.key, s.query.key, *params],
    )


def _rows_sql(qs: QuerySet[Any]) -> tuple[str, list[Any]]:
    sql, params = qs.values_list(
        "person_id", "text", "language", "search_key"
    ).query.sql_with_params()
    return sql, list(params)


def _kept_rows_sql(
    name: tuple[Any, ...], build: Callable[[], QuerySet[Any]]
) -> tuple[str, list[Any]]:
    """``_rows_sql`` of a queryset whose SQL depends only on ``name`` (the tier among it),
    compiled once per process (``prisoners.statements.kept``)."""
    sql, params = kept(name, lambda: _rows_sql(build()))
    return sql, list(params)


def _union(parts: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
    sql = " UNION ALL ".join(f"({part})" for part, _ in parts)
    return sql, [param for _, params in parts for param in params]


def _similar(s: _Search) -> Group | None:
    """Trigram word similarity (``<%``, GIN index): finds two slips at once, but reads every
    row sharing enough trigrams, so it comes last."""
    if len(s.query.key.replace(" ", "")) < MIN_INDEXED:
        return None
    base = NameVariant.objects.visible_to(s.viewer).order_by().alias(ukey=Upper("search_key"))
    rows = _rows_sql(base.filter(ukey__trigram_word_similar=s.query.key))
    return _ranked(s, rows, _constant(Level.SIMILAR))


# --- Access through the trigram index (the schema as migrated) ------------------------------


def _hint(qs: QuerySet[Any], fragments: list[str]) -> QuerySet[Any] | None:
    """Filter on ``UPPER(search_key) LIKE '%FRAGMENT%'`` for every fragment long enough to have
    trigrams: the GIN index finds the rows, the exact conditions then check them. None when
    no fragment can use the index (the level would read the whole table)."""
    usable = [f for f in fragments if len(f) >= MIN_INDEXED]
    if not usable:
        return None
    for fragment in usable:
        qs = qs.filter(ukey__contains=fragment.upper())
    return qs


def _trigram_groups(s: _Search) -> list[Group]:
    """Groups read through the btree on ``search_key`` (exact) and the trigram GIN index on
    ``UPPER(search_key)`` (the rest): bitmap scans, so a common word costs every row it is in."""
    query = s.query
    base = NameVariant.objects.visible_to(s.viewer).order_by().alias(ukey=Upper("search_key"))
    words = query.words
    exact_sql, exact_params = _rows_sql(base.filter(search_key=query.key))
    typed = [(f"{exact_sql} LIMIT {int(s.cap)}", exact_params)]
    prefix = base
    for regex in _regex_words(words, whole=False):
        prefix = prefix.filter(search_key__regex=regex)
    hinted = _hint(prefix, list(words))
    if hinted is not None:
        sql, params = _rows_sql(hinted.exclude(search_key=query.key))
        typed.append((f"{sql} LIMIT {int(s.cap)}", params))
    groups = [_ranked(s, _union(typed), _typed_level(query))]
    forms = [word_forms(w) for w in words]
    if any(forms):
        inflected = base
        fragments = []
        for word, alternatives in zip(words, forms, strict=True):
            if not alternatives:
                inflected = inflected.filter(search_key__regex=f"(^| ){word}")
                fragments.append(word)
                continue
            inflected = inflected.filter(
                search_key__regex=f"(^| )({word}|({'|'.join(alternatives)})( |$))"
            )
            fragments.append(
                min((word[: _common_prefix_length(word, f)] for f in alternatives), key=len)
            )
        hinted = _hint(inflected, fragments)
        if hinted is not None:
            groups.append(_ranked(s, _rows_sql(hinted), _constant(Level.INFLECTED)))
    similar = _similar(s)
    if similar is not None:
        groups.append(similar)
    return groups


# --- Access through word btree indexes (once the model declares them) -----------------------


WORD_INDEXES = ("prisoners_name_key_prefix", "prisoners_name_surname_key")


def word_indexes_declared() -> bool:
    """Whether ``NameVariant`` declares the two btree indexes the fast path reads:
    ``Index(fields=["search_key"], opclasses=["varchar_pattern_ops"], name=WORD_INDEXES[0])``
    and ``Index(OpClass(SurnameFirst("search_key"), name="text_pattern_ops"),
    name=WORD_INDEXES[1])``. Without them, searches go through the trigram index."""
    declared = {index.name for index in NameVariant._meta.indexes}
    return all(name in declared for name in WORD_INDEXES)


_MAX_CHAR = "\U0010ffff"  # after every character: [p, p + _MAX_CHAR) is "starts with p"
_KEY = '"prisoners_namevariant"."search_key"'
_SURNAME_KEY = f"(split_part({_KEY}::text, ' ', -1) || ' ' || {_KEY}::text)"


def _probe_sql(s: _Search, expression: str, pre: str) -> tuple[str, list[Any]]:
    """Rows whose ``expression`` starts with the SQL value ``pre`` (a column of the unnest
    around it, never user text): one btree range scan in index order, stopping after
    ``s.cap`` rows."""
    condition = f"{expression} ~>=~ {pre} AND {expression} ~<~ ({pre} || %s)"
    sql, params = _kept_rows_sql(
        ("search.probe", viewer_tier(s.viewer), condition),
        lambda: (
            NameVariant.objects.visible_to(s.viewer)
            .order_by()
            .filter(RawSQL(condition, [_MAX_CHAR], output_field=BooleanField()))  # noqa: S611
        ),
    )
    return f"({sql} ORDER BY {expression} USING ~<~ LIMIT {int(s.cap)})", params


def _probes(s: _Search, expression: str, prefixes: list[str]) -> tuple[str, list[Any]]:
    """Rows whose ``expression`` starts with one of ``prefixes``: one btree range scan per
    prefix, in index order, each stopping after ``s.cap`` rows."""
    sql, params = _probe_sql(s, expression, "probe.pre")
    return (
        "SELECT x.* FROM unnest(%s::text[]) AS probe(pre) CROSS JOIN LATERAL "  # noqa: S608
        f"{sql} AS x",
        [list(prefixes), *params],
    )


def _word_probes(s: _Search, keys: list[str]) -> tuple[str, list[Any]]:
    """Keys (words joined by spaces) found whole: at the start of a key (the whole key
    included), or after the key's last word (a name typed surname first).

    The keys are sent once, and each is probed in turn by every way (one btree range scan
    each, stopping after ``s.cap`` rows): for a thousand typo readings, the statement's text
    is what costs."""
    by_start, start_params = _probe_sql(s, _KEY, "probe.pre")
    by_surname, surname_params = _probe_sql(s, _SURNAME_KEY, "probe.pre")
    ways, params = [by_start, by_surname], [*start_params, *surname_params]
    if len(s.query.words) > 1:  # a one-word key is found by the surname-first probe
        whole, whole_params = _kept_rows_sql(
            ("search.whole", viewer_tier(s.viewer)),
            lambda: (
                NameVariant.objects.visible_to(s.viewer)
                .order_by()
                .filter(
                    RawSQL(f"{_KEY} = given.key", [], output_field=BooleanField())  # noqa: S611
                )
            ),
        )
        ways.append(f"({whole} LIMIT {int(s.cap)})")
        params += whole_params
    return (
        "SELECT x.* FROM unnest(%s::text[]) AS given(key) "  # noqa: S608
        "CROSS JOIN LATERAL (SELECT given.key || ' ' AS pre) AS probe "
        f"CROSS JOIN LATERAL ({' UNION ALL '.join(ways)}) AS x",
        [list(keys), *params],
    )


def _btree_groups(s: _Search) -> list[Group]:
    """Groups read through btree range scans in index order: each stops after ``s.cap`` rows,
    whatever the number of persons sharing the name."""
    query = s.query
    words = query.words
    typed = _union([_probes(s, _KEY, [query.key]), _probes(s, _SURNAME_KEY, [query.key])])
    groups = [_ranked(s, typed, _typed_level(query))]
    per_word = max(2, MAX_FORMS // len(words))  # keeps the product small
    choices = [(w, *word_forms(w)[:per_word]) for w in words]
    # Readings with fewer words changed first: (0, 0, ...) is the query itself, searched above.
    picks = sorted(itertools.product(*(range(len(c)) for c in choices)), key=sum)[1:MAX_COMBOS]
    combos = [" ".join(c[i] for c, i in zip(choices, pick, strict=True)) for pick in picks]
    if combos:
        groups.append(_ranked(s, _word_probes(s, combos), _constant(Level.INFLECTED)))
    # One slip in one word, the longest words first (slips hide in long words), at most
    # MAX_TYPOS readings: each costs three index probes.
    by_length = sorted(range(len(words)), key=lambda i: -len(words[i]))
    typos = [
        " ".join((*words[:i], edit, *words[i + 1 :]))
        for i in by_length
        if len(words[i]) >= MIN_TYPO_LENGTH
        for edit in sorted(edits1(words[i]))
    ][:MAX_TYPOS]
    if typos:
        groups.append(_ranked(s, _word_probes(s, typos), _constant(Level.SIMILAR)))
    similar = _similar(s)
    if similar is not None:
        groups.append(similar)
    return groups


_LATIN = "abcdefghijklmnopqrstuvwxyz"
_CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъыьэюяіў"


def edits1(word: str) -> set[str]:
    """Every word one typing slip away (a letter left out, added, changed, two swapped), in
    the word's own alphabet."""
    alphabet = _CYRILLIC if _CYRILLIC_RE.search(word) else _LATIN
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {a + b[1:] for a, b in splits if b}
    found |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    found |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    found |= {a + c + b for a, b in splits for c in alphabet}
    found.discard(word)
    return found


# --- One statement ---------------------------------------------------------------------------

# Groups are read in order, each only when every group before it found no one (a "one-time
# filter": PostgreSQL then never starts its scans), so a name spelled as stored never pays for
# the guesses. Then one row per person, its best spelling, ordered best first.
_SEARCH_SQL = """
WITH {groups},
hits AS ({union}),
best AS (
    SELECT DISTINCT ON (person_id) person_id, text, language, level, wsim, sim
    FROM hits
    ORDER BY person_id, level DESC, wsim DESC, sim DESC, text
)
SELECT best.person_id, best.text, best.language, best.level,
       (SELECT bool_or(n >= %s) FROM ({counts}) AS c(n)) AS truncated
FROM best JOIN prisoners_person p ON p.id = best.person_id
ORDER BY best.level DESC, best.wsim DESC, best.sim DESC, p.name, p.id
LIMIT %s OFFSET %s
"""


Row = tuple[int, str, str, int, bool]  # person id, spelling, its language, level, truncated


def _search_sql(
    query: ParsedQuery, viewer: Any, *, offset: int, limit: int, cap: int = 0
) -> tuple[str, list[Any]]:
    s = _Search(query=query, viewer=viewer, cap=cap or ROW_CAP)
    groups = (_btree_groups if word_indexes_declared() else _trigram_groups)(s)
    parts: list[str] = []
    params: list[Any] = []
    names: list[str] = []
    for n, (sql, group_params) in enumerate(groups):
        gate = ""
        if names:
            gate = " WHERE " + " AND ".join(f"NOT EXISTS (SELECT FROM {name})" for name in names)
        parts.append(f"g{n} AS MATERIALIZED (SELECT * FROM ({sql}) AS x{gate})")  # noqa: S608
        params += group_params
        names.append(f"g{n}")
    union = " UNION ALL ".join(f"SELECT * FROM {name}" for name in names)  # noqa: S608
    counts = " UNION ALL ".join(f"SELECT count(*) FROM {name}" for name in names)  # noqa: S608
    sql = _SEARCH_SQL.format(groups=",\n".join(parts), union=union, counts=counts)
    return sql, [*params, s.cap, limit, offset]


def _search_rows(
    query: ParsedQuery, viewer: Any, *, offset: int, limit: int, cap: int = 0
) -> list[Row]:
    sql, params = _search_sql(query, viewer, offset=offset, limit=limit, cap=cap)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1], row[2], row[3], bool(row[4])) for row in cursor.fetchall()]


# A published person's listing row (as ``events.selectors.person_status`` reads it).
PUBLISHED_STATUS_TODAY = (
    "SELECT l.person_id, l.status FROM prisoners_personlisting l"
    " WHERE l.person_id = ANY(%s::bigint[]) AND l.visibility = 'public'"
    " AND l.merged_into_id IS NULL"
)
PUBLISHED_STATUS_ON = (
    "SELECT s.person_id, s.status FROM prisoners_listing_status(%s::bigint[], %s) s"
    " JOIN prisoners_person p ON p.id = s.person_id AND p.visibility = 'public'"
)


def _statuses(ids: list[int], on: dt.date, tier: Tier) -> dict[int, str]:
    """``events.selectors.with_status`` of these persons on ``on`` (ids already visible), from
    the records ``tier`` sees.

    For the public, the persons are published ones, and ``prisoners_listing_status`` (the SQL
    form of the same rule, which the listing is built with) derives each person's status from
    the records of the tier of their own visibility: the public one. It reads the events as
    they are now, like the statement below, at a fraction of its cost to plan. Today, their
    listing rows hold what it gives (two small queries instead of 5-15 ms at a million)."""
    if tier == Tier.PUBLIC:
        with connection.cursor() as cursor:
            if on == timezone.localdate():
                # Today a published person's listing row holds it (the same rule, kept by the
                # database), once the rows due today are refreshed.
                cursor.execute("SELECT prisoners_listing_prepare(%s)", [on])
                cursor.execute(PUBLISHED_STATUS_TODAY, [list(ids)])
            else:
                cursor.execute(PUBLISHED_STATUS_ON, [list(ids), on])
            return dict(cursor.fetchall())
    from events.selectors import with_status

    rows = statement(
        ("search.status", on, tier),
        lambda: with_status(Person.objects.filter(one_of(Person, "id")), on, tier).values(
            "pk", "status"
        ),
    ).dicts(list(ids))
    return {row["pk"]: row["status"] for row in rows}


def hit_persons(ids: list[int], tier: Tier) -> dict[int, Any]:
    """``{id: person}`` of these persons that ``tier`` sees, with their home region and the
    primary names ``localized_name`` reads (``names_prefetch``): two statements compiled once
    per tier (``prisoners.statements``)."""
    persons = statement(
        ("search.persons", tier),
        lambda: (
            Person.objects.visible_to(tier)
            .filter(one_of(Person, "id"))
            .select_related("home_region")
        ),
    ).objects(ids)
    names = names_prefetch(tier).queryset
    assert names is not None
    variants = statement(
        ("search.names", tier), lambda: names.filter(one_of(NameVariant, "person_id"))
    ).objects([person.pk for person in persons])
    found = {person.pk: person for person in persons}
    for person in persons:
        person.shown_names = []
    for variant in variants:
        found[variant.person_id].shown_names.append(variant)
    return found


def person_search(
    *,
    query: str | ParsedQuery | None,
    viewer: Any,
    language: str = "en",
    page: int = 1,
    page_size: int = PAGE_SIZE,
    on: dt.date | None = None,
    with_status: bool = True,
    row_cap: int = 0,
) -> SearchPage:
    """One page of persons whose name matches ``query`` in any spelling, best first.

    Four SQL queries whatever the page holds (three without ``with_status``, five for the
    public today): the ranked match, the persons, their shown names, their status
    (``events.selectors.with_status`` on the page's ids; see ``_statuses``). ``row_cap``: the
    spellings one group of levels may read (default ``ROW_CAP``; fixed for a result, so that
    its pages agree).
    """
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    page = min(max(page, 1), MAX_PAGE)
    result = SearchPage(query=parsed, page=page, page_size=page_size)
    if not parsed.ok:
        return result
    tier = viewer_tier(viewer)  # once: a researcher's tier costs a query each time
    rows = _search_rows(
        parsed, tier, offset=(page - 1) * page_size, limit=page_size + 1, cap=row_cap
    )
    result.has_more = len(rows) > page_size and page < MAX_PAGE
    rows = rows[:page_size]
    result.truncated = any(row[4] for row in rows)
    if not rows:
        return result
    persons = hit_persons([row[0] for row in rows], tier)
    statuses = _statuses(list(persons), on or timezone.localdate(), tier) if with_status else {}
    shown = visible_fields(Person, tier)
    url_of = person_urls()
    for person_id, text, text_language, level, _truncated in rows:
        person = persons.get(person_id)
        if person is None:  # changed between the two reads
            continue
        hit = SearchHit(
            person=person,
            name=localized_name(person, language, tier),
            matched=text,
            matched_language=text_language,
            level=Level(level),
            url=url_of(person_id),
        )
        if "birth_year" in shown and person.birth_date is not None:
            hit.birth_year = person.birth_date.year
        if "home_region" in shown and person.home_region is not None:
            region = person.home_region
            hit.region = getattr(region, f"name_{language[:2]}", "") or region.name
        hit.status = statuses.get(person_id)
        if hit.status:
            from events.selectors import Status

            hit.status_label = str(Status(hit.status).label)
        result.hits.append(hit)
    return result
