"""The gettext catalogs: complete in Lithuanian, faithful to their placeholders,
compiled, in step with the code, and used by the pages.

When a test here fails after a code change, run (see babel.cfg):

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o vle/translations/messages.pot .
    .venv/bin/pybabel update -i vle/translations/messages.pot -d vle/translations
    (translate the new and fuzzy entries in vle/translations/*/LC_MESSAGES/messages.po)
    .venv/bin/pybabel compile -d vle/translations
"""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask_babel import format_date, format_decimal, ngettext
from wtforms.i18n import messages_path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "vle" / "translations"
LOCALES = ("lt", "pl", "nb")
# vle's own messages, and WTForms' built-in ones (“This field is required.”) for
# Lithuanian, which WTForms does not ship.
CATALOGS = [(locale, "messages") for locale in LOCALES] + [("lt", "wtforms")]
LITHUANIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# A printf conversion as Python's % operator reads it (named or not), or a literal %%.
CONVERSION = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]"
)


def _po(locale: str, domain: str = "messages") -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as f:
        return read_po(f, locale=locale)


def _messages(catalog: Catalog) -> list:
    return [m for m in catalog if m.id]


def _ids(catalog: Catalog) -> set:
    return {m.id for m in _messages(catalog)}


def _forms(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _label(message) -> str:
    return repr(message.id[0] if isinstance(message.id, tuple) else message.id)


def _bare_percents(text: str) -> int:
    return CONVERSION.sub("", text).count("%")


def _compiled(catalog: Catalog) -> dict:
    """What a .mo holds: {msgid: msgstr}, plural ids and forms as tuples."""

    def freeze(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {freeze(m.id): freeze(m.string) for m in catalog if m.id}


def _conversions(text: str) -> list[str]:
    return sorted(m.group(0) for m in CONVERSION.finditer(text) if m.group(0) != "%%")


@pytest.mark.parametrize("domain", ["messages", "wtforms"])
def test_every_lithuanian_message_is_translated(domain):
    catalog = _po("lt", domain)
    missing = [_label(m) for m in _messages(catalog) if m.fuzzy or not all(_forms(m))]
    assert not missing, f"untranslated or fuzzy in lt/{domain}.po:\n" + "\n".join(missing)
    assert catalog.plural_forms == LITHUANIAN_PLURALS
    for message in _messages(catalog):
        if isinstance(message.id, tuple):
            assert len(message.string) == 3, _label(message)


@pytest.mark.parametrize(("locale", "domain"), CATALOGS)
def test_every_catalogue_is_complete(locale, domain):
    # All four languages, not Lithuanian alone: a Polish or Norwegian page with
    # English holes in it is as broken for its reader.
    catalog = _po(locale, domain)
    missing = [_label(m) for m in _messages(catalog) if m.fuzzy or not all(_forms(m))]
    assert not missing, f"untranslated or fuzzy in {locale}/{domain}.po:\n" + "\n".join(missing)


@pytest.mark.parametrize(("locale", "domain"), CATALOGS)
def test_translations_keep_every_placeholder(locale, domain):
    """A lost %(title)s hides data; a new or mistyped one breaks the page
    (templates format every message, so a stray % matters too)."""
    wrong = []
    for message in _messages(_po(locale, domain)):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = sorted(set().union(*(_conversions(i) for i in ids)))
        # A bare "%" ("Progress %") is fine where the English has one too.
        bare = max(_bare_percents(i) for i in ids)
        for form in _forms(message):
            if not form:
                continue  # untranslated: English is shown
            found = _conversions(form)
            if sorted(set(found)) != wanted or _bare_percents(form) > bare:
                wrong.append(f"{_label(message)} → {form!r}")
    assert not wrong, f"placeholders differ in {locale}/{domain}.po:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("locale", "domain"), CATALOGS)
def test_committed_mo_files_match_the_po_files(locale, domain):
    po = _po(locale, domain)
    compiled = BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    expected = _compiled(read_mo(compiled))
    with (TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.mo").open("rb") as f:
        committed = read_mo(f)
    assert _compiled(committed) == expected, (
        f"{locale}/{domain}.mo is stale: run pybabel compile -d vle/translations -D {domain}"
    )
    assert committed.plural_forms == po.plural_forms


def test_template_is_up_to_date_with_the_code(tmp_path):
    """Extract as the Makefile does; a string added to the code but missing from
    messages.pot (and so from every translation) fails here."""
    output = tmp_path / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "--quiet",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(output),
            str(ROOT),
        ]
    )
    with output.open("rb") as f:
        fresh = _ids(read_po(f))
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        committed = _ids(read_po(f))
    assert fresh, "extraction found no messages: is babel.cfg right?"
    assert sorted(map(repr, fresh - committed)) == [], "in the code, not in messages.pot"
    assert sorted(map(repr, committed - fresh)) == [], "in messages.pot, no longer in the code"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_are_updated_from_the_template(locale):
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = _ids(read_po(f))
    catalog = _ids(_po(locale))
    assert sorted(map(repr, template - catalog)) == [], f"run pybabel update ({locale})"
    assert sorted(map(repr, catalog - template)) == [], f"run pybabel update ({locale})"


def test_login_page_in_lithuanian(client):
    html = client.get("/login", headers={"Accept-Language": "lt"}).get_data(as_text=True)
    assert "<h1>Prisijungti</h1>" in html
    assert "El. paštas" in html
    assert "Slaptažodis" in html
    assert "Log in" not in html


@pytest.mark.parametrize(
    ("locale", "title"), [("pl", "Zaloguj się"), ("nb", "Logg inn"), ("en", "Log in")]
)
def test_login_page_in_the_other_languages(client, locale, title):
    html = client.get("/login", headers={"Accept-Language": locale}).get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html


def test_dates_numbers_and_plurals_the_lithuanian_way(app):
    with app.test_request_context("/", headers={"Accept-Language": "lt"}):
        assert format_date(date(2024, 3, 5)) == "2024-03-05"
        assert format_date(date(2024, 3, 5), "long") == "2024 m. kovo 5 d."
        assert format_decimal(12.5) == "12,5"
        minutes = {
            n: ngettext("%(num)d minute", "%(num)d minutes", n) for n in (1, 2, 5, 10, 11, 21, 22)
        }
    assert minutes == {
        1: "1 minutė",
        2: "2 minutės",
        5: "5 minutės",
        10: "10 minučių",
        11: "11 minučių",
        21: "21 minutė",
        22: "22 minutės",
    }


def test_lithuanian_wtforms_catalog_covers_the_installed_wtforms():
    with (Path(messages_path()) / "wtforms.pot").open("rb") as f:
        wanted = _ids(read_po(f))
    assert sorted(map(repr, wanted - _ids(_po("lt", "wtforms")))) == [], (
        "WTForms has new messages: pybabel update -D wtforms -l lt "
        "-i <wtforms/locale/wtforms.pot> -d vle/translations, then translate them"
    )
