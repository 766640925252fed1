"""Leak test (issue 3, item 12): nothing unpublished or restricted reaches a visitor.

Unique random strings (sentinels) are written into every place the public must not see:
staff-only fields (staff notes, source texts, draft citations and claims, notes of events),
researcher-only fields (letter address, full birth date, arresting authority), unpublished and
researcher-only persons, a name-withheld person (with the Latin spellings generated from the
sentinel Cyrillic names), draft and researcher-only deals, a draft release and a draft transfer
leg of published persons. Then every public URL is crawled as an anonymous visitor (pages, search
and suggestions for every sentinel name and its spellings, every person id, deals, statistics,
exports, the API as its OpenAPI schema describes it, the feed, the open-data page, error pages,
every same-site link and every option of every GET form found, within a bound) and no response
body or header may contain a sentinel. The same crawl as a researcher may show the researcher
tier but never the staff one.

The detector is checked too: a sentinel placed in a public field must be found by the crawl.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
import re
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Max
from django.test import Client

from events import services as ev
from events.demo import load_demo
from events.models import (
    Citation,
    Claim,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    DetentionEpisode,
    Release,
    ReleaseDeal,
    Source,
    Transfer,
)
from prisoners.audit import audit_context
from prisoners.models import (
    Affiliation,
    AtRiskFlag,
    Country,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Organisation,
    Person,
    PersonBiography,
    Place,
    Visibility,
)
from prisoners.services import name_variant_add, person_create
from prisoners.visibility import RESEARCHER_GROUP

pytestmark = pytest.mark.django_db

STAFF, RESEARCHER, PUBLIC = "staff", "researcher", "public"
LANGUAGES = ("en", "be", "ru", "uk")
HTMX = "HTMX "  # a crawl key prefix: the same URL as htmx requests it
MAX_URLS = 900  # the bound of one crawl
MAX_VARIANTS_PER_PATH = 40  # query-string variants of one path followed from links and forms
SKIPPED_PREFIXES = ("/admin/", "/static/", "/media/", "/i18n/", "/accounts/logout/")
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/atom", "+json", "+xml")
TEXT_TYPES_EXTRA = ("application/vnd.oai.openapi", "application/javascript", "csv")

_rng = random.SystemRandom()


# --- sentinels ----------------------------------------------------------------------------------


def latin_word(syllables: int = 4) -> str:
    word = "".join(_rng.choice("bdfgklmnprstvz") + _rng.choice("aeiou") for _ in range(syllables))
    return word.capitalize()


def cyrillic_word(language: str, ending: str = "", syllables: int = 3) -> str:
    vowels = "аоуэы" if language == "be" else "аоуиы"
    word = "".join(_rng.choice("бвгдзклмнпрстф") + _rng.choice(vowels) for _ in range(syllables))
    return (word + ending).capitalize()


_MARKS = re.compile(r"[\u0300-\u036f'’ʼ`´]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case, accents, apostrophes and spacing folded (like the name search key, but fast
    enough for whole pages): the same text however a page writes it."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))
    return _SPACES.sub(" ", text)


@dataclass
class Sentinel:
    text: str
    tier: str  # who may see it: STAFF (nobody outside staff), RESEARCHER, or PUBLIC (control)
    where: str  # the model and field it was written to
    key: str = ""

    def __post_init__(self) -> None:
        self.key = fold(self.text)


@dataclass
class World:
    sentinels: list[Sentinel] = field(default_factory=list)
    # Persons whose profile (and any link to it) must not reach a viewer of the given tier.
    hidden_persons: dict[str, list[int]] = field(default_factory=dict)
    public_id: int = 0
    names: dict[int, str] = field(default_factory=dict)  # the shown name of persons checked
    merged_id: int = 0
    # Names to search for: (query, person id) of persons that must not be found by name.
    name_queries: list[tuple[str, int, str]] = field(default_factory=list)
    # What must not appear on one person's profile or API record for a tier below: a pattern
    # (on the folded text), the tier, and what it reveals.
    profile_only: list[tuple[int, str, str, str]] = field(default_factory=list)
    deal_slugs: list[str] = field(default_factory=list)
    # Ids of the seeded records by kind, for the API's detail paths and filters.
    created: dict[str, list[int]] = field(
        default_factory=lambda: {
            k: [] for k in ("deal", "release", "transfer", "episode", "source")
        }
    )

    def add(self, text: str, tier: str, where: str) -> str:
        self.sentinels.append(Sentinel(text, tier, where))
        return text

    def names_of(self, person: Person, tier: str) -> None:
        """Every spelling stored for the person (generated ones too), and each long word."""
        texts = {person.name}
        for variant in NameVariant.objects.filter(person=person):
            texts.update({variant.text, variant.search_key})
        words: set[str] = set()
        for text in texts:
            self.add(text, tier, f"name of person {person.pk}")
            words.update(w for w in re.split(r"\W+", text) if len(w) >= 6)
        for word in words:
            self.add(word, tier, f"word of a name of person {person.pk}")


def person_with_names(world: World, tier: str, **fields: Any) -> Person:
    given_be, given_ru = cyrillic_word("be"), cyrillic_word("ru")
    surname_be = cyrillic_word("be", "ава")
    surname_ru = cyrillic_word("ru", "ова")
    person = person_create(
        name=f"{latin_word(3)} {latin_word()}",
        name_be=f"{given_be} {surname_be}",
        name_ru=f"{given_ru} {surname_ru}",
        gender=Person.Gender.FEMALE,
        **fields,
    )
    world.names_of(person, tier)
    latin_surname = person.name.split()[-1]
    generated = NameVariant.objects.filter(person=person, generated=True).order_by("text")
    variants = list(generated.values_list("text", flat=True))[::3]  # a few schemes' spellings
    queries = {
        person.name,
        latin_surname,
        latin_surname[:-1],  # partial
        latin_surname[0] + latin_surname[2] + latin_surname[1] + latin_surname[3:],  # typo
        f"{given_ru} {surname_ru}",
        surname_ru,
        surname_ru[:-1] + "у",  # inflected: accusative
        surname_ru[:-1] + "ой",  # inflected: genitive
        surname_be,
        *variants,
    }
    if tier == PUBLIC:  # a control: the published person is found by name
        queries = {person.name}
    world.name_queries.extend((query, person.pk, tier) for query in sorted(queries))
    return person


def seed(world: World) -> None:
    deal = load_demo()
    kinds: dict[str, Any] = {
        "deal": ReleaseDeal,
        "release": Release,
        "transfer": Transfer,
        "episode": DetentionEpisode,
        "source": Source,
    }
    last_demo_pk = {
        kind: model.objects.aggregate(m=Max("pk"))["m"] or 0 for kind, model in kinds.items()
    }
    by, ua, lt, pl = (Country.objects.get(code=code) for code in ("BY", "UA", "LT", "PL"))
    article = CriminalArticle.objects.filter(code__short_name__startswith="BY").first()
    assert article is not None, "the criminal code catalogue is missing"
    add = world.add

    # Sources: a public one (its text is staff-only), a draft one, a researcher-only one.
    source = ev.source_get_or_create(
        title=add(f"{latin_word()} Gazette report", PUBLIC, "Source.title (public)"),
        url=f"https://example.org/{latin_word().lower()}",
        text=add(latin_word(5), STAFF, "Source.text"),
        visibility=Visibility.PUBLIC,
    )
    draft_source = ev.source_get_or_create(
        title=add(f"{latin_word()} draft source", STAFF, "Source.title (draft source)"),
        url=f"https://example.org/{latin_word().lower()}",
        visibility=Visibility.DRAFT,
    )
    researcher_source = ev.source_get_or_create(
        title=add(f"{latin_word()} restricted source", RESEARCHER, "Source.title (researcher)"),
        url=f"https://example.org/{latin_word().lower()}",
        visibility=Visibility.RESEARCHER,
    )

    # A published person with restricted fields and restricted records around public ones.
    public = person_with_names(
        world,
        PUBLIC,
        visibility=Visibility.PUBLIC,
        occupation=add(f"{latin_word()} weaver", PUBLIC, "Person.occupation (public)"),
        staff_notes=add(latin_word(5), STAFF, "Person.staff_notes"),
        letter_address=add(f"{latin_word(5)} street 7", RESEARCHER, "Person.letter_address"),
        letters_reach=Person.LettersReach.YES,
        birth_date=dt.date(1971, 4, 23),
        birth_date_precision=DatePrecision.DAY,
    )
    world.public_id = public.pk
    world.names[public.pk] = public.name
    for text in ("1971-04-23", "23 April 1971", "April 23, 1971", "Apr. 23, 1971", "23.04.1971"):
        add(text, RESEARCHER, "Person.birth_date (full date)")
    for text in ("23 красавіка 1971", "23 апреля 1971", "23 квітня 1971"):
        add(text, RESEARCHER, "Person.birth_date (full date, Cyrillic)")
    world.profile_only += [
        (public.pk, r"letters reach them", RESEARCHER, "Person.letters_reach"),
        (public.pk, r"expelled without a passport", RESEARCHER, "Transfer.documents"),
        (public.pk, r"disability", RESEARCHER, "AtRiskFlag.kind"),
        # Where the person is now must not come from the draft leg to Poland.
        (public.pk, r"\bpoland\b|\"pl\"", STAFF, "the country of a draft transfer leg"),
    ]
    episode = ev.episode_open(
        person=public,
        country=by,
        arrested_on=dt.date(2021, 5, 6),
        arresting_authority=add(f"{latin_word()} directorate", RESEARCHER, "arresting_authority"),
        summary=add(f"{latin_word()} case", PUBLIC, "DetentionEpisode.summary (public)"),
    )
    ev.charge_add(
        episode=episode,
        article=article,
        charged_on=dt.date(2021, 5, 7),
        note=add(latin_word(5), STAFF, "Charge.note"),
    )
    ev.court_decision_add(
        episode=episode,
        kind=CourtDecision.Kind.SENTENCE,
        decided_on=dt.date(2021, 9, 1),
        term_years=6,
        note=add(latin_word(5), STAFF, "CourtDecision.note"),
    )
    ev.placement_add(
        episode=episode, kind=CustodyPlacement.Kind.COLONY, started_on=dt.date(2021, 9, 2)
    )
    ev.incommunicado_add(
        episode=episode,
        started_on=dt.date(2022, 1, 1),
        ended_on=dt.date(2022, 6, 1),
        note=add(latin_word(5), STAFF, "IncommunicadoPeriod.note"),
    )
    draft_deal = ev.deal_create(
        title=add(f"{latin_word()} draft deal", STAFF, "ReleaseDeal.title (draft)"),
        slug=add(f"{latin_word().lower()}-draft", STAFF, "ReleaseDeal.slug (draft)"),
        announced_on=dt.date(2025, 11, 2),
        summary=add(latin_word(5), STAFF, "ReleaseDeal.summary (draft)"),
        visibility=Visibility.DRAFT,
    )
    researcher_deal = ev.deal_create(
        title=add(f"{latin_word()} quiet deal", RESEARCHER, "ReleaseDeal.title (researcher)"),
        slug=add(f"{latin_word().lower()}-quiet", RESEARCHER, "ReleaseDeal.slug (researcher)"),
        announced_on=dt.date(2025, 10, 2),
        visibility=Visibility.RESEARCHER,
    )
    world.deal_slugs = [deal.slug, draft_deal.slug, researcher_deal.slug]
    release = ev.release_record(
        episode=episode,
        released_on=dt.date(2025, 11, 2),
        kind=Release.Kind.DEAL,
        deal=draft_deal,
        conditions=add(latin_word(5), STAFF, "Release.conditions"),
    )
    ev.transfer_add(
        person=public,
        release=release,
        from_country=by,
        to_country=lt,
        transferred_on=dt.date(2025, 11, 2),
        mode=Transfer.Mode.DEPORTATION,
        documents=Transfer.Documents.TAKEN,
        note=add(latin_word(5), STAFF, "Transfer.note"),
    )
    hidden_town = Place.objects.create(
        kind=Place.Kind.CITY,
        name=add(f"{latin_word()}ow", STAFF, "Place.name (only on a draft transfer leg)"),
        country=pl,
    )
    ev.transfer_add(
        person=public,
        release=release,
        from_country=lt,
        to_country=pl,
        to_place=hidden_town,
        transferred_on=dt.date(2025, 11, 20),
        note=add(latin_word(5), STAFF, "Transfer.note (draft leg)"),
        visibility=Visibility.DRAFT,
    )
    AtRiskFlag.objects.create(
        person=public,
        kind=AtRiskFlag.Kind.DISABILITY,
        since=dt.date(2022, 2, 2),
        note=add(latin_word(5), STAFF, "AtRiskFlag.note"),
        visibility=Visibility.PUBLIC,
    )
    ExternalIdentifier.objects.create(
        person=public,
        scheme=ExternalIdentifier.Scheme.OTHER,
        value=add(latin_word(5), STAFF, "ExternalIdentifier.value (draft)"),
        visibility=Visibility.DRAFT,
    )
    ExternalIdentifier.objects.create(
        person=public,
        scheme=ExternalIdentifier.Scheme.MEMORIAL,
        value=add(latin_word(5), RESEARCHER, "ExternalIdentifier.value (researcher)"),
        visibility=Visibility.RESEARCHER,
    )
    for language, tier, visibility in (
        ("en", PUBLIC, Visibility.PUBLIC),
        ("be", STAFF, Visibility.DRAFT),
        ("ru", RESEARCHER, Visibility.RESEARCHER),
    ):
        PersonBiography.objects.create(
            person=public,
            language=language,
            text=add(f"{latin_word(5)} biography", tier, f"PersonBiography.text ({visibility})"),
            visibility=visibility,
        )
    name_variant_add(
        person=public,
        text=add(f"{latin_word()} {latin_word()}", STAFF, "NameVariant (draft pseudonym)"),
        language="en",
        kind=NameVariant.Kind.PSEUDONYM,
        visibility=Visibility.DRAFT,
    )
    name_variant_add(
        person=public,
        text=add(f"{latin_word()} {latin_word()}", RESEARCHER, "NameVariant (researcher)"),
        language="en",
        kind=NameVariant.Kind.PSEUDONYM,
        visibility=Visibility.RESEARCHER,
    )
    organisation = Organisation.objects.create(
        name=f"{latin_word()} union", kind=Organisation.Kind.OTHER
    )
    Affiliation.objects.create(
        person=public,
        organisation=organisation,
        role=add(f"{latin_word()} steward", STAFF, "Affiliation.role (draft)"),
        visibility=Visibility.DRAFT,
    )
    ev.cite(obj=episode, source=source, quote=add(latin_word(5), PUBLIC, "Citation.quote (public)"))
    # Public citations of a draft and of a researcher-only source: the source must not show.
    for cited_source in (draft_source, researcher_source):
        ev.cite(obj=episode, source=cited_source, quote=latin_word(5))
    for tier, visibility in ((STAFF, Visibility.DRAFT), (RESEARCHER, Visibility.RESEARCHER)):
        Citation.objects.create(
            source=source,
            content_type=_content_type(public),
            object_id=public.pk,
            field_name=f"occupation-{visibility}",
            quote=add(latin_word(5), tier, f"Citation.quote ({visibility})"),
            visibility=visibility,
        )
    claim = ev.claim_add(obj=public, field_name="occupation", value="weaver", source=source)
    Claim.objects.filter(pk=claim.pk).update(note=add(latin_word(5), STAFF, "Claim.note"))

    # A published person with an open episode and a draft release: the release must not show,
    # nor change what the public sees (its date is a sentinel).
    held = person_create(name=f"{latin_word()} {latin_word()}", visibility=Visibility.PUBLIC)
    held_episode = ev.episode_open(person=held, country=by, arrested_on=dt.date(2021, 2, 3))
    ev.release_record(
        episode=held_episode,
        released_on=dt.date(2024, 7, 19),
        kind=Release.Kind.PARDON,
        visibility=Visibility.DRAFT,
    )
    world.names[held.pk] = held.name
    days = (dt.date(2024, 7, 19) - dt.date(2021, 2, 3)).days
    world.profile_only.append(
        (held.pk, rf"(?<![0-9]){days}(?![0-9])", STAFF, "days in detention cut by a draft release")
    )
    for text in (
        "2024-07-19",
        "19 July 2024",
        "July 19, 2024",
        "Jul. 19, 2024",
        "19.07.2024",
        "19 ліпеня 2024",
        "19 июля 2024",
        "19 липня 2024",
    ):
        add(text, STAFF, "Release.released_on (draft release of a published person)")

    # Unpublished, researcher-only and name-withheld persons.
    draft = person_with_names(world, STAFF, staff_notes="draft person")
    draft_episode = ev.episode_open(
        person=draft,
        country=by,
        arrested_on=dt.date(2022, 3, 4),
        summary=add(f"{latin_word()} case", STAFF, "DetentionEpisode.summary (draft person)"),
    )
    ev.release_record(
        episode=draft_episode, released_on=deal.announced_on, kind=Release.Kind.DEAL, deal=deal
    )
    researcher = person_with_names(world, RESEARCHER, visibility=Visibility.RESEARCHER)
    ev.episode_open(
        person=researcher,
        country=by,
        arrested_on=dt.date(2022, 3, 5),
        summary=add(f"{latin_word()} case", RESEARCHER, "summary (researcher person)"),
    )
    withheld = person_with_names(world, STAFF, visibility=Visibility.PUBLIC, name_withheld=True)
    withheld_episode = ev.episode_open(person=withheld, country=by, arrested_on=dt.date(2020, 9, 9))
    withheld_release = ev.release_record(
        episode=withheld_episode, released_on=deal.announced_on, kind=Release.Kind.DEAL, deal=deal
    )
    ev.transfer_add(
        person=withheld,
        release=withheld_release,
        from_country=by,
        to_country=ua,
        transferred_on=deal.announced_on,
    )
    world.hidden_persons = {PUBLIC: [draft.pk, researcher.pk], RESEARCHER: [draft.pk]}

    # A duplicate merged into the published person: its URL may only redirect.
    merged = person_create(
        name=f"{latin_word()} {latin_word()}", visibility=Visibility.PUBLIC, merged_into=public
    )
    world.merged_id = merged.pk
    for kind, model in kinds.items():
        seeded = model.objects.filter(pk__gt=last_demo_pk[kind]).values_list("pk", flat=True)
        world.created[kind] = list(seeded)


def _content_type(obj: Any) -> Any:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj)


# --- the detector -------------------------------------------------------------------------------

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def readable(raw: str) -> str:
    """The text a body shows in any encoding it may carry: HTML entities, JSON ``\\u`` escapes
    and URL encoding undone, then folded like a name search key."""
    text = html.unescape(raw)
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return fold(unquote_plus(text))


def found_in(text: str, sentinels: list[Sentinel], echo: str = "") -> list[Sentinel]:
    """The sentinels in ``text`` (already ``readable``); ``echo`` (the query a page repeats) is
    removed first."""
    if echo:
        for form in {fold(echo), fold(echo).replace(" ", "+"), fold(echo).replace(" ", "%20")}:
            text = text.replace(form, " ")
    return [s for s in sentinels if s.key and s.key in text]


# --- the crawler --------------------------------------------------------------------------------


class PageLinks(HTMLParser):
    """Same-page links and GET forms: each option of a form's selects, radios and checkboxes
    becomes a URL of its own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.form: dict[str, Any] | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            get = a.get("method", "get").lower() == "get"
            self.form = {"action": a.get("action", ""), "fields": []} if get else None
        elif self.form is not None and tag == "select":
            self.select = a.get("name")
        elif self.form is not None and tag == "option" and self.select and a.get("value"):
            self.form["fields"].append((self.select, a["value"]))
        elif self.form is not None and tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and a.get("value"):
                self.form["fields"].append((a["name"], a["value"]))
        elif tag in ("img", "script") and a.get("src"):
            self.links.append(a["src"])
        elif a.get("hx-get"):
            self.links.append(a["hx-get"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form" and self.form is not None:
            action = self.form["action"] or "?"
            for name, value in self.form["fields"]:
                self.links.append(f"{action.split('?')[0]}?{urlencode({name: value})}")
            self.form = None


@dataclass
class Fetched:
    url: str
    status: int
    text: str  # headers and body, ``readable``
    content_type: str
    raw: str = ""  # the body as sent

    def about(self, pk: int, name: str) -> list[str]:
        """The parts of a list that are about one person, ``readable``: table rows linking to
        the profile, JSON objects with the person's id, CSV lines with the name or link."""
        link = f"/persons/{pk}/"
        if "json" in self.content_type:
            try:
                data = json.loads(self.raw)
            except ValueError:
                return []
            return [readable(json.dumps(item, ensure_ascii=False)) for item in _objects(data, pk)]
        if "csv" in self.content_type:
            return [
                readable(line) for line in self.raw.splitlines() if link in line or name in line
            ]
        rows = re.findall(r"<tr\b(?:(?!</tr>).)*</tr>", self.raw, re.DOTALL)
        return [readable(row) for row in rows if link in row]


def _objects(data: Any, pk: int) -> list[Any]:
    """Every JSON object in ``data`` whose id is ``pk``."""
    found = []
    if isinstance(data, dict):
        if data.get("id") == pk and ("name" in data or "names" in data):  # a person
            found.append(data)
        for value in data.values():
            found += _objects(value, pk)
    elif isinstance(data, list):
        for value in data:
            found += _objects(value, pk)
    return found


@dataclass
class Crawl:
    client: Client
    language: str = "en"
    fetched: dict[str, Fetched] = field(default_factory=dict)
    variants: Counter[str] = field(default_factory=Counter)
    queue: deque[str] = field(default_factory=deque)

    def get(self, url: str, follow_links: bool = True) -> Fetched:
        """GET ``url``; ``HTMX <url>`` asks for the fragment htmx would get."""
        if url in self.fetched:
            return self.fetched[url]
        self.client.cookies["django_language"] = self.language
        htmx = url.startswith(HTMX)
        headers = {"HX-Request": "true"} if htmx else {}
        response = self.client.get(
            url.removeprefix(HTMX), headers=headers, HTTP_ACCEPT_LANGUAGE=self.language
        )
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        else:
            body = response.content
        content_type = response.get("Content-Type", "")
        header_text = "\n".join(f"{k}: {v}" for k, v in response.items())
        textual = any(t in content_type for t in TEXT_TYPES + TEXT_TYPES_EXTRA) or not body
        raw = body.decode("utf-8", "replace") if textual else ""
        page = Fetched(
            url,
            response.status_code,
            readable(header_text + "\n" + raw),
            content_type,
            raw,
        )
        self.fetched[url] = page
        base = url.removeprefix(HTMX)
        if response.status_code in (301, 302, 303, 307, 308):
            self.enqueue(response["Location"], base)
        if follow_links and raw:
            for link in self.links(raw, content_type):
                self.enqueue(link, base)
        return page

    def links(self, raw: str, content_type: str) -> list[str]:
        if "json" in content_type:
            return re.findall(r'"((?:https?://testserver)?/[^"\s]*)"', raw)
        if "html" in content_type or "xml" in content_type:
            parser = PageLinks()
            parser.feed(raw)
            return parser.links
        return []

    def enqueue(self, link: str, base: str) -> None:
        url = urljoin("http://testserver" + base, html.unescape(link))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname != "testserver":
            return
        path = parts.path or "/"
        if path.startswith(SKIPPED_PREFIXES):
            return
        target = path + (f"?{parts.query}" if parts.query else "")
        if target in self.fetched or target in self.queue:
            return
        if parts.query:
            if self.variants[path] >= MAX_VARIANTS_PER_PATH:
                return
            self.variants[path] += 1
        self.queue.append(target)

    def run(self, seeds: list[str]) -> None:
        for url in seeds:
            self.get(url)
        while self.queue and len(self.fetched) < MAX_URLS:
            self.get(self.queue.popleft())


def api_urls(client: Client, ids: dict[str, list[Any]]) -> list[str]:
    """GET URLs of the API from its OpenAPI schema: every list (with its person, deal and name
    parameters set to the seeded records), and every detail path for the seeded ids."""
    response = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT="application/json")
    if response.status_code != 200:
        return []
    try:
        schema = json.loads(response.content)
    except ValueError:
        import yaml

        schema = yaml.safe_load(response.content)
    urls: list[str] = []
    for path, operations in (schema.get("paths") or {}).items():
        if "get" not in operations:
            continue
        params = re.findall(r"{(\w+)}", path)
        if not params:
            urls.append(path)
            names = {p.get("name") for p in operations["get"].get("parameters", [])}
            for name in sorted(names):
                values = ids.get({"q": "names", "search": "names", "name": "names"}.get(name, name))
                urls.extend(f"{path}?{urlencode({name: value})}" for value in values or ())
            continue
        before = path.split("{")[0].lower()
        kinds = ("person", "deal", "release", "transfer", "episode", "source", "event")
        kind = next((k for k in kinds if k in before), "any")
        values = ids["slug"] if "slug" in params[0] else ids.get(kind) or ids["any"]
        for value in values:
            url = path
            for param in params:
                url = url.replace("{" + param + "}", str(value))
            urls.append(url)
    return urls


def seed_urls(world: World, client: Client) -> list[str]:
    person_ids = sorted(Person.objects.values_list("pk", flat=True))
    queries = sorted({q for q, _, _ in world.name_queries})

    def some(model: Any, created: list[int]) -> list[int]:
        """The seeded records, and a few others."""
        return sorted(
            set(created) | set(model.objects.order_by("pk").values_list("pk", flat=True)[:3])
        )

    ids: dict[str, list[Any]] = {
        "person": person_ids,
        "deal": some(ReleaseDeal, world.created["deal"]),
        "slug": world.deal_slugs,
        "release": some(Release, world.created["release"]),
        "transfer": some(Transfer, world.created["transfer"]),
        "episode": some(DetentionEpisode, world.created["episode"]),
        "source": some(Source, world.created["source"]),
        "names": [q for q in queries if " " in q][:24],
        "as_of": ["2024-07-20", "2025-11-21"],
    }
    ids["event"] = sorted(set(ids["episode"]) | set(ids["release"]) | set(ids["transfer"]))
    ids["any"] = sorted(set(person_ids) | set(ids["deal"]) | set(ids["event"]))
    urls = [
        "/",
        "/persons/",
        "/persons/?page=2",
        # several facets: their counts left for later (see the tests), then counted
        "/persons/?gender=female&gender=male&custody_country=BY",
        "/persons/?gender=female&gender=male&custody_country=BY&counts=all",
        f"{HTMX}/persons/?gender=female&gender=male&custody_country=BY&counts=all",
        f"{HTMX}/persons/?gender=female&gender=male&custody_country=BY&age=unknown&counts=all",
        "/persons/?on=2025-12-12&gender=female&gender=male",
        f"{HTMX}/persons/?on=2025-12-12&gender=female&gender=male&counts=all",
        "/persons/export.csv",
        "/persons/export.json",
        "/deals/",
        "/statistics/",
        "/statistics/?as_of=2024-07-20",
        "/statistics/?as_of=2025-11-21",
        "/statistics/?as_of=2025-12-13",
        "/feeds/releases.atom",
        "/open-data/",
        "/api/",
        "/api/schema/",
        # error pages: 404 and bad parameters (400 or a safe fallback)
        "/no-such-page/",
        "/persons/999999999/",
        "/deals/no-such-deal/",
        "/persons/?page=abc",
        "/persons/?page=999999",
        "/persons/?sort=%27%22",
        "/statistics/?as_of=not-a-date",
        "/statistics/?as_of=1850-01-01",
        "/search/?q=" + "x" * 500,
        "/search/suggest/?q=",
        "/persons/export.csv?status=nonsense",
        "/persons/export.json?page=-1",
    ]
    urls += [f"/persons/{pk}/" for pk in person_ids]
    urls += [f"/deals/{slug}/" for slug in world.deal_slugs]
    for query in queries:
        encoded = urlencode({"q": query})
        urls += [f"/search/?{encoded}", f"{HTMX}/search/suggest/?{encoded}"]
    urls.append(f"/search/suggest/?{urlencode({'q': queries[0]})}")  # without htmx: a page
    urls += api_urls(client, ids)
    return urls


def report(crawl: Crawl, sentinels: list[Sentinel], world: World, tier: str) -> list[str]:
    """Every leak found in a crawl, one line each."""
    leaks = []
    hidden = world.hidden_persons.get(tier, [])
    for url, page in crawl.fetched.items():
        echo = dict(parse_qsl(urlsplit(url.removeprefix(HTMX)).query)).get("q", "")
        for sentinel in found_in(page.text, sentinels, echo):
            leaks.append(f"{url} [{page.status}] shows {sentinel.where}: {sentinel.text!r}")
        for pk in hidden:
            if re.search(rf"/persons/{pk}(?![0-9])", page.text) and url != f"/persons/{pk}/":
                leaks.append(f"{url} links to hidden person {pk}")
            if url == f"/persons/{pk}/" and page.status != 404:
                leaks.append(f"{url}: hidden person answered {page.status}, not 404")
        if url == f"/persons/{world.merged_id}/" and page.status not in (301, 302, 404):
            leaks.append(f"{url}: a merged record answered {page.status}, not a redirect")
        if echo:
            # Searching a withheld or hidden name must not lead to that person.
            for query, pk, name_tier in world.name_queries:
                if (
                    query == echo
                    and _outranks(name_tier, tier)
                    and re.search(rf"/persons/{pk}(?![0-9])", page.text)
                ):
                    leaks.append(f"{url} finds person {pk} by a name {tier}s may not see")
    for pk, pattern, needed, what in world.profile_only:
        if not _outranks(needed, tier):
            continue
        for url in (f"/persons/{pk}/", f"/api/persons/{pk}/"):
            profile = crawl.fetched.get(url)
            if profile and re.search(pattern, profile.text):
                leaks.append(f"{url} shows {what} ({needed}-only): /{pattern}/")
        # Lists: the person's row in the listing, the exports and the API.
        for url, page in crawl.fetched.items():
            if url.startswith(f"/persons/{pk}/") or url.startswith(f"/api/persons/{pk}/"):
                continue
            if any(re.search(pattern, part) for part in page.about(pk, world.names[pk])):
                leaks.append(f"{url} shows {what} in the row of person {pk}: /{pattern}/")
    return leaks


def _outranks(needed: str, viewer: str) -> bool:
    order = {PUBLIC: 0, RESEARCHER: 1, STAFF: 2}
    return order[needed] > order[viewer]


def localized(url: str) -> bool:
    """Seed URLs worth fetching again in the other languages: the pages that show names (in
    the variant of the language) and labels; the API is fetched once per person and list."""
    path = url.removeprefix(HTMX).split("?")[0]
    if path.startswith("/search/"):
        query = dict(parse_qsl(urlsplit(url.removeprefix(HTMX)).query)).get("q", "")
        return any("\u0400" <= ch <= "\u04ff" for ch in query) and " " in query
    if path.startswith("/api/"):
        return path.startswith("/api/persons/") or path.count("/") == 3
    return True


def crawl_all(world: World, client: Client) -> tuple[Crawl, list[Crawl]]:
    """The bounded crawl in English; the pages that change with the language again in the
    other languages."""
    main = Crawl(client)
    seeds = seed_urls(world, client)
    main.run(seeds)
    others = []
    for language in LANGUAGES[1:]:
        crawl = Crawl(client, language=language)
        for url in filter(localized, seeds):
            crawl.get(url, follow_links=False)
        others.append(crawl)
    return main, others


def summary(title: str, leaks: list[str], shown: int = 60) -> str:
    """What leaked where, counted by kind, then the first leaks in full."""
    kinds = Counter(re.sub(r"^(\(\w\w\) )?\S+ (\[\d+\] )?", "", leak) for leak in leaks)
    lines = [f"{title}: {len(set(leaks))}", "by kind:"]
    lines += [f"  {n} x {kind}" for kind, n in kinds.most_common()]
    lines += ["first ones:", *sorted(set(leaks))[:shown]]
    return "\n".join(lines)


# --- tests --------------------------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    world = World()
    with audit_context(reason="test_leaks: sentinels"):
        seed(world)
    return world


@pytest.fixture
def researcher_client() -> Client:
    user = get_user_model().objects.create_user(username="reader", password="not-used-here-1")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_detector_sees_every_encoding() -> None:
    """The detector finds a sentinel however a body encodes it, and ignores an echoed query."""
    name = Sentinel("Зелдринова Марына", STAFF, "test")
    latin = Sentinel("Kalieśnikava", STAFF, "test")
    bodies = [
        "<p>Зелдринова Марына</p>",
        json.dumps({"name": "Зелдринова  марына"}),  # \\u escapes
        "<a href='/search/?q=%D0%97%D0%B5%D0%BB%D0%B4%D1%80%D0%B8%D0%BD%D0%BE%D0%B2%D0%B0+"
        "%D0%9C%D0%B0%D1%80%D1%8B%D0%BD%D0%B0'>",
        "<p>&#1047;&#1077;&#1083;&#1076;&#1088;&#1080;&#1085;&#1086;&#1074;&#1072; Марына</p>",
        "<p>KALIESNIKAVA</p>",
    ]
    for body in bodies:
        assert found_in(readable(body), [name, latin]), body
    assert not found_in(readable("<input value='Зелдринова Марына'>"), [name], echo=name.text)


def test_no_leak_to_anonymous_visitors(world: World, settings: Any) -> None:
    settings.LISTING_INLINE_COUNT_LIMIT = 2  # a page of several facets leaves counts for later
    client = Client(raise_request_exception=False)
    main, others = crawl_all(world, client)
    not_public = [s for s in world.sentinels if s.tier != PUBLIC]
    leaks = report(main, not_public, world, PUBLIC)
    for crawl in others:
        leaks += [f"({crawl.language}) {line}" for line in report(crawl, not_public, world, PUBLIC)]
    statuses = Counter(page.status for page in main.fetched.values())
    families = Counter(
        "/".join(url.removeprefix(HTMX).split("?")[0].split("/")[:3]) for url in main.fetched
    )
    print(f"\nanonymous crawl: {len(main.fetched)} URLs (+ {len(others)} languages), {statuses}")
    print(f"by path: {dict(families.most_common())}")
    assert not leaks, summary("leaks to anonymous visitors", leaks)

    # The crawl reached the data: what is public was seen.
    controls = [s for s in world.sentinels if s.tier == PUBLIC and s.where.endswith("(public)")]
    seen = {s.text for page in main.fetched.values() for s in found_in(page.text, controls)}
    assert seen, "the crawl found no public sentinel: the detector or the pages are broken"
    public_name = Person.objects.get(pk=world.public_id).name
    assert any(fold(public_name) in page.text for page in main.fetched.values()), (
        "the published person's name was never seen"
    )
    found = main.fetched[f"/search/?{urlencode({'q': public_name})}"]
    assert f"/persons/{world.public_id}/" in found.text, "search does not find a published name"
    server_errors = sorted(url for url, page in main.fetched.items() if page.status >= 500)
    assert not server_errors, "server errors:\n" + "\n".join(server_errors)


def test_no_staff_field_reaches_researchers(
    world: World, researcher_client: Client, settings: Any
) -> None:
    settings.LISTING_INLINE_COUNT_LIMIT = 2
    main, others = crawl_all(world, researcher_client)
    assert "reader" in main.fetched["/"].text, "the researcher is not signed in"
    staff_only = [s for s in world.sentinels if s.tier == STAFF]
    leaks = report(main, staff_only, world, RESEARCHER)
    for crawl in others:
        leaks += [f"({crawl.language}) {x}" for x in report(crawl, staff_only, world, RESEARCHER)]
    shown = sorted(
        {
            s.where
            for page in main.fetched.values()
            for s in found_in(page.text, [s for s in world.sentinels if s.tier == RESEARCHER])
        }
    )
    print(f"\nresearcher crawl: {len(main.fetched)} URLs; researcher-tier fields seen: {shown}")
    assert not leaks, summary("staff-only data shown to researchers", leaks)
