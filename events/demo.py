"""The demo data: the news report of 14 December 2025 on the release of 123 prisoners.

Everything here is what that report says, and every fact cites it with the sentence it comes
from. Where the report leaves something out (an arrest date, a sentence), the record says so
(unknown date, year only) rather than filling it in. Loading twice writes nothing the second
time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models, transaction

from prisoners.audit import audit_context
from prisoners.models import (
    Affiliation,
    Country,
    DatePrecision,
    NameVariant,
    Organisation,
    Person,
    PersonBiography,
    Place,
    Visibility,
)
from prisoners.services import name_variant_add, person_create, person_set_names

from .models import (
    CourtDecision,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Reliability,
    Source,
    Transfer,
)
from .services import (
    cite,
    deal_destination_set,
    deal_party_add,
    record_upsert,
)

REASON = "load_demo: the report of 14 Dec 2025 on the release of 123 prisoners"
PUBLIC = Visibility.PUBLIC
DEAL_DAY = dt.date(2025, 12, 13)  # "released on Saturday"; the report is dated Sunday 14 Dec.
REPORT_DAY = dt.date(2025, 12, 14)
DEAL_SLUG = "belarus-2025-12-13-potash"

ARTICLE = {
    "title": "Belarus Releases 123 Prisoners Amid US Sanctions Relief",
    "published_on": REPORT_DAY,
    "kind": Source.Kind.ARTICLE,
    "language": "en",
}

Q_RELEASED_123 = (
    "Belarus has released 123 prisoners, including prominent opposition figure Maria "
    "Kolesnikova, following an agreement with the United States to ease sanctions against "
    "the country."
)
Q_BIALIATSKI = (
    "Nobel Peace Prize laureate Ales Bialiatski is also among those freed after discussions in "
    "Minsk with John Coale, the U.S. President Donald Trump’s special envoy for Belarus."
)
Q_POTASH = (
    "The U.S. has reportedly agreed to lift sanctions on potash, a key component in fertilizer "
    "and a significant export for Belarus, a close ally of Russia."
)
Q_KOLESNIKOVA_SINCE = "Ms. Kolesnikova had been imprisoned since 2020, often in isolation."
Q_TO_UKRAINE = (
    "According to Kyiv’s Coordination Headquarters for the Treatment of Prisoners of War, Ms. "
    "Kolesnikova, along with 113 other prisoners, were transferred to Ukraine."
)
Q_ONWARD = (
    "In a statement released on Telegram, Ukraine indicated that after receiving necessary "
    "medical attention, the prisoners would be transported to Poland and Lithuania."
)
Q_TO_VILNIUS = (
    "A small number of individuals, including Mr. Bialiatski, were transported to the "
    "Lithuanian capital."
)
Q_BABARYKO = (
    "Viktor Babaryko, a Belarusian opposition politician detained five years ago, was also "
    "released on Saturday, along with Marina Zolotova, editor-in-chief of the independent news "
    "site Tut.by."
)
Q_FENNER = (
    "Julia Fenner was given a long jail term after being detained while entering Belarus in "
    "March 2024."
)
Q_TIKHANOVSKY_RELEASE = (
    "After his unexpected release, Sergei Tikhanovsky broke down describing his five years in "
    "solitary confinement"
)
Q_TIKHANOVSKY_DETAINED = (
    "Sergei Tikhanovsky had planned to challenge Alexander Lukashenko in the 2020 election, but "
    "was detained before the vote."
)
Q_COALE = (
    "Mr. Coale was quoted by Belarusian state media confirming the immediate lifting of potash "
    "sanctions."
)


class Demo:
    def __init__(self) -> None:
        self.countries = {
            c.code: c for c in Country.objects.filter(code__in=["BY", "UA", "LT", "PL", "US"])
        }
        self.source, _ = record_upsert(
            Source,
            {"title": ARTICLE["title"], "published_on": ARTICLE["published_on"]},
            {"kind": ARTICLE["kind"], "language": ARTICLE["language"], "visibility": PUBLIC},
        )

    def cite(self, obj: models.Model, quote: str, field_name: str = "") -> None:
        cite(
            obj=obj,
            source=self.source,
            quote=quote,
            reliability=Reliability.REPORTED,
            field_name=field_name,
        )

    def person(
        self,
        *,
        name: str,
        common: str,
        name_be: str = "",
        name_ru: str = "",
        gender: str,
        occupation: str = "",
        quote: str,
    ) -> Person:
        """The demo person, found by their primary name, created or brought up to date."""
        key_language, key_text = ("be", name_be) if name_be else ("en", name)
        variant = NameVariant.objects.filter(
            language=key_language, text=key_text, kind__in=["primary", "common"]
        ).first()
        values: dict[str, Any] = {
            "name": name,
            "gender": gender,
            "occupation": occupation,
            "visibility": PUBLIC,
        }
        if variant is None:
            person = person_create(name_be=name_be, name_ru=name_ru, **values)
        else:
            person, _ = record_upsert(Person, {"pk": variant.person_id}, values)
            person_set_names(person=person, name=name, name_be=name_be, name_ru=name_ru)
        spelling = name_variant_add(
            person=person, text=common, language="en", kind=NameVariant.Kind.COMMON
        )
        self.cite(spelling, quote)
        self.cite(person, quote, field_name="name")
        return person

    def episode(self, person: Person, quote: str, **values: Any) -> DetentionEpisode:
        values.setdefault("visibility", PUBLIC)
        values.setdefault("country", self.countries["BY"])
        if values.get("arrested_on") is None:
            values["arrested_on_precision"] = DatePrecision.UNKNOWN
        episode, _ = record_upsert(DetentionEpisode, {"person": person}, values)
        self.cite(episode, quote)
        return episode

    def release(self, episode: DetentionEpisode, quote: str, **values: Any) -> Release:
        values.setdefault("visibility", PUBLIC)
        release, _ = record_upsert(Release, {"episode": episode}, values)
        self.cite(release, quote)
        return release

    def leg(self, release: Release, quote: str, sequence: int, **values: Any) -> Transfer:
        values.setdefault("visibility", PUBLIC)
        values.setdefault("from_country", self.countries["BY"])
        leg, _ = record_upsert(
            Transfer,
            {"person_id": release.episode.person_id, "release": release, "sequence": sequence},
            values,
        )
        self.cite(leg, quote)
        return leg


@transaction.atomic
def load_demo(*, user: Any = None) -> ReleaseDeal:
    with audit_context(reason=REASON, user=user):
        demo = Demo()
        return _load(demo)


def _load(demo: Demo) -> ReleaseDeal:
    c = demo.countries
    vilnius = Place.objects.get(kind=Place.Kind.CITY, name="Vilnius", country=c["LT"])

    # The deal.
    deal, _ = record_upsert(
        ReleaseDeal,
        {"slug": DEAL_SLUG},
        {
            "title": "Release of 123 prisoners for the lifting of US sanctions on potash",
            "announced_on": DEAL_DAY,
            "completed_on": DEAL_DAY,
            "summary": (
                "After talks in Minsk with the US special envoy John Coale, Belarus released "
                "123 prisoners. 114 were handed over to Ukraine, to be taken on to Poland and "
                "Lithuania; a small number, Ales Bialiatski among them, were taken straight to "
                "Vilnius."
            ),
            "consideration": "The United States lifts its sanctions on Belarusian potash.",
            "reported_total": 123,
            "visibility": PUBLIC,
        },
    )
    demo.cite(deal, Q_RELEASED_123, field_name="reported_total")
    demo.cite(deal, f"{Q_POTASH} … {Q_COALE}", field_name="consideration")
    coale = deal_party_add(
        deal=deal,
        role="mediator",
        name="John Coale",
        description="Special envoy of the US President for Belarus",
        country=c["US"],
    )
    demo.cite(coale, Q_BIALIATSKI)
    for name, country in (("United States", c["US"]), ("Belarus", c["BY"])):
        party = deal_party_add(deal=deal, role="party", name=name, description="", country=country)
        demo.cite(party, Q_RELEASED_123)
    ukraine_hq, _ = record_upsert(
        Organisation,
        {"name": "Coordination Headquarters for the Treatment of Prisoners of War"},
        {"kind": Organisation.Kind.GOVERNMENT, "country": c["UA"]},
    )
    receiving = deal_party_add(
        deal=deal,
        role="receiving",
        name="Ukraine",
        description="Received the prisoners handed over by Belarus",
        country=c["UA"],
        organisation=ukraine_hq,
    )
    demo.cite(receiving, Q_TO_UKRAINE)
    to_ukraine = deal_destination_set(
        deal=deal,
        country=c["UA"],
        reported_count=114,
        onward=[c["PL"], c["LT"]],
        note="Handed over to Ukraine; after medical attention to be taken to Poland and Lithuania.",
    )
    demo.cite(to_ukraine, Q_TO_UKRAINE, field_name="reported_count")
    demo.cite(to_ukraine, Q_ONWARD, field_name="onward_countries")
    to_lithuania = deal_destination_set(
        deal=deal,
        country=c["LT"],
        reported_count=9,
        note="'A small number' taken straight to Vilnius: the 9 of the 123 not handed to Ukraine.",
    )
    demo.cite(to_lithuania, Q_TO_VILNIUS)

    # Maryia Kalesnikava.
    kalesnikava = demo.person(
        name="Maryia Kalesnikava",
        common="Maria Kolesnikova",
        name_be="Марыя Калеснікава",
        name_ru="Мария Колесникова",
        gender=Person.Gender.FEMALE,
        occupation="Opposition figure",
        quote=Q_RELEASED_123,
    )
    episode = demo.episode(
        kalesnikava,
        Q_KOLESNIKOVA_SINCE,
        arrested_on=dt.date(2020, 1, 1),
        arrested_on_precision=DatePrecision.YEAR,
        summary="Imprisoned since 2020, often in isolation.",
    )
    release = demo.release(
        episode, Q_RELEASED_123, released_on=DEAL_DAY, kind=Release.Kind.DEAL, deal=deal
    )
    demo.leg(
        release,
        Q_TO_UKRAINE,
        1,
        to_country=c["UA"],
        transferred_on=DEAL_DAY,
        mode=Transfer.Mode.HANDOVER,
    )

    # Ales Bialiatski.
    bialiatski = demo.person(
        name="Ales Bialiatski",
        common="Ales Bialiatski",
        name_be="Алесь Бяляцкі",
        name_ru="Алесь Беляцкий",
        gender=Person.Gender.MALE,
        occupation="Nobel Peace Prize laureate",
        quote=Q_BIALIATSKI,
    )
    record_upsert(
        PersonBiography,
        {"person": bialiatski, "language": "en"},
        {"text": "Nobel Peace Prize laureate.", "visibility": PUBLIC},
    )
    episode = demo.episode(bialiatski, Q_BIALIATSKI, arrested_on=None)
    release = demo.release(
        episode, Q_BIALIATSKI, released_on=DEAL_DAY, kind=Release.Kind.DEAL, deal=deal
    )
    demo.leg(
        release,
        Q_TO_VILNIUS,
        1,
        to_country=c["LT"],
        to_place=vilnius,
        transferred_on=DEAL_DAY,
        mode=Transfer.Mode.UNKNOWN,
    )

    # Viktar Babaryka.
    babaryka = demo.person(
        name="Viktar Babaryka",
        common="Viktor Babaryko",
        name_be="Віктар Бабарыка",
        name_ru="Виктор Бабарико",
        gender=Person.Gender.MALE,
        occupation="Opposition politician",
        quote=Q_BABARYKO,
    )
    episode = demo.episode(
        babaryka,
        Q_BABARYKO,
        arrested_on=dt.date(2020, 1, 1),
        arrested_on_precision=DatePrecision.YEAR,
    )
    demo.release(episode, Q_BABARYKO, released_on=DEAL_DAY, kind=Release.Kind.DEAL, deal=deal)

    # Maryna Zolatava.
    zolatava = demo.person(
        name="Maryna Zolatava",
        common="Marina Zolotova",
        name_be="Марына Золатава",
        name_ru="Марина Золотова",
        gender=Person.Gender.FEMALE,
        occupation="Editor-in-chief of Tut.by",
        quote=Q_BABARYKO,
    )
    tut_by, _ = record_upsert(
        Organisation, {"name": "Tut.by"}, {"kind": Organisation.Kind.MEDIA, "country": c["BY"]}
    )
    affiliation, _ = record_upsert(
        Affiliation,
        {"person": zolatava, "organisation": tut_by, "role": "Editor-in-chief"},
        {"visibility": PUBLIC},
    )
    demo.cite(affiliation, Q_BABARYKO)
    episode = demo.episode(zolatava, Q_BABARYKO, arrested_on=None)
    demo.release(episode, Q_BABARYKO, released_on=DEAL_DAY, kind=Release.Kind.DEAL, deal=deal)

    # Siarhei Tsikhanouski: released by the date of the report; the report gives no date.
    tsikhanouski = demo.person(
        name="Siarhei Tsikhanouski",
        common="Sergei Tikhanovsky",
        name_be="Сяргей Ціханоўскі",
        name_ru="Сергей Тихановский",
        gender=Person.Gender.MALE,
        occupation="Would-be candidate in the 2020 presidential election",
        quote=Q_TIKHANOVSKY_DETAINED,
    )
    episode = demo.episode(
        tsikhanouski,
        Q_TIKHANOVSKY_DETAINED,
        arrested_on=dt.date(2020, 8, 9),
        arrested_on_precision=DatePrecision.ON_OR_BEFORE,
        summary="Detained before the presidential election of 9 August 2020.",
    )
    solitary, _ = record_upsert(
        IncommunicadoPeriod,
        {"episode": episode, "kind": IncommunicadoPeriod.Kind.SOLITARY},
        {
            "started_on": None,
            "started_on_precision": DatePrecision.UNKNOWN,
            "ended_on": None,
            "note": "Five years in solitary confinement, as he described after his release.",
            "visibility": PUBLIC,
        },
    )
    demo.cite(solitary, Q_TIKHANOVSKY_RELEASE)
    demo.release(
        episode,
        Q_TIKHANOVSKY_RELEASE,
        released_on=REPORT_DAY,
        released_on_precision=DatePrecision.ON_OR_BEFORE,
        kind=Release.Kind.OTHER,
    )

    # Julia Fenner: sentenced; the report does not say she was released.
    fenner = demo.person(
        name="Julia Fenner",
        common="Julia Fenner",
        gender=Person.Gender.FEMALE,
        quote=Q_FENNER,
    )
    episode = demo.episode(
        fenner,
        Q_FENNER,
        arrested_on=dt.date(2024, 3, 1),
        arrested_on_precision=DatePrecision.MONTH,
        summary="Detained while entering Belarus.",
    )
    sentence, _ = record_upsert(
        CourtDecision,
        {"episode": episode, "kind": CourtDecision.Kind.SENTENCE},
        {
            "decided_on": None,
            "decided_on_precision": DatePrecision.UNKNOWN,
            "term_description": "A long jail term",
            "visibility": PUBLIC,
        },
    )
    demo.cite(sentence, Q_FENNER)
    return deal
