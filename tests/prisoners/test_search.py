"""Search by any spelling (/search/) and suggestions while typing (/search/suggest/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import connection
from django.urls import reverse

from prisoners import search
from prisoners.models import NameVariant, Person, Visibility
from prisoners.search import (
    EMPTY_QUERY,
    NO_LETTERS,
    TOO_LONG,
    WORD_INDEXES,
    Level,
    belarusian_forms,
    edits1,
    parse_query,
    person_search,
    russian_forms,
    word_forms,
)
from prisoners.services import person_create
from prisoners.visibility import RESEARCHER_GROUP, Tier

pytestmark = pytest.mark.django_db

SEARCH = reverse("prisoners:search")
SUGGEST = reverse("prisoners:suggest")
HTMX = {"HTTP_HX_REQUEST": "true"}


def names(query: str, viewer=None, **kwargs) -> list[str]:
    page = person_search(query=query, viewer=viewer or AnonymousUser(), **kwargs)
    return [hit.person.name for hit in page.hits]


def first(query: str, viewer=None) -> search.SearchHit:
    page = person_search(query=query, viewer=viewer or AnonymousUser())
    assert page.hits, f"nothing found for {query!r}"
    return page.hits[0]


def result_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/persons/(\d+)/"', html)]


# --- Word forms (no database) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("калеснікавай", {"калеснікава"}),
        ("калеснікаву", {"калеснікава", "калеснікаў"}),
        ("калеснікавым", {"калеснікаў"}),
        ("бяляцкага", {"бяляцкі"}),
        ("бяляцкаму", {"бяляцкі"}),
        ("ціханоўскага", {"ціханоўскі"}),
        ("ціханоўскую", {"ціханоўская"}),
        ("ціханоўскай", {"ціханоўская"}),
        ("марыі", {"марыя"}),
        ("марыю", {"марыя"}),
        ("марыяй", {"марыя"}),
        ("алеся", {"алесь"}),
        ("алесем", {"алесь"}),
        ("сяргея", {"сяргей"}),
        ("віктара", {"віктар"}),
        ("бабарыкі", {"бабарыка"}),
        ("бабарыкам", {"бабарыка"}),
        ("статкевічу", {"статкевіч"}),
        ("ільіным", {"ільін", "ільіна"}),
        ("таццяне", {"таццяна"}),
        ("вользе", {"вольга"}),
    ],
)
def test_belarusian_case_forms_fold_to_the_nominative(word, expected):
    assert expected <= belarusian_forms(word)
    assert word not in belarusian_forms(word)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("колесникову", {"колесников", "колесникова"}),
        ("колесниковой", {"колесникова"}),
        ("беляцкого", {"беляцкий"}),
        ("тихановского", {"тихановский"}),
        ("тихановскую", {"тихановская"}),
        ("марии", {"мария"}),
        ("сергея", {"сергей"}),
        ("бабарико", {"бабарико"}),
    ],
)
def test_russian_case_forms_fold_with_pymorphy(word, expected):
    assert expected <= russian_forms(word)


def test_word_forms_pick_the_language_by_its_letters():
    assert "калеснікава" in word_forms("калеснікавай")  # і: Belarusian rules only
    assert "колесникова" in word_forms("колесниковой")  # и: Russian only
    assert word_forms("kalesnikava") == ()  # Latin: nothing to fold
    assert "калесникава" not in word_forms("колесникову")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", EMPTY_QUERY),
        ("   ", EMPTY_QUERY),
        (None, EMPTY_QUERY),
        ("%", NO_LETTERS),
        ("_", NO_LETTERS),
        ("%_%", NO_LETTERS),
        ("!!! ... ---", NO_LETTERS),
        ("K", NO_LETTERS),
    ],
)
def test_parse_query_explains_what_cannot_be_searched(raw, error):
    assert parse_query(raw).error == str(error)


def test_edits_are_one_slip_away():
    edits = edits1("kalesnikva")
    assert "kalesnikava" in edits  # a letter left out
    assert "kalesnkiva" in edits  # two swapped
    assert "kalesnikwa" in edits  # one changed
    assert "kalesniva" in edits  # one too many
    assert "kalesnikva" not in edits
    assert "бяляцкі" in edits1("бялцкі")  # in the word's own alphabet
    assert all(ch not in "abcdefghijklmnopqrstuvwxyz" for e in edits1("бялцкі") for ch in e)


def test_parse_query_folds_and_limits():
    assert parse_query("  Maryia   KALESNIKAVA ").words == ("maryia", "kalesnikava")
    assert parse_query("Ales'  Бяляцкі").key == "ales бяляцкі"
    assert parse_query("x" * 201).error == TOO_LONG % {"max": 200}
    assert parse_query("x" * 200).ok
    # LIKE and regular-expression characters never reach SQL as such.
    assert parse_query("Kal%es_(n)*").words == ("kal", "es", "n")


# --- Both ways in ------------------------------------------------------------------------------


@pytest.fixture(params=["trigram", "btree"])
def search_path(request, monkeypatch):
    """Run the test through the word btree indexes (the schema as migrated) and through the
    trigram index alone (the word indexes dropped here, in the test's transaction)."""
    if request.param == "trigram":
        with connection.schema_editor() as editor:
            for index in NameVariant._meta.indexes:
                if index.name in WORD_INDEXES:
                    editor.remove_index(NameVariant, index)
        monkeypatch.setattr(search, "word_indexes_declared", lambda: False)
    else:
        assert search.word_indexes_declared()  # the model as migrated today
    return request.param


# --- Finding the demo persons ----------------------------------------------------------------

FOUND_FIRST = {
    "Maryia Kalesnikava": [
        "Kolesnikova",
        "Kalesnikava",
        "Колесникова",
        "Колесникову",
        "Калеснікава",
        "Калеснікавай",
        "Kalesnikva",
        "Kales",
        "Maryia K",
        "Maria Kolesnikova",
        "kalesnikava maryia",
        "Марии Колесниковой",
        "КАЛЕСНІКАВА",
        "Kolesnikov",
    ],
    "Ales Bialiatski": [
        "Bialiatski",
        "Beliatsky",
        "Bialiatsky",
        "Бяляцкага",
        "Беляцкого",
        "Ales Byalyatski",
    ],
    "Siarhei Tsikhanouski": [
        "Tsikhanouski",
        "Тихановского",
        "Tikhanovsky",
        "Ціханоўскага",
        "Sergei T",
        "Сяргея Ціханоўскага",
    ],
}

LEVELS = {
    "Maria Kolesnikova": Level.EXACT,
    "Kolesnikova Maria": Level.WORDS,
    "Kolesnikova": Level.WORDS,
    "Kales": Level.PREFIX,
    "Maryia K": Level.PREFIX,
    "Колесникову": Level.INFLECTED,
    "Калеснікавай": Level.INFLECTED,
    "Kalesnikva": Level.SIMILAR,
}


def test_demo_persons_are_found_first_by_any_spelling(search_path, demo):
    wrong = {}
    for expected, queries in FOUND_FIRST.items():
        for query in queries:
            found = names(query)
            if found[:1] != [expected]:
                wrong[query] = found[:3]
    assert wrong == {}


def test_the_level_of_a_match_is_reported(search_path, demo):
    wrong = {}
    for query, level in LEVELS.items():
        hit = first(query)
        if hit.level != level or not hit.matched:
            wrong[query] = (hit.level, hit.matched)
    assert wrong == {}


def test_ranking_puts_a_real_match_above_similar_names(search_path, demo, audited):
    kavalenka = person_create(
        name="Maryna Kavalenka",
        name_be="Марына Каваленка",
        name_ru="Марина Коваленко",
        visibility=Visibility.PUBLIC,
    )
    kalesnik = person_create(
        name="Ihar Kalesnik", name_be="Ігар Калеснік", visibility=Visibility.PUBLIC
    )
    found = names("Kolesnikova")
    assert found[0] == "Maryia Kalesnikava"
    assert kavalenka.name not in found
    assert first("Kovalenko").person == kavalenka
    assert first("Коваленко").person == kavalenka
    # A whole word ranks above the start of a word; both are shown.
    hits = person_search(query="Kalesnik", viewer=None).hits
    assert [h.person.name for h in hits] == [kalesnik.name, "Maryia Kalesnikava"]
    assert [h.level for h in hits] == [Level.WORDS, Level.PREFIX]


def test_a_spelling_that_matches_hides_the_guesses(search_path, demo):
    """Typo and inflection guesses are read only when nothing matches as typed."""
    levels = {h.level for h in person_search(query="Maryia", viewer=None).hits}
    assert levels == {Level.WORDS}
    assert names("Maryia") == ["Maryia Kalesnikava"]


# --- Visibility ------------------------------------------------------------------------------


@pytest.fixture
def hidden(demo, audited):
    """A draft person, a withheld name, a researcher-only person and a merged duplicate."""
    draft = person_create(
        name="Zmitser Drafted", name_be="Зміцер Чарнавік", visibility=Visibility.DRAFT
    )
    withheld = person_create(
        name="Hanna Withheld",
        name_be="Ганна Схаваная",
        name_ru="Анна Скрытая",
        visibility=Visibility.PUBLIC,
        name_withheld=True,
    )
    researcher = person_create(
        name="Pavel Researchonly", name_be="Павел Даследчы", visibility=Visibility.RESEARCHER
    )
    kept = Person.objects.get(name="Viktar Babaryka")
    merged = person_create(
        name="Viktar Dublikat", name_be="Віктар Дублікат", visibility=Visibility.PUBLIC
    )
    Person.objects.filter(pk=merged.pk).update(merged_into=kept)
    return {"draft": draft, "withheld": withheld, "researcher": researcher, "merged": merged}


HIDDEN_QUERIES = {
    "draft": ["Zmitser Drafted", "Зміцер Чарнавік", "Charnavik", "Чарнавіка"],
    "withheld": ["Hanna Withheld", "Ганна Схаваная", "Анна Скрытая", "Skrytaia", "Скрытую"],
    "researcher": ["Pavel Researchonly", "Павел Даследчы", "Dasledchy"],
    "merged": ["Viktar Dublikat", "Віктар Дублікат", "Dublikat"],
}


def test_public_never_finds_hidden_persons(search_path, client, hidden):
    """Typed exactly or in any other form, in the results, suggestions or the no-JS page."""
    leaks = []
    for who, queries in HIDDEN_QUERIES.items():
        person = hidden[who]
        spellings = set(person.name_variants.values_list("text", flat=True)) | {person.name}
        for query in queries:
            if person.pk in [h.person.pk for h in person_search(query=query, viewer=None).hits]:
                leaks.append((who, query, "selector"))
            for url, extra in ((SEARCH, {}), (SUGGEST, HTMX), (SUGGEST, {})):
                response = client.get(url, {"q": query}, **extra)
                assert response.status_code == 200
                body = response.content.decode()
                shown = body.replace(query, "")  # the page repeats what was typed, nothing more
                if person.pk in result_ids(body) or [s for s in spellings if s in shown]:
                    leaks.append((who, query, url, bool(extra)))
    assert leaks == []


def test_researchers_see_researcher_persons_but_never_withheld_names(client, hidden):
    user = User.objects.create_user("reader", password="x")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    client.force_login(user)
    body = client.get(SUGGEST, {"q": "Dasledchy"}, **HTMX).content.decode()
    assert hidden["researcher"].pk in result_ids(body)
    for query in HIDDEN_QUERIES["withheld"] + HIDDEN_QUERIES["draft"]:
        body = client.get(SEARCH, {"q": query}).content.decode()
        assert hidden["withheld"].pk not in result_ids(body)
        assert hidden["draft"].pk not in result_ids(body)


def test_staff_find_everyone(hidden):
    for who, queries in HIDDEN_QUERIES.items():
        hits = person_search(query=queries[0], viewer=Tier.STAFF).hits
        assert hidden[who].pk in [h.person.pk for h in hits], who


# --- Pages -----------------------------------------------------------------------------------


def test_search_page_shows_name_spelling_status_and_link(client, demo):
    response = client.get(SEARCH, {"q": "Колесникову"})
    assert response.status_code == 200
    body = response.content.decode()
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    assert result_ids(body)[0] == kalesnikava.pk
    assert "Maryia Kalesnikava" in body
    assert '<q lang="ru">Мария Колесникова</q>' in body
    assert "Released and expelled abroad" in body  # her status now (handed over to Ukraine)
    assert reverse("prisoners:detail", args=[kalesnikava.pk]) in body


def test_search_page_shows_the_name_in_the_interface_language(client, demo):
    body = client.get(SEARCH, {"q": "Kalesnikava"}, HTTP_ACCEPT_LANGUAGE="be").content.decode()
    assert "Марыя Калеснікава" in body


BAD_INPUT = {
    "": EMPTY_QUERY,
    "   ": EMPTY_QUERY,
    "x" * 500: TOO_LONG % {"max": 200},
    "%": NO_LETTERS,
    "_": NO_LETTERS,
    "%%__%%": NO_LETTERS,
    "...": NO_LETTERS,
    "K": NO_LETTERS,
}

ODD_INPUT = [
    "'; DROP TABLE prisoners_person; --",
    "Kales%",
    "Kal_snikava",
    "\\",
    "(^| )k",
    "a.*b",
    "a" * 200,
    "Марыя\x00",
    "Maryia 1' OR '1'='1",
    "日本語",
    "Ka",
    "Maryia Kalesnikava Maryia Kalesnikava Maryia Kalesnikava",
]


def test_bad_input_gets_a_clear_message(client, db):
    for query, message in BAD_INPUT.items():
        response = client.get(SEARCH, {"q": query})
        assert response.status_code == 200
        assert str(message) in response.content.decode(), query
        response = client.get(SUGGEST, {"q": query}, **HTMX)
        assert response.status_code == 200
        assert result_ids(response.content.decode()) == []


def test_odd_input_never_fails(search_path, client, demo):
    for query in ODD_INPUT:
        for url, extra in ((SEARCH, {}), (SUGGEST, HTMX)):
            assert client.get(url, {"q": query}, **extra).status_code == 200, query
    assert Person.objects.filter(name="Maryia Kalesnikava").exists()
    assert names("Maryia Kalesnikava Maryia Kalesnikava") == ["Maryia Kalesnikava"]


def test_page_number_is_read_safely(client, demo):
    for page in ("abc", "-1", "0", "99999999999", "2"):
        response = client.get(SEARCH, {"q": "Kalesnikava", "page": page})
        assert response.status_code == 200


@pytest.fixture
def namesakes(demo, audited):
    """25 public persons all called Testau, and one called Adzinochny."""
    persons = [
        person_create(
            name=f"Ivan Testau {i:02d}",
            name_be="Іван Тэстаў",
            visibility=Visibility.PUBLIC,
        )
        for i in range(25)
    ]
    alone = person_create(
        name="Ivan Adzinochny", name_be="Іван Адзіночны", visibility=Visibility.PUBLIC
    )
    return persons, alone


def test_pages_of_twenty_with_more_link(search_path, client, namesakes):
    persons, _ = namesakes
    first_page = person_search(query="Testau", viewer=None)
    assert len(first_page.hits) == 20
    assert first_page.has_more
    second = person_search(query="Testau", viewer=None, page=2)
    assert len(second.hits) == 5
    assert not second.has_more
    seen = [h.person.pk for h in first_page.hits + second.hits]
    assert sorted(seen) == sorted(p.pk for p in persons)
    body = client.get(SEARCH, {"q": "Testau"}).content.decode()
    assert 'rel="next"' in body
    assert "page=2" in body
    body = client.get(SEARCH, {"q": "Testau", "page": 2}).content.decode()
    assert 'rel="prev"' in body
    assert 'rel="next"' not in body
    assert '<ol class="search-results" start="21">' in body


def test_fixed_number_of_queries_for_one_or_twenty_results(
    search_path, client, namesakes, django_assert_num_queries
):
    # The ranked match, the persons, their shown names, their status (for the public today:
    # the listing brought up to date, then its rows); plus the savepoint and its release that
    # ATOMIC_REQUESTS opens inside the test's transaction.
    with django_assert_num_queries(5 + 2):
        one = client.get(SEARCH, {"q": "Adzinochny"})
    assert len(result_ids(one.content.decode())) == 1
    with django_assert_num_queries(5 + 2):
        many = client.get(SEARCH, {"q": "Testau"})
    assert len(set(result_ids(many.content.decode()))) == 20
    with django_assert_num_queries(3 + 2):  # suggestions: no status
        client.get(SUGGEST, {"q": "Adzinochny"}, **HTMX)
    with django_assert_num_queries(3 + 2):
        client.get(SUGGEST, {"q": "Testau"}, **HTMX)
    with django_assert_num_queries(0 + 2):  # nothing to search: no read at all
        client.get(SEARCH, {"q": "%"})


def test_query_count_for_a_researcher_is_fixed_too(
    client, namesakes, django_assert_max_num_queries
):
    user = User.objects.create_user("reader", password="x")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    client.force_login(user)
    # + session, user, the researcher-group check: each once, whatever the page holds
    with django_assert_max_num_queries(4 + 2 + 3):
        client.get(SEARCH, {"q": "Testau"})


def test_many_matches_are_capped_and_said_so(search_path, client, namesakes, monkeypatch):
    page = person_search(query="Testau", viewer=None, row_cap=10)
    assert page.truncated
    assert 1 <= len(page.hits) <= 10
    assert not person_search(query="Testau", viewer=None).truncated
    monkeypatch.setattr(search, "ROW_CAP", 10)
    body = client.get(SEARCH, {"q": "Testau"}).content.decode()
    assert "Many persons match" in body
    assert not person_search(query="Adzinochny", viewer=None, row_cap=10).truncated


# --- Suggestions (htmx) ----------------------------------------------------------------------


def test_suggestions_are_a_fragment_for_htmx_and_a_page_without(client, demo):
    partial = client.get(SUGGEST, {"q": "Kales"}, **HTMX)
    assert partial.status_code == 200
    assert "HX-Request" in partial.headers["Vary"]
    body = partial.content.decode()
    assert "<html" not in body
    assert "Maryia Kalesnikava" in body
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    assert f'href="{kalesnikava.get_absolute_url()}"' in body  # to her page
    assert f'href="{SEARCH}?q=Kales"' in body  # to all results

    full = client.get(SUGGEST, {"q": "Kales"})
    assert full.status_code == 200
    assert "HX-Request" in full.headers["Vary"]
    assert "<html" in full.content.decode()
    assert "Maryia Kalesnikava" in full.content.decode()


def test_suggestions_for_nothing_are_empty(client, demo):
    body = client.get(SUGGEST, {"q": ""}, **HTMX).content.decode()
    assert body.strip() == ""
    body = client.get(SUGGEST, {"q": "Qwertyuiop"}, **HTMX).content.decode()
    assert result_ids(body) == []


def test_suggestions_are_limited(client, namesakes):
    body = client.get(SUGGEST, {"q": "Testau"}, **HTMX).content.decode()
    assert len(result_ids(body)) == search.SUGGEST_SIZE


def test_header_box_asks_for_suggestions_and_works_without_javascript(client, repo_root: Path):
    body = client.get("/").content.decode()
    form = body[body.index('<form class="site-search"') :]
    form = form[: form.index("</form>")]
    assert f'action="{SEARCH}"' in form
    assert 'method="get"' in form
    assert f'hx-get="{SUGGEST}"' in form
    assert "delay:" in form  # debounced
    assert 'hx-target="#site-search-suggestions"' in form
    assert 'id="site-search-suggestions"' in form
    assert '<script src="/static/vendor/htmx/htmx.min.js" defer></script>' in body
    vendored = repo_root / "static" / "vendor" / "htmx"
    assert (vendored / "htmx.min.js").stat().st_size > 10_000
    readme = (vendored / "README.md").read_text()
    assert "2.0.11" in readme
    assert "0BSD" in readme


# --- Indexes ---------------------------------------------------------------------------------


def _plan(query_text: str, *settings: str) -> str:
    sql, params = search._search_sql(parse_query(query_text), Tier.PUBLIC, offset=0, limit=21)
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def many_names(demo, audited):
    """10,000 more public name variants (random letters), analysed: enough for the planner to
    read a few rows through an index rather than scan the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH persons AS (
                INSERT INTO prisoners_person (name, name_withheld, visibility, birth_date_precision,
                    gender, occupation, photo, photo_consent, letter_address, letters_reach,
                    staff_notes, created_at, updated_at)
                SELECT 'Synthetic ' || g, false, 'public', 'unknown', 'unknown', '', '', false,
                    '', 'unknown', '', now(), now()
                FROM generate_series(1, 2000) AS g
                RETURNING id
            )
            INSERT INTO prisoners_namevariant (person_id, text, search_key, language, script,
                kind, schemes, generated, visibility, created_at, updated_at)
            SELECT id, k, k, 'en' || n, 'Latn', 'common', '{}', false, 'public', now(), now()
            FROM persons, generate_series(1, 5) AS n,
                LATERAL (SELECT translate(substr(md5(id || '-' || n), 1, 7), '0123456789', 'ghijklmnop')
                    || ' ' || translate(substr(md5(n || '-' || id), 1, 9), '0123456789', 'qrstuvwxyz')
                    AS k) AS name
            """
        )
        cursor.execute("ANALYZE prisoners_namevariant")
        cursor.execute("ANALYZE prisoners_person")


def test_every_group_can_read_through_an_index(search_path, many_names):
    """Each group's scan of name variants can go through its index. (Which plan PostgreSQL
    picks depends on the table's size: at 100,000 persons and more it picks these, see the
    EXPLAIN ANALYZE figures in the report; here sequential scans are priced out.)"""
    if search_path == "trigram":
        plan = _plan("Колесникову", "enable_seqscan = off", "enable_indexscan = off")
        assert "prisoners_namevariant_key_idx" in plan  # exact: the btree on search_key
        # as typed, inflected, similar: the trigram index on UPPER(search_key)
        assert plan.count("Bitmap Index Scan on prisoners_namevariant_trgm") == 3, plan
    else:
        # Ordered range scans that stop early: no bitmap, no sort of every match.
        plan = _plan("Колесникову", "enable_seqscan = off", "enable_bitmapscan = off")
        # as typed, inflected and one slip away: ranges of the two word btrees, in index order
        assert plan.count(f"Index Scan using {WORD_INDEXES[0]}") >= 3, plan
        assert plan.count(f"Index Scan using {WORD_INDEXES[1]}") >= 3, plan
    assert "Seq Scan on prisoners_namevariant" not in plan, plan
    assert "One-Time Filter" in plan  # a group is read only when those before found no one


def test_public_statuses_today_are_those_of_the_rule(demo):
    """The search reads a published person's status today from their listing row; it is what
    the rule derives from the public records, for every kind of status of the demo."""
    from django.utils import timezone

    from events.selectors import with_status
    from prisoners import search
    from prisoners.models import Person
    from prisoners.visibility import Tier

    today = timezone.localdate()
    published = list(Person.objects.filter(visibility="public").values_list("pk", flat=True))
    expected = dict(
        with_status(Person.objects.filter(pk__in=published), today, Tier.PUBLIC).values_list(
            "pk", "status"
        )
    )
    found = search._statuses(published, today, Tier.PUBLIC)
    assert found == expected
    assert len(set(found.values())) >= 3  # several kinds, not one default
    on = today.replace(year=2025, month=12, day=12)  # another day: computed by the rule's SQL form
    then = dict(
        with_status(Person.objects.filter(pk__in=published), on, Tier.PUBLIC).values_list(
            "pk", "status"
        )
    )
    assert search._statuses(published, on, Tier.PUBLIC) == then
