"""vle on a phone (issue 18, WCAG 2.1 1.4.10 Reflow and 2.4.7 Focus Visible): at
320 × 640 a learner, a trainer and an administrator open the main pages in every
language; Site.audit runs axe-core and fails when a page scrolls sideways. The
header's account part folds behind a button that works by keyboard, and the
quiz's sticky status bar never covers the element that has the focus."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Site
from tests.browser.test_quiz import focused, tab_to
from tests.conftest import PASSWORD
from tests.quizzes import conftest as quiz_fixtures
from tests.quizzes.conftest import GIFT
from vle.learning import services as learning
from vle.quizzes import services as quizzes
from vle.sanitize import markdown_to_html

pytestmark = pytest.mark.browser

make_quiz = quiz_fixtures.make_quiz
enrol = quiz_fixtures.enrol

PHONE = {"width": 320, "height": 640}
LOCALES = ("en-GB", "lt", "pl", "nb")

# Long stems and answers: their selects once made the page 484 px wide at 375 px.
LONG_MATCHING = """\
::Bodies::Match each body to what it decides.{
=Savivaldybės administracijos direktoriaus įsakymu sudaryta komisija -> Viešųjų pirkimų procedūrų ir sutarčių vykdymo priežiūra
=Nacionalinė švietimo agentūra -> Mokytojų kvalifikacijos tobulinimo programų akreditavimas
=Valstybinė duomenų apsaugos inspekcija -> Asmens duomenų tvarkymo pažeidimų tyrimas
}
"""
# A lesson table with more columns than a phone has room for.
WIDE_TABLE = (
    "Who answers for what.\n\n"
    "| Organisation | Contact person | E-mail address | Telephone | Opening hours | Region |\n"
    "|---|---|---|---|---|---|\n"
    "| Šiaulių rajono savivaldybės administracija | Ona Petraitienė | "
    "ona.petraitiene@example.org | +370 600 00000 | 8:00–17:00 | Šiaurės Lietuva |\n"
)


@pytest.fixture
def world(session, make_org, make_user, make_quiz):
    north = make_org(code="north", name="Šiaurės regionas")
    trainer = make_user("trainer", org=north, name="Rasa Mokytoja", email="rasa@example.org")
    make_user("admin", org=north, name="Algis Administratorius", email="algis@example.org")
    learner = make_user(org=north, name="Ona Petraitienė", email="ona@example.org")
    course, quiz = make_quiz(GIFT + "\n" + LONG_MATCHING, trainers=[trainer], lessons=1)
    course.title = "Integrity at work"
    lesson = next(item for item in course.items if item.kind == "lesson")
    lesson.title = "Who answers for what"
    lesson.source = WIDE_TABLE
    lesson.body_html = markdown_to_html(WIDE_TABLE)
    session.commit()
    learning.enrol(session, learner, course, method="manual")
    learning.complete_item(session, learner, course, lesson)
    quizzes.start_attempt(session, learner, course, quiz)
    session.commit()
    return {"course": course, "lesson": lesson, "quiz": quiz}


def on_phone(open_site, locale: str, email: str) -> Site:
    site = open_site(locale=locale)
    page = site.page
    page.set_viewport_size(PHONE)
    site.visit("/login")
    page.locator("input[name=email]").fill(email)  # the labels are in `locale`
    page.locator("input[name=password]").fill(PASSWORD)
    site.follow(page.locator("main button[type=submit]"))
    return site


def test_main_pages_fit_a_phone_in_every_language(open_site, world):
    course = world["course"]
    lesson = f"/courses/{course.slug}/items/{world['lesson'].id}"
    quiz = f"/courses/{course.slug}/items/{world['quiz'].id}"
    staff_pages = {
        "rasa@example.org": ["/trainer/", f"/trainer/courses/{course.slug}"],
        "algis@example.org": ["/admin/users", "/reports"],
    }
    for locale in LOCALES:
        site = on_phone(open_site, locale, "ona@example.org")
        page = site.page
        expect(page.locator("html")).to_have_attribute("lang", locale.split("-")[0])
        for path in ("/my", "/courses", f"/courses/{course.slug}"):
            site.visit(path)  # axe-core and the 320 px check (Site.audit)
        site.visit(lesson)
        # The lesson's wide table scrolls in its own labelled, focusable box.
        box = page.get_by_role("region", name="Organisation")
        expect(box).to_have_attribute("tabindex", "0")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth"), "the table fits: test nothing"
        site.visit(quiz)
        # The matching question's selects stay within the screen.
        selects = page.locator(".match select")
        expect(selects).to_have_count(3)
        for select in selects.all():
            box = select.bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"]
        for email, paths in staff_pages.items():
            staff = on_phone(open_site, locale, email)
            for path in paths:
                staff.visit(path)
                expect(staff.page.get_by_role("heading", level=1)).to_be_visible()


def luminance(css_colour: str) -> float:
    """Relative luminance (WCAG 2.1) of an `rgb(r, g, b)` colour."""
    channels = [int(part) / 255 for part in re.findall(r"\d+", css_colour)[:3]]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def assert_focus_stands_out(page: Page) -> None:
    """The focused element's outline, or the halo inside it, has 3:1 against the
    background it sits on (WCAG 2.1 1.4.11)."""
    colours = page.evaluate(
        """() => { const e = document.activeElement, style = getComputedStyle(e);
                   let back = e.parentElement, colour = 'rgba(0, 0, 0, 0)';
                   while (back && (colour = getComputedStyle(back).backgroundColor) === 'rgba(0, 0, 0, 0)')
                       back = back.parentElement;
                   return {outline: style.outlineStyle === 'none' ? null : style.outlineColor,
                           halo: (style.boxShadow.match(/rgba?\\([^)]*\\)/) || [null])[0],
                           background: back ? colour : 'rgb(255, 255, 255)'}; }"""
    )
    assert colours["outline"], "the focused element has no outline"
    best = max(
        contrast(colours[part], colours["background"])
        for part in ("outline", "halo")
        if colours[part]
    )
    assert best >= 3, f"focus indicator {colours}: contrast {best:.2f}:1"


def header_height(page: Page) -> float:
    return page.locator(".site-header").bounding_box()["height"]


def test_the_phone_header_folds_and_opens_by_keyboard(open_site, world):
    site = on_phone(open_site, "en-GB", "ona@example.org")
    page = site.page
    toggle = page.get_by_role("button", name="Language and account")
    log_out = page.get_by_role("button", name="Log out")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(log_out).to_be_hidden()
    expect(page.get_by_label("Language", exact=True)).to_be_hidden()
    folded = header_height(page)
    assert folded < PHONE["height"] / 5, f"the folded header is {folded}px high"

    tab_to(page, toggle)
    assert_focus_stands_out(page)  # on the grey header
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_text("Ona Petraitienė")).to_be_visible()
    tab_to(page, log_out, limit=12)  # the opened part follows the button
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        if focused(toggle):
            break
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(log_out).to_be_hidden()

    # At a desktop width there is nothing to fold: everything shows, no button.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(toggle).to_be_hidden()
    expect(log_out).to_be_visible()


def focus_clear_of(page: Page, bar: Locator) -> bool:
    """True when the focused element is clear of the sticky bar; False when the bar
    is not stuck at the top (nothing to check). Fails when the bar covers it."""
    focus = page.evaluate(
        """() => { const e = document.activeElement, r = e.getBoundingClientRect();
                   return {top: r.top, bottom: r.bottom, tag: e.tagName,
                           inBar: !!e.closest('.quiz-status')}; }"""
    )
    box = bar.bounding_box()
    if focus["inBar"] or box["y"] > 0.5:  # the bar has not stuck to the top yet
        return False
    assert focus["top"] >= box["y"] + box["height"] - 1, (
        f"the focused {focus['tag']} at {focus['top']:.0f}–{focus['bottom']:.0f}px is "
        f"under the quiz status bar (0–{box['height']:.0f}px)"
    )
    return True


def test_the_quiz_status_bar_never_covers_the_focus(open_site, world):
    """Tab down a long quiz page at 320 px and Shift+Tab back up: the browser scrolls
    a focused element clear of the bar only if the page's scroll padding says so
    (going back up, an element under the bar is otherwise "on the screen")."""
    course, quiz = world["course"], world["quiz"]
    site = on_phone(open_site, "lt", "ona@example.org")
    page = site.page
    site.visit(f"/courses/{course.slug}/items/{quiz.id}")
    bar = page.locator(".quiz-status")
    submit = page.locator('#attempt-form button[value="submit"]')
    above_the_form = """() => !!(document.getElementById('attempt-form').compareDocumentPosition(
        document.activeElement) & Node.DOCUMENT_POSITION_PRECEDING)"""
    checked = 0
    for key, at_end in (
        ("Tab", lambda: focused(submit)),
        ("Shift+Tab", lambda: page.evaluate(above_the_form)),
    ):
        for _ in range(150):
            page.keyboard.press(key)
            checked += focus_clear_of(page, bar)
            if at_end():
                break
        else:
            pytest.fail(f"{key} never reached the end of its way")
    submit.focus()  # after keys, so :focus-visible
    assert_focus_stands_out(page)  # on the white page
    assert checked >= 10, "the bar never stuck: the page is too short to test anything"
