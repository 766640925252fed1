"""The interface in Belarusian, Russian and Ukrainian (English is the source language).

- every catalog under ``locale/`` is complete: no untranslated and no fuzzy entry, and every
  translation keeps the placeholders of its English original;
- the committed ``django.mo`` files are compiled from the current ``django.po`` (the run and test
  commands do not need GNU gettext, so a stale ``.mo`` would silently show old text);
- pages render in the language asked for (cookie, ``Accept-Language`` or the switcher), with
  ``<html lang>`` to match.

After changing templates or marked strings: ``manage.py makemessages -l be -l ru -l uk
--ignore=.venv --ignore=.data --ignore=node_modules --ignore=staticfiles``, translate, then
``manage.py compilemessages`` (or Babel's ``babel.messages.mofile.write_mo``).
"""

from __future__ import annotations

import gettext
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.urls import reverse

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ("be", "ru", "uk")
PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))

# Python-format (%(name)s, %s, %d) and brace-format ({name}) placeholders.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdifr]|\{[^{}\s]*\}")


def _read(po: Path) -> Catalog:
    with po.open("rb") as handle:
        return read_po(handle, abort_invalid=True)


def _forms(message: Message) -> tuple[str, ...]:
    string = message.string
    return tuple(string) if isinstance(string, (list, tuple)) else (string or "",)


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _label(po: Path, message: Message) -> str:
    return f"{po.relative_to(LOCALE_DIR)}: {_ids(message)[0]!r}"


def test_every_interface_language_has_a_catalog() -> None:
    codes = {code for code, _name in settings.LANGUAGES}
    assert codes == {"en", *LANGUAGES}
    assert [Path(p) for p in settings.LOCALE_PATHS] == [LOCALE_DIR]
    for language in LANGUAGES:
        assert (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").is_file()
        assert (LOCALE_DIR / language / "LC_MESSAGES" / "django.mo").is_file()


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_catalog_is_complete_and_not_fuzzy(po: Path) -> None:
    catalog = _read(po)
    assert not catalog.fuzzy, f"{po}: the header entry is marked fuzzy"
    assert catalog.num_plurals >= 3, f"{po}: Plural-Forms header missing or wrong"
    messages = [message for message in catalog if message.id]
    assert messages, f"{po} holds no message"
    fuzzy = [_label(po, m) for m in messages if m.fuzzy]
    untranslated = [_label(po, m) for m in messages if not all(_forms(m))]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)
    for message in messages:
        assert len(_forms(message)) == (catalog.num_plurals if message.pluralizable else 1)


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_translations_keep_the_placeholders(po: Path) -> None:
    problems = []
    for message in _read(po):
        if not message.id:
            continue
        ids = _ids(message)
        if message.pluralizable:
            # A form may leave the count out ("once"), but never invent a placeholder.
            allowed = set().union(*map(_placeholders, ids))
            for form in _forms(message):
                if not _placeholders(form) <= allowed:
                    problems.append(f"{_label(po, message)} -> {form!r}")
        elif _placeholders(ids[0]) != _placeholders(_forms(message)[0]):
            problems.append(f"{_label(po, message)} -> {message.string!r}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def _mo_catalog(data: bytes) -> tuple[dict[Any, str], str]:
    translations = gettext.GNUTranslations(io.BytesIO(data))
    entries = dict(translations._catalog)  # type: ignore[attr-defined]
    header = entries.pop("", "")
    plural_forms = next(
        (line for line in header.splitlines() if line.lower().startswith("plural-forms:")), ""
    )
    return entries, re.sub(r"\s+", "", plural_forms)


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_compiled_catalog_is_up_to_date(po: Path) -> None:
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} is missing: run manage.py compilemessages"
    compiled = io.BytesIO()
    write_mo(compiled, _read(po))
    expected, expected_plural = _mo_catalog(compiled.getvalue())
    committed, committed_plural = _mo_catalog(mo.read_bytes())
    stale = sorted(
        str(key)
        for key in expected.keys() | committed.keys()
        if expected.get(key) != committed.get(key)
    )
    assert not stale, f"{mo} is stale, run manage.py compilemessages; differs on:\n" + "\n".join(
        stale[:20]
    )
    assert committed_plural == expected_plural


# --- Sources against catalogs ---------------------------------------------------------------

# The keywords makemessages gives xgettext (argument numbers; "c" marks the context).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "_": ("1",),
    "gettext": ("1",),
    "gettext_lazy": ("1",),
    "gettext_noop": ("1",),
    "ngettext": ("1", "2"),
    "ngettext_lazy": ("1", "2"),
    "pgettext": ("1c", "2"),
    "pgettext_lazy": ("1c", "2"),
    "npgettext": ("1c", "2", "3"),
    "npgettext_lazy": ("1c", "2", "3"),
}
# As in the makemessages command above, plus hidden folders (which makemessages skips too).
IGNORED_DIRS = {".venv", ".data", "node_modules", "staticfiles", "locale"}


def _marked_strings() -> dict[tuple[str, str], str]:
    """(context, msgid) -> "file:line" for every string marked for translation in the sources.

    The same extraction as makemessages, without GNU gettext: templates go through Django's
    ``templatize`` (which makemessages uses too), then Babel's Python extractor.
    """
    from babel.messages.extract import extract_python
    from django.utils.translation.template import templatize

    root = Path(settings.BASE_DIR)
    found: dict[tuple[str, str], str] = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(
            d for d in subfolders if d not in IGNORED_DIRS and not d.startswith(".")
        )
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix == ".py":
                source = path.read_bytes()
            elif path.suffix in (".html", ".txt"):
                text = templatize(path.read_text(encoding="utf-8"), origin=str(path))
                # templatize keeps the template's layout; Python's tokenizer wants no indents.
                source = "\n".join(line.lstrip() for line in text.splitlines()).encode()
            else:
                continue
            extracted: Any = extract_python(io.BytesIO(source), dict.fromkeys(KEYWORDS), [], {})
            for lineno, function, arguments, _comments in extracted:
                values = arguments if isinstance(arguments, tuple) else (arguments,)
                context: Any = ""
                ids: list[Any] = []
                for spec in KEYWORDS[function]:
                    index = int(spec.rstrip("c")) - 1
                    value = values[index] if index < len(values) else None
                    if spec.endswith("c"):
                        context = value
                    else:
                        ids.append(value)
                if isinstance(ids[0], str) and ids[0] and isinstance(context, str):
                    where = f"{path.relative_to(root)}:{lineno}"
                    found.setdefault((context, ids[0]), where)
    return found


def test_every_marked_string_is_in_the_catalogs() -> None:
    """A string marked after the last makemessages would show in English: re-extract."""
    marked = _marked_strings()
    assert len(marked) > 100
    for language in LANGUAGES:
        catalog = _read(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
        known = {(m.context or "", _ids(m)[0]) for m in catalog if m.id}
        missing = sorted(
            f"{where}: {msgid!r}"
            for (_c, msgid), where in marked.items()
            if (_c, msgid) not in known
        )
        assert not missing, (
            f"not in locale/{language}: run makemessages and translate:\n" + "\n".join(missing)
        )


# --- Pages in each language ---------------------------------------------------------------

# A few interface strings per language: the navigation and the footer (on every page).
NAVIGATION = {
    "be": ["Людзі", "Пагадненні аб вызваленні", "Статыстыка", "Адкрытыя даныя", "Пошук"],
    "ru": ["Люди", "Сделки об освобождении", "Статистика", "Открытые данные", "Поиск"],
    "uk": ["Люди", "Угоди про звільнення", "Статистика", "Відкриті дані", "Пошук"],
}
FOOTER = {
    "be": "Кожны факт спасылаецца на крыніцу.",
    "ru": "Каждый факт ссылается на источник.",
    "uk": "Кожен факт посилається на джерело.",
}
ENGLISH_NAVIGATION = [">Persons<", ">Release deals<", ">Statistics<", ">Open data<"]


def _html_lang(body: str) -> str:
    match = re.search(r"<html[^>]*\slang=\"([^\"]+)\"", body)
    assert match, "no <html lang=...>"
    return match.group(1)


def _client_for(language: str, how: str) -> Client:
    if how == "cookie":
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client
    return Client(HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5")


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _assert_interface_in(body: str, language: str, where: str) -> None:
    assert _html_lang(body) == language, where
    for text in NAVIGATION[language]:
        assert text in body, f"{text!r} missing: {where}"
    assert FOOTER[language] in body, where
    for english in ENGLISH_NAVIGATION:
        assert english not in body, f"{english!r} left in English: {where}"


PROFILE = {
    # Headings of the profile, and the demo person's name in the variant of the language.
    "be": ["Цяпер", "Статус", "Храналогія", "Марыя Калеснікава"],
    "ru": ["Сейчас", "Статус", "Хронология", "Мария Колесникова"],
    "uk": ["Зараз", "Статус", "Хронологія"],
}


@pytest.mark.django_db
def test_pages_render_in_the_language_asked_for(demo: Any) -> None:
    """Home, listing and the demo profile, by cookie and by Accept-Language (one demo load)."""
    from prisoners.models import Person

    profile = reverse("prisoners:detail", args=[Person.objects.get(name="Maryia Kalesnikava").pk])
    for language in LANGUAGES:
        for how in ("cookie", "accept-language"):
            client = _client_for(language, how)
            for url in (reverse("prisoners:home"), reverse("prisoners:list"), profile):
                body = _get(client, url)
                _assert_interface_in(body, language, f"{url} in {language} by {how}")
                if url == profile:
                    for text in PROFILE[language]:
                        assert text in body, f"{text!r} missing: {url} in {language}"
                    assert ">Timeline<" not in body


@pytest.mark.django_db
def test_english_is_the_default() -> None:
    body = _get(Client(), reverse("prisoners:home"))
    assert _html_lang(body) == "en"
    assert ">Persons<" in body


@pytest.mark.django_db
def test_language_switcher_sets_the_language() -> None:
    client = Client()
    response = client.post(
        reverse("set_language"), {"language": "be", "next": reverse("prisoners:home")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("prisoners:home")
    _assert_interface_in(_get(client, reverse("prisoners:home")), "be", "after the switcher")
