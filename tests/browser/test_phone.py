"""vle on a phone (issue 18, WCAG 2.1 1.4.10 Reflow and 2.4.7 Focus Visible): at
320 × 640 a learner, a trainer and an administrator open the main pages in every
language; Site.audit runs axe-core and fails when a page scrolls sideways. Tables
scroll in their own named, focusable boxes; the header's account part folds
behind a button that works by keyboard (and shows whole without JavaScript); the
focus ring stands out and is never cut off; the quiz's sticky status bar never
covers the element that has the focus. 1280 px at 400 % zoom is 320 × 180 CSS
pixels at four device pixels each: test_zoomed_to_400_percent opens pages so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE_WIDTH, TIMEOUT_MS, Site, no_sideways_scroll
from tests.browser.test_quiz import focused, tab_to
from tests.conftest import PASSWORD
from tests.quizzes import conftest as quiz_fixtures
from tests.quizzes.conftest import GIFT
from vle.catalog.models import Module
from vle.community import announcements, forums
from vle.learning import services as learning
from vle.quizzes import services as quizzes
from vle.sanitize import markdown_to_html

pytestmark = pytest.mark.browser

make_quiz = quiz_fixtures.make_quiz
enrol = quiz_fixtures.enrol

PHONE = {"width": 320, "height": 640}
LOCALES = ("en-GB", "lt", "pl", "nb")
# Names a person sees, from the catalogues.
WORDS = {
    "en-GB": {"toggle": "Language and account", "log out": "Log out", "language": "Language"},
    "lt": {"toggle": "Kalba ir paskyra", "log out": "Atsijungti", "language": "Kalba"},
    "pl": {"toggle": "Język i konto", "log out": "Wyloguj się", "language": "Język"},
}
# Long names: a select offering them once pushed a page sideways at 320 px.
LONG_ORGANISATION = (
    "Šiaulių rajono savivaldybės administracijos Švietimo, kultūros ir sporto skyrius"
)
LONG_MODULE = "Rezultatai ir norvegų bei lietuvių bendradarbiavimo patirtis savivaldybėse"
LONG_TITLES = (
    "Ikimokyklinio ugdymo įstaigų bendradarbiavimas per sieną: Lietuva ir Lenkija",
    "Współpraca samorządów przy zamówieniach publicznych i przeciwdziałaniu korupcji",
    "Samarbeid mellom kommuner om offentlige anskaffelser og antikorrupsjonsarbeid",
)

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
    make_org(code="siauliai-edu", name=LONG_ORGANISATION, parent=north)
    trainer = make_user("trainer", org=north, name="Rasa Mokytoja", email="rasa@example.org")
    make_user("admin", org=north, name="Algis Administratorius", email="algis@example.org")
    learner = make_user(org=north, name="Ona Petraitienė", email="ona@example.org")
    # Timed: the quiz's status bar holds the time and the saving state.
    course, quiz = make_quiz(
        GIFT + "\n" + LONG_MATCHING, trainers=[trainer], lessons=1, time_limit_minutes=90
    )
    course.title = "Integrity at work"
    # A second module: each item's "Move to" select on the contents page offers it.
    course.modules.append(Module(slug="results", position=2, title=LONG_MODULE, prefix="02"))
    lesson = next(item for item in course.items if item.kind == "lesson")
    lesson.title = "Who answers for what"
    lesson.source = WIDE_TABLE
    lesson.body_html = markdown_to_html(WIDE_TABLE)
    session.commit()
    learning.enrol(session, learner, course, method="manual")
    learning.complete_item(session, learner, course, lesson)
    quizzes.start_attempt(session, learner, course, quiz)
    for title in LONG_TITLES:  # My learning lists these too
        other, _ = make_quiz(GIFT)
        other.title = title
        learning.enrol(session, learner, other, method="manual")
    # A wide table in a forum post and in an announcement shown on My learning.
    forum = forums.course_forum(session, learner, course)
    thread = forums.start_thread(session, learner, forum, "Who to call", WIDE_TABLE)
    announcements.create(
        session,
        trainer,
        announcements.Fields(
            title="Contacts", message=WIDE_TABLE, starts_at=None, ends_at=None,
            send_mail=False, course=course,
        ),
    )  # fmt: skip
    session.commit()
    return {"course": course, "lesson": lesson, "quiz": quiz, "thread": thread}


class ScriptlessSite:
    """A browser with JavaScript off. axe-core cannot run there (it waits on timers,
    which never fire), so each page it loads gets the 320 px check alone; the same
    pages with JavaScript on are checked with axe by the other tests."""

    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url

    def visit(self, path: str) -> None:
        self.page.goto(self.base_url + path)
        self._check_reflow()

    def follow(self, control: Locator) -> None:
        with self.page.expect_navigation():
            control.click()
        self._check_reflow()

    def _check_reflow(self) -> None:
        size = self.page.viewport_size or PHONE
        self.page.set_viewport_size({"width": PHONE_WIDTH, "height": size["height"]})
        try:
            no_sideways_scroll(self.page)
        finally:
            self.page.set_viewport_size(size)


@pytest.fixture
def open_scriptless(browser, live_server):
    contexts = []

    def open_(locale: str = "en-GB", **options) -> ScriptlessSite:
        context = browser.new_context(locale=locale, java_script_enabled=False, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return ScriptlessSite(context.new_page(), live_server)

    yield open_
    for context in contexts:
        context.close()


def on_phone(open_site, locale: str, email: str, size: dict | None = None, **options) -> Site:
    """Signed in as `email` in a browser `size` wide (a phone's by default);
    options go to the browser context (device_scale_factor …). `open_site` may
    be `open_scriptless`."""
    site = open_site(locale=locale, viewport=size or PHONE, **options)
    page = site.page
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
        "rasa@example.org": [
            "/trainer/",
            f"/trainer/courses/{course.slug}",
            f"/trainer/courses/{course.slug}/contents",  # "Move to": LONG_MODULE
        ],
        "algis@example.org": ["/admin/users", "/reports"],  # the filter offers LONG_ORGANISATION
    }
    thread = f"/network/threads/{world['thread'].id}"
    for locale in LOCALES:
        site = on_phone(open_site, locale, "ona@example.org")
        page = site.page
        expect(page.locator("html")).to_have_attribute("lang", locale.split("-")[0])
        for path in ("/my", "/courses", f"/courses/{course.slug}", thread):
            site.visit(path)  # axe-core and the 320 px check (Site.audit)
        site.visit(lesson)
        # The lesson's wide table scrolls in its own labelled, focusable box.
        box = page.get_by_role("region", name="Organisation")
        expect(box).to_have_attribute("tabindex", "0")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth"), "the table fits: test nothing"
        site.visit(quiz)
        # The matching question's selects stay within the screen (they once ran
        # to 484 px at 375 px).
        selects = page.locator(".match select")
        expect(selects).to_have_count(3)
        for width in (PHONE["width"], 375):
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            for select in selects.all():
                box = select.bounding_box()
                assert box["x"] + box["width"] <= width, f"a select ends at {box}, {width}px"
        page.set_viewport_size(PHONE)
        for email, paths in staff_pages.items():
            staff = on_phone(open_site, locale, email)
            for path in paths:
                staff.visit(path)
                expect(staff.page.get_by_role("heading", level=1)).to_be_visible()


def check_table_boxes(page: Page) -> int:
    """Every table's box on the page is a region a screen reader names, that Tab
    reaches; a caption is read whole without scrolling the box. Returns how many
    boxes hold a table wider than themselves (scrolling in the box, not the page)."""
    boxes = page.locator(".table-wrap")
    wide = 0
    for box in boxes.all():
        expect(box).to_have_attribute("tabindex", "0")
        name = box.evaluate(
            """e => (e.getAttribute('aria-label')
                     || (document.getElementById(e.getAttribute('aria-labelledby')) || {}).textContent
                     || '').trim()"""
        )
        assert name, f"a table's box has no name: {box.evaluate('e => e.outerHTML.slice(0, 120)')}"
        expect(page.get_by_role("region", name=name, exact=True).first).to_be_attached()
        caption = box.locator("caption")
        if caption.count():
            inside, outside = caption.bounding_box(), box.bounding_box()
            assert inside["x"] + inside["width"] <= outside["x"] + outside["width"] + 0.5, (
                f"the caption {name!r} runs beyond its box: cut off until scrolled to"
            )
        wide += box.evaluate("e => e.scrollWidth > e.clientWidth")
    return wide


def tab_through_tables(page: Page) -> int:
    """Tab through the whole page; at each stop in or on a table's box the focus
    ring stands out and is not cut off by the box. Returns the stops checked."""
    page.evaluate("() => window.scrollTo(0, 0)")
    checked = 0
    for _ in range(300):
        page.keyboard.press("Tab")
        where = page.evaluate(
            "() => document.activeElement === document.body ? 'end'"
            " : document.activeElement.closest('.table-wrap') ? 'table' : ''"
        )
        if where == "end":
            return checked
        if where == "table":
            assert_focus_stands_out(page)
            checked += 1
    pytest.fail("Tab never reached the end of the page")


@pytest.mark.parametrize("locale", ["en-GB", "lt"])
def test_tables_scroll_in_their_own_named_boxes(open_site, world, locale):
    """My learning's courses, a lesson's wide table, a table in a forum post and in
    an announcement, and a report: at 320 px each scrolls in its own box (Site.audit
    fails the page otherwise), which a screen reader names and Tab reaches; the
    focus ring on the box and on the links in it is whole (a link half out of the
    box is scrolled in: layout.js)."""
    course = world["course"]
    learner = on_phone(open_site, locale, "ona@example.org")
    page = learner.page
    for path, wide in (
        ("/my", 2),  # the courses (long titles) and the announcement's table
        (f"/courses/{course.slug}/items/{world['lesson'].id}", 1),
        (f"/network/threads/{world['thread'].id}", 1),
    ):
        learner.visit(path)
        assert check_table_boxes(page) >= wide, f"{path}: fewer tables than expected scroll"
        assert tab_through_tables(page) >= wide, f"{path}: Tab never reached a table"
    # The table in a post keeps whole words and scrolls, rather than a letter a line
    # (the post's text breaks anywhere).
    post = page.locator(".post-body").get_by_role("region", name="Organisation")
    expect(post).to_have_attribute("tabindex", "0")
    assert post.evaluate("e => e.scrollWidth > e.clientWidth"), "the post's table was squeezed"

    admin = on_phone(open_site, locale, "algis@example.org")
    admin.visit("/reports")
    assert check_table_boxes(admin.page) >= 1
    # The column headings are sorting links; the far ones start outside the box.
    assert tab_through_tables(admin.page) >= 8


def test_zoomed_to_400_percent(open_site, world):
    """A desktop of 1280 × 720 at 400 % zoom: 320 × 180 CSS pixels, four device
    pixels each. Every page fits its width (Site.audit), and the folded header
    still opens."""
    course = world["course"]
    site = on_phone(
        open_site, "lt", "ona@example.org", {"width": 320, "height": 180}, device_scale_factor=4
    )
    page = site.page
    assert page.evaluate("() => [document.documentElement.clientWidth, devicePixelRatio]") == [
        320,
        4,
    ]
    for item in (world["lesson"], world["quiz"]):
        site.visit(f"/courses/{course.slug}/items/{item.id}")
    site.visit("/my")
    toggle = page.get_by_role("button", name=WORDS["lt"]["toggle"])
    tab_to(page, toggle)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=WORDS["lt"]["log out"])).to_be_visible()


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
    background it sits on (WCAG 2.1 1.4.11), and no scrolling box it is in (a
    table's) cuts the ring off."""
    colours = page.evaluate(
        """() => { const e = document.activeElement, style = getComputedStyle(e);
                   let back = e.parentElement, colour = 'rgba(0, 0, 0, 0)';
                   while (back && (colour = getComputedStyle(back).backgroundColor) === 'rgba(0, 0, 0, 0)')
                       back = back.parentElement;
                   const r = e.getBoundingClientRect(),
                         reach = (parseFloat(style.outlineOffset) || 0) + (parseFloat(style.outlineWidth) || 0),
                         cut = [];
                   for (let box = e.parentElement; box; box = box.parentElement) {
                       const s = getComputedStyle(box);
                       if (box === document.documentElement || (s.overflowX === 'visible' && s.overflowY === 'visible'))
                           continue;
                       const b = box.getBoundingClientRect(), left = b.left + box.clientLeft, top = b.top + box.clientTop;
                       if (r.left - reach < left - .5 || r.right + reach > left + box.clientWidth + .5
                           || r.top - reach < top - .5 || r.bottom + reach > top + box.clientHeight + .5)
                           cut.push(box.tagName.toLowerCase() + '.' + box.className);
                   }
                   return {element: e.tagName.toLowerCase() + ' "' + (e.textContent || '').trim().slice(0, 30) + '"',
                           outline: style.outlineStyle === 'none' ? null : style.outlineColor,
                           halo: (style.boxShadow.match(/rgba?\\([^)]*\\)/) || [null])[0],
                           background: back ? colour : 'rgb(255, 255, 255)', cut}; }"""
    )
    assert colours["outline"], f"the focused {colours['element']} has no outline"
    best = max(
        contrast(colours[part], colours["background"])
        for part in ("outline", "halo")
        if colours[part]
    )
    assert best >= 3, f"focus indicator {colours}: contrast {best:.2f}:1"
    assert not colours["cut"], (
        f"the focus ring of {colours['element']} is cut off by {colours['cut']}"
    )


def header_height(page: Page) -> float:
    return page.locator(".site-header").bounding_box()["height"]


@pytest.mark.parametrize(("locale", "width"), [("en-GB", 320), ("lt", 375)])
def test_the_phone_header_folds_and_opens_by_keyboard(open_site, world, locale, width):
    words = WORDS[locale]
    site = on_phone(open_site, locale, "ona@example.org", {"width": width, "height": 640})
    page = site.page
    toggle = page.get_by_role("button", name=words["toggle"])
    log_out = page.get_by_role("button", name=words["log out"])
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", "header-tools")
    expect(log_out).to_be_hidden()
    expect(page.get_by_label(words["language"], exact=True)).to_be_hidden()
    folded = header_height(page)
    assert folded < PHONE["height"] / 5, f"the folded header is {folded}px high"

    tab_to(page, toggle)
    assert_focus_stands_out(page)  # on the grey header
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".site-header").get_by_text("Ona Petraitienė")).to_be_visible()
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
    expect(page.get_by_label(words["language"], exact=True)).to_be_visible()


@pytest.mark.parametrize("width", [320, 375])
def test_without_javascript_the_header_shows_everything(open_scriptless, world, width):
    """Nothing folds where nothing could unfold it: no button, every part shown."""
    site = on_phone(open_scriptless, "pl", "ona@example.org", {"width": width, "height": 640})
    page = site.page
    words = WORDS["pl"]
    expect(page.get_by_role("button", name=words["toggle"])).to_be_hidden()
    expect(page.get_by_label(words["language"], exact=True)).to_be_visible()
    expect(page.locator(".site-header").get_by_text("Ona Petraitienė")).to_be_visible()
    expect(page.locator("#header-tools a")).to_have_count(2)  # My data, Change password
    for link in page.locator("#header-tools a").all():
        expect(link).to_be_visible()
    expect(page.get_by_role("button", name=words["log out"])).to_be_visible()
    site.visit("/my")  # and the page fits


def focus_clear_of(page: Page, bar: Locator) -> bool:
    """True when the focused element is clear of the sticky bar; False when the bar
    is not stuck at the top (nothing to check). Fails when the bar covers it."""
    focus = page.evaluate(
        """() => { const e = document.activeElement, r = e.getBoundingClientRect();
                   return {top: r.top, bottom: r.bottom, tag: e.tagName,
                           inBar: !!e.closest('.quiz-status')}; }"""
    )
    box = bar.bounding_box()
    if focus["inBar"] or abs(box["y"]) > 0.5:  # not stuck to the top (yet, or at all)
        return False
    assert focus["top"] >= box["y"] + box["height"] - 1, (
        f"the focused {focus['tag']} at {focus['top']:.0f}–{focus['bottom']:.0f}px is "
        f"under the quiz status bar (0–{box['height']:.0f}px)"
    )
    return True


@pytest.mark.parametrize(
    ("size", "locale", "options", "sticks"),
    [
        ({"width": 320, "height": 640}, "lt", {}, True),
        ({"width": 1280, "height": 720}, "en-GB", {}, True),
        # 1280 × 720 at 400 % zoom: the bar (time, saving) would take half the window.
        ({"width": 320, "height": 180}, "pl", {"device_scale_factor": 4}, False),
        # Without JavaScript the bar's height (five lines on a phone) is not known.
        ({"width": 320, "height": 640}, "nb", {"scriptless": True}, False),
    ],
    ids=["phone", "desktop", "zoom-400", "no-javascript"],
)
def test_the_quiz_status_bar_never_covers_the_focus(
    open_site, open_scriptless, world, size, locale, options, sticks
):
    """Tab down a long quiz page and Shift+Tab back up: the browser scrolls a
    focused element clear of the bar only if the page's scroll padding says so
    (going back up, an element under the bar is otherwise "on the screen"). Where
    the bar would take more than a third of the window, or JavaScript cannot
    measure it, it does not stick at all and scrolls away with the page."""
    course, quiz = world["course"], world["quiz"]
    options = dict(options)
    opener = open_scriptless if options.pop("scriptless", False) else open_site
    site = on_phone(opener, locale, "ona@example.org", size, **options)
    page = site.page
    site.visit(f"/courses/{course.slug}/items/{quiz.id}")
    bar = page.locator(".quiz-status")
    submit = page.locator('#attempt-form button[value="submit"]')
    above_the_form = """() => !!(document.getElementById('attempt-form').compareDocumentPosition(
        document.activeElement) & Node.DOCUMENT_POSITION_PRECEDING)"""
    checked = scrolled_away = 0
    for key, at_end in (
        ("Tab", lambda: focused(submit)),
        ("Shift+Tab", lambda: page.evaluate(above_the_form)),
    ):
        for _ in range(150):
            page.keyboard.press(key)
            checked += focus_clear_of(page, bar)
            box = bar.bounding_box()
            scrolled_away += box["y"] + box["height"] <= 0
            if at_end():
                break
        else:
            pytest.fail(f"{key} never reached the end of its way")
    submit.focus()  # after keys, so :focus-visible
    assert_focus_stands_out(page)  # on the white page
    if sticks:
        assert checked >= 10, "the bar never stuck: the page is too short to test anything"
    else:
        assert checked == 0, "the bar stuck to the top"
        assert scrolled_away >= 5, "the bar never left the window: the page is too short"
