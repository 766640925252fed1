"""Import of a prisoner list from a CSV file (``import_prisoners`` and the admin upload).

One file is one import: every row is read and checked first; only a file without a single
error is written, in one transaction, through the services, inside an ``audit_context`` that
names the user, the reason and the ``Source`` standing for the file. A database refusal in the
write phase becomes a ``line N: ...`` error and rolls everything back. A dry run does the whole
write and rolls it back.

The file: UTF-8 (with or without BOM), comma or semicolon separated, a header row. Columns:
``name`` (Latin), ``name_be``, ``name_ru``, ``birth_date``, ``gender``, ``detained_on``,
``articles``, ``facility``, ``status``, ``external_id``, ``released_on``, ``source_url``,
``notes``. A name column is required; the others may be absent. An empty cell means "not
given": it never erases what is stored.

A row is matched to a stored person by ``external_id`` (in ``id_scheme``), else by a name
(the ``search_key`` of any of its names equal to one of the person's stored spellings) and an
agreeing birth date. The row's status becomes events: a detention episode, charges, a custody
placement, a sentence, a release; the derived status (``events.selectors``) then says what the
list says. Re-importing the same file writes nothing at all; a changed row updates what
changed. New persons and every new event are drafts: an import never publishes anything.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, models, transaction
from django.db.models import Prefetch, Q
from django.db.models.functions import Lower
from django.utils import timezone

from events.models import (
    Charge,
    Citation,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    DetentionEpisode,
    Release,
    Source,
)
from events.services import (
    charge_add,
    cite,
    court_decision_add,
    episode_open,
    placement_add,
    record_upsert,
    release_record,
    source_get_or_create,
)

from .audit import audit_context
from .errors import ApplicationError
from .models import (
    Country,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Person,
    Place,
    PlaceKind,
    Visibility,
)
from .services import person_create, person_set_names, person_update
from .translit import schemes_for, search_key

__all__ = ["COLUMNS", "ImportReport", "RowResult", "Status", "person_csv_import"]

M = TypeVar("M", bound=models.Model)

# --- What the file may hold ------------------------------------------------------------------

NAME_COLUMNS = ("name", "name_be", "name_ru")
COLUMNS = (
    *NAME_COLUMNS,
    "birth_date",
    "gender",
    "detained_on",
    "articles",
    "facility",
    "status",
    "external_id",
    "released_on",
    "source_url",
    "notes",
)
DETENTION_COLUMNS = ("detained_on", "articles", "facility", "released_on")
CODE_SHORT_NAME = "BY-CC"
HOME_COUNTRY = "BY"
SENTENCE_NOTE = "Convicted, per imported list"
DEFAULT_REASON = "import_prisoners {filename}"
NAME_MAX = 200
EXTERNAL_ID_MAX = 100
URL_MAX = 1000
BATCH = 1000


class Status:
    """The statuses a list may give; each becomes events (see the module docstring)."""

    PRE_TRIAL = "pre_trial"
    IMPRISONED = "imprisoned"
    HOUSE_ARREST = "house_arrest"
    RELEASED = "released"
    UNKNOWN = "unknown"

    IN_CUSTODY = (PRE_TRIAL, IMPRISONED, HOUSE_ARREST)
    VALUES = (PRE_TRIAL, IMPRISONED, HOUSE_ARREST, RELEASED, UNKNOWN)


# Spellings a list may use, after folding (lower case, ё -> е, - and _ -> space, no dots).
STATUS_WORDS: dict[str, str] = {
    **{value.replace("_", " "): value for value in Status.VALUES},
    "pretrial": Status.PRE_TRIAL,
    "pre trial detention": Status.PRE_TRIAL,
    "in pre trial detention": Status.PRE_TRIAL,
    "awaiting trial": Status.PRE_TRIAL,
    "сизо": Status.PRE_TRIAL,
    "в сизо": Status.PRE_TRIAL,
    "под стражей": Status.PRE_TRIAL,
    "сiза": Status.PRE_TRIAL,
    "сіза": Status.PRE_TRIAL,
    "у сіза": Status.PRE_TRIAL,
    "convicted": Status.IMPRISONED,
    "sentenced": Status.IMPRISONED,
    "in prison": Status.IMPRISONED,
    "осужден": Status.IMPRISONED,
    "осуждена": Status.IMPRISONED,
    "в колонии": Status.IMPRISONED,
    "асуджаны": Status.IMPRISONED,
    "асуджаная": Status.IMPRISONED,
    "under house arrest": Status.HOUSE_ARREST,
    "домашний арест": Status.HOUSE_ARREST,
    "под домашним арестом": Status.HOUSE_ARREST,
    "хатні арышт": Status.HOUSE_ARREST,
    "пад хатнім арыштам": Status.HOUSE_ARREST,
    "free": Status.RELEASED,
    "освобожден": Status.RELEASED,
    "освобождена": Status.RELEASED,
    "на свободе": Status.RELEASED,
    "вызвалены": Status.RELEASED,
    "вызваленая": Status.RELEASED,
    "на волі": Status.RELEASED,
    "": Status.UNKNOWN,
    "?": Status.UNKNOWN,
    "неизвестно": Status.UNKNOWN,
}

GENDER_WORDS: dict[str, str] = {
    **{value: value for value in Person.Gender.values},
    "f": Person.Gender.FEMALE,
    "w": Person.Gender.FEMALE,
    "woman": Person.Gender.FEMALE,
    "ж": Person.Gender.FEMALE,
    "жен": Person.Gender.FEMALE,
    "женский": Person.Gender.FEMALE,
    "жаночы": Person.Gender.FEMALE,
    "m": Person.Gender.MALE,
    "man": Person.Gender.MALE,
    "м": Person.Gender.MALE,
    "муж": Person.Gender.MALE,
    "мужской": Person.Gender.MALE,
    "мужчынскі": Person.Gender.MALE,
}

# The placement a facility gives, by the kind of the facility.
PLACEMENT_KINDS: dict[str, str] = {
    PlaceKind.PRE_TRIAL: CustodyPlacement.Kind.PRE_TRIAL,
    PlaceKind.KGB: CustodyPlacement.Kind.PRE_TRIAL,
    PlaceKind.TEMPORARY: CustodyPlacement.Kind.TEMPORARY,
    PlaceKind.COLONY: CustodyPlacement.Kind.COLONY,
    PlaceKind.PRISON: CustodyPlacement.Kind.PRISON,
    PlaceKind.PSYCHIATRIC: CustodyPlacement.Kind.PSYCHIATRIC,
}

_PART = r"(?:ч|част[ьк]а|part|p)\.?\s*(?P<part{n}>\d+)"
_ARTICLE_RE = re.compile(
    r"^(?:" + _PART.format(n=1) + r"\s*)?"
    r"(?:(?:ст|арт|art|article|статья|артыкул)\.?\s*)?"
    r"(?P<number>\d+(?:\.\d+)?(?:-\d+)?)"
    r"(?:\s*" + _PART.format(n=2) + r")?$",
    re.IGNORECASE,
)
_ISO_DATE_RE = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?)?$")
_DOTTED_DATE_RE = re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$")

# --- Messages (tests assert on them) ---------------------------------------------------------

ROW_ERROR = "line {line}: {reason}"
SUMMARY = "created: {created}, updated: {updated}, unchanged: {unchanged}"
NOTHING_WRITTEN = "{count} error(s): nothing was written."
DRY_RUN_DONE = "Dry run: nothing was written."

FILE_EMPTY = "The file is empty."
FILE_NOT_UTF8 = (
    "The file is not UTF-8 text (undecodable bytes on line {line}); save it as UTF-8 and retry."
)
FILE_BAD_CSV = "The file is not readable as CSV (line {line}: {detail})."
FILE_NO_HEADER = (
    "The first line is not a header: it must name the columns, such as "
    "name, name_be, name_ru, birth_date, status."
)
FILE_NO_NAME_COLUMN = "The header has no name column: it needs name, name_be or name_ru."
FILE_DUPLICATE_COLUMN = "The header names the column {column} twice."
FILE_NO_ROWS = "The file has a header but no rows."
FILE_TOO_MANY_ROWS = "The file has more than {limit} rows; split it into smaller files."
FILE_UNKNOWN_SCHEME = "Unknown identifier scheme {scheme!r}; use one of: {choices}."
FILE_BAD_SOURCE_URL = "The source URL {url!r} is not a valid URL."
FILE_NO_HOME_COUNTRY = "The country BY is missing from the database."

WARN_UNKNOWN_COLUMNS = "Columns ignored (not known): {columns}."
WARN_NO_STATUS_COLUMN = (
    "There is no status column: detained_on, articles, facility and released_on are not imported."
)

ROW_TOO_MANY_VALUES = "more values than columns in the header"
ROW_NO_NAME = "no name: fill name, name_be or name_ru"
ROW_TOO_LONG = "{column} is longer than {limit} characters"
ROW_BAD_BIRTH_DATE = "birth_date {value!r} is not YYYY or YYYY-MM-DD"
ROW_BAD_DATE = "{column} {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD"
ROW_FUTURE_DATE = "{column} {value!r} is in the future"
ROW_DETAINED_BEFORE_BIRTH = "detained_on {value!r} is before the birth date {birth!r}"
ROW_RELEASED_BEFORE_DETAINED = "released_on {value!r} is before detained_on {detained!r}"
ROW_BAD_GENDER = "gender {value!r} is not one of female, male, other, unknown (or f, m, ж, м)"
ROW_BAD_ARTICLE = "article {value!r} is not an article number such as 342, 361-1 or 342 part 2"
ROW_UNKNOWN_ARTICLE = "article {value!r} is not in the catalogue of the " + CODE_SHORT_NAME
ROW_UNKNOWN_FACILITY = "facility {value!r} is not a known place of detention"
ROW_AMBIGUOUS_FACILITY = "facility {value!r} matches several places: {places}"
ROW_BAD_STATUS = "status {value!r} is not one of " + ", ".join(Status.VALUES)
ROW_RELEASED_WITHOUT_DATE = "status released needs released_on"
ROW_RELEASED_ON_IN_CUSTODY = "released_on is given but status is {status}"
ROW_BAD_URL = "source_url {value!r} is not a valid URL"
ROW_DUPLICATE_EXTERNAL_ID = "external_id {value!r} is also on line {other}"
ROW_SAME_PERSON = "the same person as line {other} ({person})"
ROW_SAME_NEW_PERSON = (
    "the same name as line {other} and no birth date tells them apart; "
    "add external_id or birth_date"
)
ROW_AMBIGUOUS_MATCH = (
    "the name matches several persons ({persons}); add external_id or birth_date to say which one"
)
ROW_ID_CONFLICT = (
    "the name and birth date match {person}, who has another {scheme} id ({other}); "
    "check the row or give that id"
)
ROW_DETENTION_OVERLAPS = (
    "detained_on {value!r} falls within an earlier detention of this person ({start} to {end})"
)
ROW_NEEDS_DETAINED_ON = (
    "the last detention of this person ended on {end}; detained_on is needed for a new one"
)
ROW_ARREST_AFTER_EVENT = (
    "detained_on {value!r} is after a recorded {what} of this detention ({when}); "
    "correct it by hand"
)

WARN_STATUS_UNKNOWN = "line {line}: status unknown: detention columns were not imported"
WARN_FACILITY_IGNORED = "line {line}: facility is ignored for house arrest"
WARN_NO_PLACEMENT_DATE = (
    "line {line}: no detained_on, so no placement ({what}) was recorded; "
    "the derived status may differ from the list"
)
WARN_PLACEMENT_DIFFERS = (
    "line {line}: the list says {wanted}, the record {current} since {since}; "
    "record the move by hand"
)
WARN_EPISODE_ENDED = (
    "line {line}: the list says {status}, but the detention from {start} ended on {end}; left as is"
)
WARN_SENTENCE_RECORDED = (
    "line {line}: the list says pre_trial, but a sentence is recorded; left as is"
)
WARN_DIED = "line {line}: the detention from {start} ended with a death in custody; left as is"


class FileProblem(Exception):
    """The file as a whole cannot be imported."""


class RowProblem(Exception):
    """A row cannot be imported (found while writing; everything is rolled back)."""


# --- Report ------------------------------------------------------------------------------------


@dataclass
class RowResult:
    line: int
    outcome: str  # "created", "updated" or "unchanged"
    person_id: int | None
    person_name: str
    changes: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    filename: str
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    source_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        """Whether anything was committed to the database."""
        return self.ok and not self.dry_run and bool(self.created or self.updated)

    @property
    def summary(self) -> str:
        return SUMMARY.format(created=self.created, updated=self.updated, unchanged=self.unchanged)

    @property
    def changed_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome != "unchanged"]


# --- Dates -------------------------------------------------------------------------------------

_PRECISION_RANK: dict[str, int] = {
    DatePrecision.DAY: 3,
    DatePrecision.MONTH: 2,
    DatePrecision.YEAR: 1,
    DatePrecision.ON_OR_BEFORE: 0,
    DatePrecision.UNKNOWN: -1,
}


def _span(first: dt.date | None, precision: str) -> tuple[dt.date, dt.date] | None:
    """The days a stored (possibly partial) date may stand for; None when unknown."""
    if first is None or precision == DatePrecision.UNKNOWN:
        return None
    if precision == DatePrecision.YEAR:
        return first, dt.date(first.year, 12, 31)
    if precision == DatePrecision.MONTH:
        return first, dt.date(
            first.year, first.month, calendar.monthrange(*first.timetuple()[:2])[1]
        )
    if precision == DatePrecision.ON_OR_BEFORE:
        return dt.date.min, first
    return first, first


@dataclass(frozen=True)
class PartialDate:
    first: dt.date
    precision: str
    text: str

    @property
    def last(self) -> dt.date:
        span = _span(self.first, self.precision)
        assert span is not None
        return span[1]


def _parse_date(value: str, *, month: bool = True) -> PartialDate:
    """``YYYY``, ``YYYY-MM`` (if ``month``), ``YYYY-MM-DD`` or ``DD.MM.YYYY``; ValueError."""
    iso = _ISO_DATE_RE.match(value)
    parts = iso.groupdict() if iso else None
    if parts is None:
        dotted = _DOTTED_DATE_RE.match(value)
        parts = dotted.groupdict() if dotted else None
    if parts is None:
        raise ValueError(value)
    year = int(parts["y"])
    if parts["d"]:
        return PartialDate(
            dt.date(year, int(parts["m"]), int(parts["d"])), DatePrecision.DAY, value
        )
    if parts["m"]:
        if not month:
            raise ValueError(value)
        return PartialDate(dt.date(year, int(parts["m"]), 1), DatePrecision.MONTH, value)
    return PartialDate(dt.date(year, 1, 1), DatePrecision.YEAR, value)


def _birth_relation(row: PartialDate | None, stored: dt.date | None, precision: str) -> str:
    """ "agree", "conflict" or "unknown" (one side has no birth date)."""
    if row is None or stored is None or precision == DatePrecision.UNKNOWN:
        return "unknown"
    if row.precision == DatePrecision.DAY and precision == DatePrecision.DAY:
        return "agree" if row.first == stored else "conflict"
    return "agree" if row.first.year == stored.year else "conflict"


def _overlap(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


# --- Reading the file --------------------------------------------------------------------------


@dataclass
class _RawRow:
    line: int
    values: dict[str, str]
    quote: str
    too_many_values: bool


@dataclass
class _Table:
    columns: dict[str, int]
    rows: list[_RawRow]
    warnings: list[str]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileProblem(FILE_NOT_UTF8.format(line=line)) from error


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the physical line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                yield line, record
            line = reader.line_num + 1
    except csv.Error as error:
        raise FileProblem(FILE_BAD_CSV.format(line=reader.line_num, detail=error)) from error


def _read_table(text: str, *, limit: int) -> _Table:
    if not text.strip():
        raise FileProblem(FILE_EMPTY)
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = _records(text, delimiter)
    _, header = next(records)
    names = [re.sub(r"[\s\-]+", "_", cell.strip().casefold()) for cell in header]
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, name in enumerate(names):
        if name in COLUMNS:
            if name in columns:
                raise FileProblem(FILE_DUPLICATE_COLUMN.format(column=name))
            columns[name] = index
        elif name:
            unknown.append(header[index].strip())
    if not columns:
        raise FileProblem(FILE_NO_HEADER)
    if not any(name in columns for name in NAME_COLUMNS):
        raise FileProblem(FILE_NO_NAME_COLUMN)
    warnings = []
    if unknown:
        warnings.append(WARN_UNKNOWN_COLUMNS.format(columns=", ".join(unknown)))
    if "status" not in columns and any(name in columns for name in DETENTION_COLUMNS):
        warnings.append(WARN_NO_STATUS_COLUMN)
    rows: list[_RawRow] = []
    for line, record in records:
        if len(rows) >= limit:
            raise FileProblem(FILE_TOO_MANY_ROWS.format(limit=limit))
        values = {
            name: record[index].strip() if index < len(record) else ""
            for name, index in columns.items()
        }
        extra = any(cell.strip() for cell in record[len(header) :])
        rows.append(_RawRow(line, values, delimiter.join(record), extra))
    if not rows:
        raise FileProblem(FILE_NO_ROWS)
    return _Table(columns, rows, warnings)


# --- Checking the rows -------------------------------------------------------------------------


@dataclass
class Row:
    """One checked row of the file."""

    line: int
    quote: str
    name: str
    name_be: str
    name_ru: str
    birth: PartialDate | None
    gender: str  # "" when not given
    detained: PartialDate | None
    articles: list[tuple[CriminalArticle, str]]
    facility: Place | None
    status: str
    released: PartialDate | None
    external_id: str
    source_url: str
    notes: str
    keys: frozenset[str]
    person: Person | None = None

    @property
    def display_name(self) -> str:
        """The Latin name; from the Belarusian (else Russian) name when the list has none."""
        if self.name:
            return self.name
        for text, language in ((self.name_be, "be"), (self.name_ru, "ru")):
            if text:
                return schemes_for(language)[0].apply(text)
        return ""


def _parse_articles(value: str) -> tuple[list[tuple[str, str]], list[str]]:
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    for token in re.split(r"[;,]", value):
        token = " ".join(token.split())
        if not token:
            continue
        match = _ARTICLE_RE.match(token)
        if match is None:
            problems.append(ROW_BAD_ARTICLE.format(value=token))
            continue
        item = (match["number"], match["part1"] or match["part2"] or "")
        if item not in found:
            found.append(item)
    return found, problems


def _catalogue(numbers: set[str]) -> dict[str, CriminalArticle]:
    if not numbers:
        return {}
    articles = CriminalArticle.objects.filter(
        code__short_name=CODE_SHORT_NAME, number__in=sorted(numbers)
    )
    return {article.number: article for article in articles}


def _facilities(values: set[str]) -> dict[str, list[Place]]:
    """Places of detention by every folded name they go by, for the names the file uses."""
    if not values:
        return {}
    lowered = sorted({_fold(value) for value in values})
    places = (
        Place.objects.filter(kind__in=Place.FACILITY_KINDS)
        .annotate(n=Lower("name"), n_be=Lower("name_be"), n_ru=Lower("name_ru"))
        .filter(Q(n__in=lowered) | Q(n_be__in=lowered) | Q(n_ru__in=lowered))
        .select_related("country")
        .order_by("id")
    )
    found: dict[str, list[Place]] = defaultdict(list)
    for place in places:
        for name in {_fold(n) for n in (place.name, place.name_be, place.name_ru) if n}:
            found[name].append(place)
    return found


def _date_cell(
    values: dict[str, str], column: str, today: dt.date, problems: list[str], *, month: bool = True
) -> PartialDate | None:
    value = values.get(column, "")
    if not value:
        return None
    try:
        parsed = _parse_date(value, month=month)
    except ValueError:
        message = ROW_BAD_BIRTH_DATE if column == "birth_date" else ROW_BAD_DATE
        problems.append(message.format(column=column, value=value))
        return None
    if parsed.first > today:
        problems.append(ROW_FUTURE_DATE.format(column=column, value=value))
    return parsed


def _check_rows(table: _Table, report: ImportReport) -> list[Row]:
    today = timezone.localdate()
    article_tokens: dict[int, tuple[list[tuple[str, str]], list[str]]] = {
        raw.line: _parse_articles(raw.values.get("articles", "")) for raw in table.rows
    }
    catalogue = _catalogue({num for found, _ in article_tokens.values() for num, _ in found})
    facilities = _facilities({raw.values.get("facility", "") for raw in table.rows} - {""})
    url_validator = URLValidator()
    rows: list[Row] = []
    for raw in table.rows:
        v = raw.values
        problems: list[str] = []

        if raw.too_many_values:
            problems.append(ROW_TOO_MANY_VALUES)
        names = {column: " ".join(v.get(column, "").split()) for column in NAME_COLUMNS}
        keys = frozenset(
            key for key in (search_key(text) for text in names.values() if text) if key
        )
        if not keys:
            problems.append(ROW_NO_NAME)
        for column, text in names.items():
            if len(text) > NAME_MAX:
                problems.append(ROW_TOO_LONG.format(column=column, limit=NAME_MAX))

        birth = _date_cell(v, "birth_date", today, problems, month=False)
        detained = _date_cell(v, "detained_on", today, problems)
        released = _date_cell(v, "released_on", today, problems)
        if birth and detained and detained.last < birth.first:
            problems.append(ROW_DETAINED_BEFORE_BIRTH.format(value=detained.text, birth=birth.text))
        if detained and released and released.first < detained.first:
            problems.append(
                ROW_RELEASED_BEFORE_DETAINED.format(value=released.text, detained=detained.text)
            )

        gender_text = v.get("gender", "")
        gender = GENDER_WORDS.get(gender_text.casefold().rstrip(".")) if gender_text else ""
        if gender is None:
            problems.append(ROW_BAD_GENDER.format(value=gender_text))

        status_text = v.get("status", "")
        status = STATUS_WORDS.get(
            " ".join(re.sub(r"[-_.]", " ", status_text.casefold().replace("ё", "е")).split())
        )
        if status is None:
            problems.append(ROW_BAD_STATUS.format(value=status_text))
            status = Status.UNKNOWN
        if status == Status.RELEASED and released is None and not v.get("released_on"):
            problems.append(ROW_RELEASED_WITHOUT_DATE)
        if released is not None and status in (Status.PRE_TRIAL, Status.IMPRISONED):
            problems.append(ROW_RELEASED_ON_IN_CUSTODY.format(status=status))

        found, article_problems = article_tokens[raw.line]
        problems.extend(article_problems)
        articles: list[tuple[CriminalArticle, str]] = []
        for number, part in found:
            if number in catalogue:
                articles.append((catalogue[number], part))
            else:
                problems.append(ROW_UNKNOWN_ARTICLE.format(value=number))

        facility: Place | None = None
        facility_text = v.get("facility", "")
        if facility_text:
            places = facilities.get(_fold(facility_text), [])
            if not places:
                problems.append(ROW_UNKNOWN_FACILITY.format(value=facility_text))
            elif len(places) > 1:
                listed = "; ".join(
                    f"{p.name} ({p.get_kind_display()}, {p.country.code})" for p in places
                )
                problems.append(ROW_AMBIGUOUS_FACILITY.format(value=facility_text, places=listed))
            else:
                facility = places[0]

        external_id = v.get("external_id", "")
        if len(external_id) > EXTERNAL_ID_MAX:
            problems.append(ROW_TOO_LONG.format(column="external_id", limit=EXTERNAL_ID_MAX))
        source_url = v.get("source_url", "")
        if source_url:
            try:
                if len(source_url) > URL_MAX:
                    raise ValidationError(source_url)
                url_validator(source_url)
            except ValidationError:
                problems.append(ROW_BAD_URL.format(value=source_url))

        if problems:
            report.errors.extend(ROW_ERROR.format(line=raw.line, reason=p) for p in problems)
            continue
        if (
            status == Status.UNKNOWN
            and "status" in table.columns
            and any(v.get(c) for c in DETENTION_COLUMNS)
        ):
            report.warnings.append(WARN_STATUS_UNKNOWN.format(line=raw.line))
        if status == Status.HOUSE_ARREST and facility is not None and released is None:
            report.warnings.append(WARN_FACILITY_IGNORED.format(line=raw.line))
        rows.append(
            Row(
                line=raw.line,
                quote=raw.quote,
                name=names["name"],
                name_be=names["name_be"],
                name_ru=names["name_ru"],
                birth=birth,
                gender=gender or "",
                detained=detained,
                articles=articles,
                facility=facility,
                status=status,
                released=released,
                external_id=external_id,
                source_url=source_url,
                notes=v.get("notes", ""),
                keys=keys,
            )
        )
    return rows


# --- Matching rows to stored persons -------------------------------------------------------------


def _chunks(items: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _current(person: Person) -> Person:
    """The record a merged duplicate points to."""
    for _ in range(10):
        if person.merged_into_id is None:
            break
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def _describe(person: Person) -> str:
    return f"#{person.pk} {person.name}"


def _same_new_person(row: Row, new_rows: dict[str, list[Row]]) -> Row | None:
    """An earlier new person of the file that this row may well be too."""
    for key in sorted(row.keys):
        for earlier in new_rows.get(key, []):
            if earlier.external_id and row.external_id:
                continue  # two ids of the list: two persons
            birth = earlier.birth
            relation = _birth_relation(
                row.birth,
                birth.first if birth else None,
                birth.precision if birth else DatePrecision.UNKNOWN,
            )
            if relation != "conflict":
                return earlier
    return None


def _match(rows: Sequence[Row], scheme: str, report: ImportReport) -> None:
    """Set ``row.person`` for the rows that are stored persons; report ambiguities."""
    by_id: dict[str, Person] = {}
    external_ids = sorted({row.external_id for row in rows if row.external_id})
    for chunk in _chunks(external_ids):
        identifiers = ExternalIdentifier.objects.filter(scheme=scheme, value__in=chunk)
        for identifier in identifiers.select_related("person"):
            by_id[identifier.value] = _current(identifier.person)

    by_name = [row for row in rows if row.external_id not in by_id]
    key_persons: dict[str, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted(set().union(*(row.keys for row in by_name)))):
        variants = NameVariant.objects.filter(
            search_key__in=chunk, person__merged_into__isnull=True
        ).values_list("search_key", "person_id")
        for key, person_id in variants.order_by().distinct():
            key_persons[key].add(person_id)
    candidates: dict[int, Person] = {}
    for chunk in _chunks(sorted(set().union(*key_persons.values()))):
        candidates.update(Person.objects.in_bulk(chunk))
    other_ids: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(sorted(candidates)):
        identifiers = ExternalIdentifier.objects.filter(scheme=scheme, person_id__in=chunk)
        for person_id, value in identifiers.values_list("person_id", "value"):
            other_ids[person_id].append(value)

    first_line_of_id: dict[str, int] = {}
    first_line_of_person: dict[int, int] = {}
    new_rows: dict[str, list[Row]] = defaultdict(list)  # new persons of the file, by name key
    for row in rows:
        problems: list[str] = []
        if row.external_id:
            if row.external_id in first_line_of_id:
                problems.append(
                    ROW_DUPLICATE_EXTERNAL_ID.format(
                        value=row.external_id, other=first_line_of_id[row.external_id]
                    )
                )
            else:
                first_line_of_id[row.external_id] = row.line
        person = by_id.get(row.external_id) if row.external_id else None
        if person is None:
            ids = set().union(*(key_persons.get(key, set()) for key in row.keys))
            named = [candidates[i] for i in sorted(ids)]
            relation = {
                p.pk: _birth_relation(row.birth, p.birth_date, p.birth_date_precision)
                for p in named
            }
            strong = [p for p in named if relation[p.pk] == "agree"]
            weak = [p for p in named if relation[p.pk] == "unknown"]
            if len(strong) == 1:
                person = strong[0]
            elif len(strong) > 1 or (weak and len(named) > 1):
                listed = ", ".join(_describe(p) for p in (strong if len(strong) > 1 else named))
                problems.append(ROW_AMBIGUOUS_MATCH.format(persons=listed))
            elif weak:
                person = weak[0]
            if person is not None and row.external_id:
                others = [
                    value for value in other_ids.get(person.pk, []) if value != row.external_id
                ]
                if others:
                    problems.append(
                        ROW_ID_CONFLICT.format(
                            person=_describe(person), scheme=scheme, other=", ".join(others)
                        )
                    )
        if person is not None:
            if person.pk in first_line_of_person:
                problems.append(
                    ROW_SAME_PERSON.format(
                        other=first_line_of_person[person.pk], person=_describe(person)
                    )
                )
            else:
                first_line_of_person[person.pk] = row.line
        elif not problems:
            earlier = _same_new_person(row, new_rows)
            if earlier is not None:
                problems.append(ROW_SAME_NEW_PERSON.format(other=earlier.line))
            for key in row.keys:
                new_rows[key].append(row)
        row.person = person
        report.errors.extend(ROW_ERROR.format(line=row.line, reason=p) for p in problems)


# --- Writing -----------------------------------------------------------------------------------


def _load(persons: Iterable[Person]) -> dict[int, Person]:
    """The matched persons with everything the import compares against, in a few queries."""
    episodes = (
        DetentionEpisode.objects.order_by("arrested_on", "id")
        .select_related("release", "death")
        .prefetch_related("charges", "placements", "court_decisions")
    )
    loaded: dict[int, Person] = {}
    for chunk in _chunks(sorted({person.pk for person in persons})):
        queryset = Person.objects.filter(pk__in=chunk).prefetch_related(
            "name_variants", "identifiers", Prefetch("episodes", queryset=episodes)
        )
        loaded.update({person.pk: person for person in queryset})
    return loaded


def _episode_range(episode: DetentionEpisode) -> tuple[dt.date, dt.date]:
    """The half-open range an episode holds in the no-overlap constraint."""
    return episode.arrested_on or dt.date.min, episode.ended_on or dt.date.max


def _placement_kind(status: str, facility: Place) -> str:
    kind = PLACEMENT_KINDS.get(facility.kind, CustodyPlacement.Kind.OTHER)
    if status == Status.PRE_TRIAL and kind in (
        CustodyPlacement.Kind.COLONY,
        CustodyPlacement.Kind.PRISON,
    ):
        return CustodyPlacement.Kind.PRE_TRIAL  # prisons also serve as pre-trial centres
    return kind


def _birth_differs(birth: PartialDate, person: Person) -> bool:
    if person.birth_date is None:
        return True
    if (person.birth_date, person.birth_date_precision) == (birth.first, birth.precision):
        return False
    # A year-only date from the list does not overwrite a full date of the same year.
    return not (
        birth.precision == DatePrecision.YEAR and birth.first.year == person.birth_date.year
    )


def _line_of(message: str) -> int:
    match = re.match(r"line (\d+): ", message)
    return int(match[1]) if match else 0


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(
                "; ".join(messages) if name == "__all__" else f"{name}: {'; '.join(messages)}"
                for name, messages in error.message_dict.items()
            )
        return "; ".join(error.messages)
    if isinstance(error, ApplicationError):
        return error.message
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class _Writer:
    """Writes the rows through the services, comparing before writing."""

    def __init__(self, *, source: Source, scheme: str, home: Country, report: ImportReport):
        self.source = source
        self.scheme = scheme
        self.home = home
        self.report = report
        self.row_sources: dict[str, Source] = {}
        self.cited: dict[int, set[tuple[int, int, str]]] = {}
        self.new_episodes: set[int] = set()

    # -- helpers

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)

    def sources(self, row: Row) -> list[Source]:
        sources = [self.source]
        if row.source_url:
            if row.source_url not in self.row_sources:
                self.row_sources[row.source_url] = source_get_or_create(
                    title=row.source_url,
                    kind=Source.Kind.OTHER,
                    url=row.source_url,
                    visibility=Visibility.DRAFT,
                )
            sources.append(self.row_sources[row.source_url])
        return sources

    def cite(
        self, obj: models.Model, row: Row, *fields: str, sources: list[Source] | None = None
    ) -> bool:
        """Cite the file (and the row's ``source_url``) for ``obj``, unless already cited."""
        content_type = ContentType.objects.get_for_model(obj)
        wrote = False
        for source in self.sources(row) if sources is None else sources:
            if source.pk not in self.cited:
                self.cited[source.pk] = set(
                    Citation.objects.filter(source=source).values_list(
                        "content_type_id", "object_id", "field_name"
                    )
                )
            seen = self.cited[source.pk]
            for name in fields or ("",):
                key = (content_type.pk, obj.pk, name)
                if key not in seen:
                    cite(obj=obj, source=source, field_name=name, quote=row.quote)
                    seen.add(key)
                    wrote = True
        return wrote

    def upsert(self, obj: M, row: Row, values: dict[str, Any]) -> list[str]:
        """Write the values that differ and cite them; return the names of the fields written."""
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            return []
        record_upsert(type(obj), {"pk": obj.pk}, {name: values[name] for name in changed})
        for name in changed:
            setattr(obj, name, values[name])
        fields = [name.removesuffix("_id") for name in changed]
        self.cite(obj, row, *fields)
        return fields

    def related(self, episode: DetentionEpisode, name: str) -> list[Any]:
        if episode.pk in self.new_episodes:
            return []
        return list(getattr(episode, name).all())

    @staticmethod
    def one(episode: DetentionEpisode, name: str) -> Any:
        try:
            return getattr(episode, name)
        except ObjectDoesNotExist:
            return None

    # -- a row

    def apply(self, row: Row) -> RowResult:
        changes: list[str] = []
        created = row.person is None
        if row.person is None:
            person = self.create(row, changes)
        else:
            person = row.person
            self.update(row, person, changes)
        self.identifier(row, person, changes, created=created)
        if row.status != Status.UNKNOWN:
            self.events(row, person, changes, created=created)
        if row.source_url and self.cite(person, row, sources=self.sources(row)[1:]):
            changes.append(f"cites {row.source_url}")
        outcome = "created" if created else "updated" if changes else "unchanged"
        return RowResult(row.line, outcome, person.pk, person.name, changes)

    def create(self, row: Row, changes: list[str]) -> Person:
        person = person_create(
            name=row.display_name,
            name_be=row.name_be,
            name_ru=row.name_ru,
            gender=row.gender or Person.Gender.UNKNOWN,
            birth_date=row.birth.first if row.birth else None,
            birth_date_precision=row.birth.precision if row.birth else DatePrecision.UNKNOWN,
            visibility=Visibility.DRAFT,
            staff_notes=row.notes,
        )
        self.cite(person, row)
        for variant in person.name_variants.filter(generated=False):
            self.cite(variant, row)
        changes.append("new person (draft)")
        return person

    def update(self, row: Row, person: Person, changes: list[str]) -> None:
        fields: dict[str, Any] = {}
        if row.gender and row.gender != Person.Gender.UNKNOWN and row.gender != person.gender:
            fields["gender"] = row.gender
        if row.birth is not None and _birth_differs(row.birth, person):
            fields["birth_date"] = row.birth.first
            fields["birth_date_precision"] = row.birth.precision
        if row.notes and row.notes not in person.staff_notes:
            fields["staff_notes"] = f"{person.staff_notes}\n\n{row.notes}".strip()
        if fields:
            before = {name: getattr(person, name) for name in fields}
            person_update(person=person, **fields)
            self.cite(person, row, *fields)
            changes.extend(
                "notes added" if name == "staff_notes" else f"{name}: {before[name]} → {value}"
                for name, value in fields.items()
                if name != "birth_date_precision"
            )
        known = {variant.search_key for variant in person.name_variants.all()}
        names = {
            column: text
            for column, text in (
                ("name", row.name),
                ("name_be", row.name_be),
                ("name_ru", row.name_ru),
            )
            if text and search_key(text) not in known
        }
        if names:
            before_ids = {variant.pk for variant in person.name_variants.all()}
            person_set_names(person=person, visibility=Visibility.DRAFT, **names)
            for variant in person.name_variants.filter(generated=False).exclude(pk__in=before_ids):
                self.cite(variant, row)
            changes.append("names: " + ", ".join(names.values()))

    def identifier(self, row: Row, person: Person, changes: list[str], *, created: bool) -> None:
        if not row.external_id:
            return
        if not created and any(
            i.scheme == self.scheme and i.value == row.external_id for i in person.identifiers.all()
        ):
            return
        identifier, _ = record_upsert(
            ExternalIdentifier,
            {"scheme": self.scheme, "value": row.external_id},
            {"person_id": person.pk},
        )
        self.cite(identifier, row)
        changes.append(f"identifier {self.scheme}:{row.external_id}")

    # -- events

    def events(self, row: Row, person: Person, changes: list[str], *, created: bool) -> None:
        episodes: list[DetentionEpisode] = [] if created else list(person.episodes.all())
        episode = self.episode(row, person, episodes, changes)
        start = episode.arrested_on or "?"
        if self.one(episode, "death") is not None:
            self.warn(WARN_DIED.format(line=row.line, start=start))
            return
        if row.released is None and episode.ended_on is not None:
            self.warn(
                WARN_EPISODE_ENDED.format(
                    line=row.line, status=row.status, start=start, end=episode.ended_on
                )
            )
            return
        self.charges(row, episode, changes)
        self.placement(row, episode, changes)
        sentenced = any(
            decision.kind in CourtDecision.TERM_KINDS
            for decision in self.related(episode, "court_decisions")
        )
        if row.status == Status.IMPRISONED and not sentenced:
            decision = court_decision_add(
                episode=episode,
                kind=CourtDecision.Kind.SENTENCE,
                note=SENTENCE_NOTE,
                visibility=Visibility.DRAFT,
            )
            self.cite(decision, row)
            changes.append("sentence recorded")
        if row.status == Status.PRE_TRIAL and sentenced:
            self.warn(WARN_SENTENCE_RECORDED.format(line=row.line))
        if row.released is not None:
            self.release(row, episode, changes)

    def episode(
        self, row: Row, person: Person, episodes: list[DetentionEpisode], changes: list[str]
    ) -> DetentionEpisode:
        """The episode the row speaks of: a stored one, or a new one."""
        current = next((e for e in episodes if e.ended_on is None), None)
        detained = row.detained
        if detained is not None:
            for episode in episodes:
                span = _span(episode.arrested_on, episode.arrested_on_precision)
                if span is not None and _overlap(span, (detained.first, detained.last)):
                    if _PRECISION_RANK[detained.precision] > _PRECISION_RANK.get(
                        episode.arrested_on_precision, -1
                    ):
                        self.move_arrest(row, episode, episodes, changes)
                    return episode
            if current is not None:  # the list corrects the arrest date of the open episode
                self.move_arrest(row, current, episodes, changes)
                return current
            end = row.released.first if row.released else dt.date.max
            for other in episodes:
                low, high = _episode_range(other)
                if low < end and detained.first < high:
                    raise RowProblem(
                        ROW_DETENTION_OVERLAPS.format(
                            value=detained.text, start=other.arrested_on or "?", end=other.ended_on
                        )
                    )
            return self.open(row, person, changes)
        if current is not None:
            return current
        if not episodes:
            return self.open(row, person, changes)
        last = max(episodes, key=lambda e: (e.ended_on or dt.date.min, e.pk))
        if row.released is not None:
            return last
        raise RowProblem(ROW_NEEDS_DETAINED_ON.format(end=last.ended_on))

    def open(self, row: Row, person: Person, changes: list[str]) -> DetentionEpisode:
        detained = row.detained
        episode = episode_open(
            person=person,
            country=row.facility.country if row.facility else self.home,
            arrested_on=detained.first if detained else None,
            arrested_on_precision=detained.precision if detained else DatePrecision.UNKNOWN,
            visibility=Visibility.DRAFT,
        )
        self.new_episodes.add(episode.pk)
        self.cite(episode, row)
        changes.append(f"detention from {detained.text if detained else 'an unknown date'}")
        return episode

    def move_arrest(
        self,
        row: Row,
        episode: DetentionEpisode,
        episodes: list[DetentionEpisode],
        changes: list[str],
    ) -> None:
        """Set the arrest date from the list; placements that began at the arrest move along."""
        detained = row.detained
        assert detained is not None
        new, old = detained.first, episode.arrested_on
        end = episode.ended_on or dt.date.max
        for other in episodes:
            low, high = _episode_range(other)
            if other.pk != episode.pk and low < end and new < high:
                raise RowProblem(
                    ROW_DETENTION_OVERLAPS.format(
                        value=detained.text, start=other.arrested_on or "?", end=other.ended_on
                    )
                )

        def refuse(what: str, when: dt.date) -> RowProblem:
            return RowProblem(
                ROW_ARREST_AFTER_EVENT.format(value=detained.text, what=what, when=when)
            )

        if episode.ended_on is not None and episode.ended_on < new:
            raise refuse("release", episode.ended_on)
        placements: list[CustodyPlacement] = self.related(episode, "placements")
        moving = [p for p in placements if old is not None and p.started_on == old]
        for placement in placements:
            last_day = placement.ended_on if placement in moving else placement.started_on
            if last_day is not None and last_day < new:
                raise refuse("placement", placement.started_on)
        charges: list[Charge] = self.related(episode, "charges")
        for charge in charges:
            if charge.charged_on is not None and charge.charged_on < new:
                raise refuse("charge", charge.charged_on)
        decisions: list[CourtDecision] = self.related(episode, "court_decisions")
        for decision in decisions:
            if decision.decided_on is not None and decision.decided_on < new:
                raise refuse("court decision", decision.decided_on)
        # The database keeps placements within their episode at every step: a later arrest date
        # moves the placements first, an earlier one moves the episode first.
        later = old is not None and new > old
        if later:
            for placement in moving:
                self.upsert(placement, row, {"started_on": new})
        self.upsert(episode, row, {"arrested_on": new, "arrested_on_precision": detained.precision})
        if not later:
            for placement in moving:
                self.upsert(placement, row, {"started_on": new})
        changes.append(f"detained_on: {old or 'unknown'} → {detained.text}")

    def charges(self, row: Row, episode: DetentionEpisode, changes: list[str]) -> None:
        charges: list[Charge] = self.related(episode, "charges")
        for article, part in row.articles:
            same = [charge for charge in charges if charge.article_id == article.pk]
            if any(charge.part == part or not part for charge in same):
                continue
            label = f"{article.number} part {part}" if part else article.number
            blank = next((charge for charge in same if not charge.part), None)
            if blank is not None:
                self.upsert(blank, row, {"part": part})
            else:
                charge = charge_add(
                    episode=episode, article=article, part=part, visibility=Visibility.DRAFT
                )
                self.cite(charge, row)
            changes.append(f"charge {label}")

    def placement(self, row: Row, episode: DetentionEpisode, changes: list[str]) -> None:
        facility = row.facility
        if row.status == Status.HOUSE_ARREST and row.released is None:
            kind: str = CustodyPlacement.Kind.HOUSE_ARREST
            facility = None
        elif facility is not None:
            kind = _placement_kind(row.status, facility)
        elif row.status == Status.PRE_TRIAL:
            kind = CustodyPlacement.Kind.PRE_TRIAL
        else:
            return
        wanted = facility.name if facility else str(CustodyPlacement.Kind(kind).label)
        if episode.arrested_on is None:
            if facility is not None or kind == CustodyPlacement.Kind.HOUSE_ARREST:
                self.warn(WARN_NO_PLACEMENT_DATE.format(line=row.line, what=wanted))
            return
        placements: list[CustodyPlacement] = self.related(episode, "placements")
        if any(
            p.kind == kind and (facility is None or p.facility_id == facility.pk)
            for p in placements
        ):
            return
        if facility is not None:
            blank = next((p for p in placements if p.facility_id is None and p.kind == kind), None)
            if blank is not None:  # the facility of a placement is now known
                self.upsert(blank, row, {"facility_id": facility.pk})
                changes.append(f"placement at {facility.name}")
                return
        if placements:
            current = max(placements, key=lambda p: (p.started_on, p.pk))
            self.warn(
                WARN_PLACEMENT_DIFFERS.format(
                    line=row.line,
                    wanted=wanted,
                    current=current.facility or current.get_kind_display(),
                    since=current.started_on,
                )
            )
            return
        placement = placement_add(
            episode=episode,
            kind=kind,
            started_on=episode.arrested_on,
            facility=facility,
            ended_on=episode.ended_on,
            visibility=Visibility.DRAFT,
        )
        self.cite(placement, row)
        changes.append(f"placement: {wanted} from {episode.arrested_on}")

    def release(self, row: Row, episode: DetentionEpisode, changes: list[str]) -> None:
        released = row.released
        assert released is not None
        kind = (
            Release.Kind.HOUSE_ARREST if row.status == Status.HOUSE_ARREST else Release.Kind.OTHER
        )
        release: Release | None = (
            None if episode.pk in self.new_episodes else self.one(episode, "release")
        )
        if release is None:
            release = release_record(
                episode=episode,
                released_on=released.first,
                released_on_precision=released.precision,
                kind=kind,
                visibility=Visibility.DRAFT,
            )
            self.cite(release, row)
            changes.append(f"released on {released.text}")
            return
        values: dict[str, Any] = {}
        stored = _span(release.released_on, release.released_on_precision)
        if not (
            stored is not None
            and _overlap(stored, (released.first, released.last))
            and _PRECISION_RANK[released.precision]
            <= _PRECISION_RANK.get(release.released_on_precision, -1)
        ):
            values["released_on"] = released.first
            values["released_on_precision"] = released.precision
        if row.status == Status.HOUSE_ARREST and release.kind != Release.Kind.HOUSE_ARREST:
            values["kind"] = Release.Kind.HOUSE_ARREST
        elif row.status == Status.RELEASED and release.kind == Release.Kind.HOUSE_ARREST:
            values["kind"] = Release.Kind.OTHER
        if self.upsert(release, row, values):
            episode.refresh_from_db(fields=["ended_on", "end_reason", "end_level"])
            changes.append(f"release: {released.text}, {release.get_kind_display()}")


# --- The import ------------------------------------------------------------------------------


def person_csv_import(
    *,
    data: bytes,
    filename: str,
    reason: str = "",
    user: Any = None,
    dry_run: bool = False,
    id_scheme: str = ExternalIdentifier.Scheme.IMPORT,
    source_title: str = "",
    source_url: str = "",
) -> ImportReport:
    """Import a prisoner list; nothing of a file with any error is written.

    ``data`` is the file's bytes, ``filename`` names it (the source's title by default).
    ``id_scheme`` is the list the ``external_id`` column belongs to. ``reason`` (default
    ``import_prisoners <filename>``) and ``user`` go into the audit trail of every write.
    """
    report = ImportReport(filename=filename, dry_run=dry_run)
    if id_scheme not in ExternalIdentifier.Scheme.values:
        choices = ", ".join(ExternalIdentifier.Scheme.values)
        report.errors.append(FILE_UNKNOWN_SCHEME.format(scheme=id_scheme, choices=choices))
    if source_url:
        try:
            URLValidator()(source_url)
        except ValidationError:
            report.errors.append(FILE_BAD_SOURCE_URL.format(url=source_url))
    home = Country.objects.filter(code=HOME_COUNTRY).first()
    if home is None:
        report.errors.append(FILE_NO_HOME_COUNTRY)
    if report.errors or home is None:
        return report
    try:
        text = _decode(data)
        table = _read_table(text, limit=settings.IMPORT_MAX_ROWS)
    except FileProblem as problem:
        report.errors.append(str(problem))
        return report
    report.warnings.extend(table.warnings)
    rows = _check_rows(table, report)
    _match(rows, id_scheme, report)  # also on a file with bad rows: report every error at once
    if report.errors:
        report.errors.sort(key=_line_of)
        return report
    _write(
        rows,
        text=text,
        reason=reason.strip() or DEFAULT_REASON.format(filename=filename),
        user=user,
        scheme=id_scheme,
        home=home,
        title=(source_title.strip() or filename)[:500],
        url=source_url,
        report=report,
    )
    return report


def _write(
    rows: list[Row],
    *,
    text: str,
    reason: str,
    user: Any,
    scheme: str,
    home: Country,
    title: str,
    url: str,
    report: ImportReport,
) -> None:
    loaded = _load(row.person for row in rows if row.person is not None)
    for row in rows:
        if row.person is not None:
            row.person = loaded[row.person.pk]
    results: list[RowResult] = []
    with transaction.atomic():
        with audit_context(reason=reason, user=user):
            source = source_get_or_create(
                title=title,
                kind=Source.Kind.NGO_LIST,
                url=url,
                text=text,
                visibility=Visibility.DRAFT,
            )
            with audit_context(reason=reason, user=user, source=source):
                writer = _Writer(source=source, scheme=scheme, home=home, report=report)
                for row in rows:
                    # Services save in savepoints and turn database refusals into a
                    # ValidationError, so the transaction stays usable: carry on and report
                    # every refused row. Any other database error ends the run.
                    try:
                        results.append(writer.apply(row))
                    except (RowProblem, ValidationError, ApplicationError) as error:
                        report.errors.append(ROW_ERROR.format(line=row.line, reason=_reason(error)))
                    except DatabaseError as error:
                        report.errors.append(ROW_ERROR.format(line=row.line, reason=_reason(error)))
                        break
        changed = any(result.outcome != "unchanged" for result in results)
        if report.errors or report.dry_run or not changed:
            transaction.set_rollback(True)
    if report.errors:
        return
    report.rows = results
    report.created = sum(result.outcome == "created" for result in results)
    report.updated = sum(result.outcome == "updated" for result in results)
    report.unchanged = sum(result.outcome == "unchanged" for result in results)
    report.source_id = source.pk if changed and not report.dry_run else None
