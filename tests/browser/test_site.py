"""The site as a newcomer meets it: the front page, and signing in with a wrong
password, by keyboard; axe checks every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site
from tests.browser.test_quiz import focused, press_to_go, tab_to
from tests.conftest import PASSWORD


def test_a_newcomer_reads_the_front_page_and_mistypes_the_password(
    site: Site, make_course, make_user
):
    make_course(title="Safe work")
    make_user(email="ona@example.org")
    page = site.page
    site.visit("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to vle")
    expect(
        page.get_by_text("Ask your organisation's administrator for an invitation.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Safe work")).to_be_visible()
    main = page.locator("main")
    tab_to(page, main.get_by_role("link", name="Log in"))
    press_to_go(site)
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type("ona@example.org")
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type("not the password")
    press_to_go(site)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Check your email address and your password")
    # Neither field alone is marked wrong; the summary leads to both.
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    alert.get_by_role("link", name="Check your email address").click()
    site.audit()  # the same page, at its #email
    assert focused(page.get_by_label("Email"))


# What a newcomer reads in each language (the catalogues' words, so a page left
# untranslated, or served in another language, fails).
WORDS = {
    "en-GB": ("en", "Welcome to vle", "You have not been logged in", "Forgotten your password?",
              "Too many failed attempts", "Sign in and return to where you were"),
    "lt": ("lt", "Sveiki atvykę į vle", "Prisijungti nepavyko", "Pamiršote slaptažodį?",
           "Per daug nesėkmingų bandymų", "Prisijungti ir grįžti ten, kur buvote"),
    "pl": ("pl", "Witamy w vle", "Nie udało się zalogować", "Nie pamiętasz hasła?",
           "Zbyt wiele nieudanych prób", "Zaloguj się i wróć do poprzedniej strony"),
    "nb": ("nb", "Velkommen til vle", "Du er ikke logget inn", "Glemt passordet?",
           "For mange mislykkede forsøk", "Logg inn og gå tilbake dit du var"),
}  # fmt: skip


@pytest.mark.parametrize("locale", list(WORDS))
def test_signing_in_in_each_language(open_site, make_course, make_user, session, locale):
    """Front page, a refused sign-in (the summary has the focus, no field is marked
    wrong alone), the rate limit on the form itself, and an expired form that
    signs in and returns to the course page: in the browser's language, axe clean
    at every step (and at 320 px)."""
    lang, welcome, refused, forgotten, too_many, sign_in_and_return = WORDS[locale]
    course = make_course(title="Safe work")
    user = make_user(email="ona@example.org")
    user.locale = lang
    session.commit()
    site = open_site(locale=locale)
    page = site.page
    site.visit("/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(welcome)
    page.set_viewport_size({"width": 320, "height": 640})  # the two buttons, wrapped, …
    first, second = (b.bounding_box() for b in page.locator("main a.button").all()[:2])
    assert first and second
    beside = second["x"] >= first["x"] + first["width"]
    assert beside or second["y"] >= first["y"] + first["height"], "… sit one over the other"
    page.set_viewport_size({"width": 1280, "height": 720})

    site.visit("/login")
    page.get_by_label(re.compile("^(Email|El. paštas|E-mail|E-post)$")).fill("ona@example.org")
    page.locator("#password").fill("not the password")
    site.follow(page.locator("main form button[type=submit]"))
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading")).to_have_text(refused)
    expect(alert).to_be_focused()  # read first by a screen reader, without a script
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    expect(alert.get_by_role("link", name=forgotten)).to_have_attribute(
        "href", "/password/forgotten"
    )

    for _ in range(4):  # five wrong passwords in a minute: the sixth try waits, on the form
        page.locator("#password").fill("not the password")
        site.follow(page.locator("main form button[type=submit]"))
    page.locator("#password").fill(PASSWORD)
    site.follow(page.locator("main form button[type=submit]"))
    expect(page.get_by_role("alert")).to_contain_text(too_many)
    expect(page.locator("#password")).to_be_visible()  # try again from here later

    # Another person's session ends while the course page is open: the enrol
    # form has expired; the page says so in their language and brings them back.
    make_user(email="jonas@example.org").locale = lang
    session.commit()
    site.visit("/login")
    page.locator("#email").fill("jonas@example.org")
    page.locator("#password").fill(PASSWORD)
    site.follow(page.locator("main form button[type=submit]"))
    site.visit(f"/courses/{course.slug}")
    kept = [c for c in page.context.cookies() if c["name"] != "session"]
    page.context.clear_cookies()
    page.context.add_cookies(kept)  # the language cookie outlives the session
    site.follow(page.locator("form[action$='/enrol'] button[type=submit]"))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    site.follow(page.get_by_role("link", name=sign_in_and_return))
    page.locator("#email").fill("jonas@example.org")
    page.locator("#password").fill(PASSWORD)
    site.follow(page.locator("main form button[type=submit]"))
    assert page.url == f"{site.base_url}/courses/{course.slug}"


AUDIT_WORDS = {
    "en-GB": ("Account deactivated", "Language: — → Polish"),
    "lt": ("Paskyra išjungta", "Kalba: — → lenkų"),
    "pl": ("Dezaktywowano konto", "Język: — → polski"),
    "nb": ("Konto deaktivert", "Språk: — → polsk"),
}


@pytest.mark.parametrize("locale", list(AUDIT_WORDS))
def test_the_audit_log_and_my_data_in_each_language(open_site, make_user, session, locale):
    """An administrator reads the audit log in their language: actions and changes
    in words; it, My data and a missing page are axe clean and fit 320 px."""
    from vle.accounts import services as accounts

    deactivated, language_change = AUDIT_WORDS[locale]
    admin = make_user("admin", email="ada@example.org", network=True)
    admin.locale = locale.split("-")[0]
    jonas = make_user(email="jonas@example.org", name="Jonas Jonaitis")
    accounts.update_user(
        session, admin, jonas, email=jonas.email, name=jonas.name, role="trainer",
        organisation_code=jonas.organisation.code, locale="pl",
    )  # fmt: skip
    accounts.set_active(session, admin, jonas, False)
    session.commit()
    site = open_site(locale=locale)
    page = site.page
    site.visit("/login")
    page.locator("#email").fill("ada@example.org")
    page.locator("#password").fill(PASSWORD)
    site.follow(page.locator("main form button[type=submit]"))
    site.visit("/admin/audit")
    rows = page.locator("main table tbody")
    expect(rows).to_contain_text(deactivated)
    expect(rows).to_contain_text(language_change)
    assert "user.deactivate" not in rows.inner_text() and "[" not in rows.inner_text()
    site.visit("/my/data")
    site.visit("/no-such-page")
