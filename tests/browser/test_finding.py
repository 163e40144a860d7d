"""Finding a course and one's way in it, in a real browser with axe-core on every
page: a folded search, "Lesson 3 of N", the course index, Mark as complete's
message, and an enrolment key refused then accepted, revealed by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_learner import expect_status
from tests.browser.test_quiz import focused, log_in_by_keyboard, press_to_go, tab_to
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_search_open_a_lesson_use_the_index_and_complete_it(site, session, make_user, make_course):
    course = make_course(slug="lodz", title="Współpraca w Łódź", modules=2, lessons=3)
    course.language = "pl"
    make_course(title="Samarbeid i Tromsø")
    session.commit()
    learner = make_user(name="Ona Petraitienė")
    page = site.page
    log_in_by_keyboard(site, learner.email)

    site.visit("/courses")
    page.get_by_label("Search").fill("lodz")
    page.get_by_label("Course language").select_option(label="Polish")
    site.follow(page.get_by_role("button", name="Search"))
    expect_status(page, "1 course in Polish matches “lodz”.")
    expect(page.get_by_role("link", name="Samarbeid i Tromsø")).to_have_count(0)
    expect(page.get_by_text("Language: Polish")).to_be_visible()
    site.follow(page.get_by_role("link", name="Współpraca w Łódź"))
    site.follow(page.get_by_role("button", name="Enrol"))

    site.follow(page.get_by_role("link", name="Lesson 1.3"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson 1.3")
    expect(page.get_by_text("Lesson 3 of 6")).to_be_visible()
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link")).to_have_text(
        ["Courses", "Współpraca w Łódź", "Module 1", "Lesson 1.3"]
    )

    # The course index opens by keyboard and marks where the learner is.
    index = page.get_by_role("navigation", name="Course contents")
    expect(index).to_be_hidden()
    tab_to(page, page.get_by_text("Course contents", exact=True))
    page.keyboard.press("Enter")
    expect(index).to_be_visible()
    current = index.get_by_role("link", name="Lesson 1.3")
    expect(current).to_have_attribute("aria-current", "page")
    expect(index.locator("ol > li").filter(has_text="(not done)")).to_have_count(6)

    site.follow(page.get_by_role("button", name="Mark as complete"))
    expect_status(page, "“Lesson 1.3” marked as complete. Next: “Lesson 2.1”.")
    # The page opens on what was done: a screen reader reads it first.
    expect(page.locator(".messages")).to_be_focused()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson 2.1")
    expect(page.get_by_text("Lesson 4 of 6")).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb").get_by_role("link")).to_contain_text(
        ["Module 2"]
    )


def test_enrolment_key_wrong_then_right_revealed_by_keyboard(site, session, make_user, make_course):
    course = make_course(slug="keyed", title="Cross-border cooperation", key="Vilnius-2026")
    course.enrolment_key_hint = "In your invitation e-mail."
    session.commit()
    learner = make_user()
    page = site.page
    log_in_by_keyboard(site, learner.email)
    site.visit("/courses/keyed")

    key = page.get_by_label("Enrolment key")
    expect(key).to_have_attribute("type", "password")
    expect(key).to_have_accessible_description("In your invitation e-mail.")
    tab_to(page, key)
    page.keyboard.type("wrong key")
    press_to_go(site, "Enter")
    # The course page again (GET: a refresh repeats nothing), the error on the field.
    expect(page).to_have_url(site.base_url + "/courses/keyed")
    key = page.get_by_label("Enrolment key")
    expect(key).to_have_attribute("aria-invalid", "true")
    expect(key).to_have_accessible_description(
        "In your invitation e-mail. The enrolment key is not correct."
    )
    site.navigate(page.reload)
    expect(page.get_by_label("Enrolment key")).not_to_have_attribute("aria-invalid", "true")

    # Show key, by keyboard: the typed key can be checked before sending it.
    key = page.get_by_label("Enrolment key")
    tab_to(page, key)
    page.keyboard.type("Vilnius-2026")
    reveal = page.get_by_role("checkbox", name="Show key")
    tab_to(page, reveal)
    page.keyboard.press("Space")
    expect(reveal).to_be_checked()
    expect(key).to_have_attribute("type", "text")
    expect(key).to_have_value("Vilnius-2026")
    page.keyboard.press("Space")
    expect(key).to_have_attribute("type", "password")
    tab_to(page, page.get_by_role("button", name="Enrol"))
    assert focused(page.get_by_role("button", name="Enrol"))
    press_to_go(site, "Enter")
    expect_status(page, "You are enrolled in Cross-border cooperation.")
    expect(page.get_by_label("Enrolment key")).to_have_count(0)


# The folding cases of issue 18 and the course each finds, whatever the case typed.
FOLDED = [
    ("istaigu", "VIEŠŲJŲ ĮSTAIGŲ VADYBA"),
    ("ĮSTAIGŲ", "VIEŠŲJŲ ĮSTAIGŲ VADYBA"),
    ("lodz", "Współpraca w Łódź"),
    ("ŁÓDŹ", "Współpraca w Łódź"),
    ("tromso", "Samarbeid i Tromsø"),
    ("TROMSØ", "Samarbeid i Tromsø"),
    ("pirkimai", "VIEŠŲJŲ ĮSTAIGŲ VADYBA"),  # only in a lesson's title
]
# Each language's name for Polish, as a card and the filter say it.
POLISH = {"en-GB": "Polish", "lt": "Lenkų", "pl": "Polski", "nb": "Polsk"}


@pytest.fixture
def three_languages(session, make_course):
    for slug, title, language in (
        ("vilnius", "VIEŠŲJŲ ĮSTAIGŲ VADYBA", "lt"),
        ("lodz", "Współpraca w Łódź", "pl"),
        ("tromso", "Samarbeid i Tromsø", "nb"),
    ):
        course = make_course(slug=slug, title=title)
        course.language = language
        if slug == "vilnius":
            course.modules[0].items[1].title = "Viešieji pirkimai"
    session.commit()


@pytest.mark.parametrize("locale", ["en-GB", "lt", "pl", "nb"])
def test_the_catalogue_folds_and_filters_in_every_language(open_site, three_languages, locale):
    """Every folding case finds its course (and only it) through the search form,
    each card names its language in the reader's language, and the language
    filter combines with the search; axe-core on every page."""
    site = open_site(locale)
    page = site.page
    site.visit("/courses")
    search = page.get_by_role("search")
    cards = page.locator(".cards > li")
    for typed, title in FOLDED:
        search.get_by_role("searchbox").fill(typed)
        site.follow(search.get_by_role("button"))
        expect(cards.get_by_role("link")).to_have_text([title])
        expect(search.get_by_role("searchbox")).to_have_value(typed)  # kept to change
    # Syntax is text: a quote or a wildcard finds nothing, and never fails.
    for typed in ("%", "' OR '1'='1", '"tromso"', "*"):
        search.get_by_role("searchbox").fill(typed)
        site.follow(search.get_by_role("button"))
        expect(cards).to_have_count(0)
    search.get_by_role("searchbox").fill("")
    search.get_by_role("combobox").select_option(label=POLISH[locale])
    site.follow(search.get_by_role("button"))
    expect(cards.get_by_role("link")).to_have_text(["Współpraca w Łódź"])
    expect(cards.first).to_contain_text(POLISH[locale])
    search.get_by_role("searchbox").fill("tromso")
    site.follow(search.get_by_role("button"))
    expect(cards).to_have_count(0)
    expect(search.get_by_role("combobox")).to_have_value("pl")


def test_the_course_index_sits_beside_the_lesson_and_folds_on_a_phone(
    site, session, make_user, make_course
):
    make_course(slug="ethics", title="Ethics at work", modules=2, lessons=3)
    log_in_by_keyboard(site, make_user().email)
    page = site.page
    site.visit("/courses/ethics")
    site.follow(page.get_by_role("button", name="Enrol"))
    site.follow(page.get_by_role("link", name="Lesson 2.1"))
    index = page.locator("details.course-index")
    article = page.locator("article")
    contents = page.get_by_role("navigation", name="Course contents")

    page.set_viewport_size({"width": 1280, "height": 800})
    expect(contents).to_be_hidden()  # folded until asked for
    page.get_by_text("Course contents", exact=True).click()
    expect(contents).to_be_visible()
    beside, lesson = index.bounding_box(), article.bounding_box()
    assert beside["x"] >= lesson["x"] + lesson["width"], "the index is not beside the lesson"
    assert beside["y"] < lesson["y"] + lesson["height"], "the index is not level with the lesson"
    # Numbered across modules, as "Lesson 4 of 6" counts; the current one marked.
    current = contents.get_by_role("link", name="Lesson 2.1")
    expect(current).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Lesson 4 of 6")).to_be_visible()
    assert (
        current.evaluate(
            "a => a.closest('ol').start + [...a.closest('ol').children].indexOf(a.closest('li'))"
        )
        == 4
    )

    page.set_viewport_size({"width": 320, "height": 640})
    above = index.bounding_box()
    lesson = article.bounding_box()
    assert above["y"] + above["height"] <= lesson["y"], "on a phone the index sits above, folded"
    assert above["width"] == pytest.approx(lesson["width"], abs=1)
    page.get_by_text("Course contents", exact=True).click()
    expect(contents).to_be_hidden()  # and folds again
    site.audit()  # at 320 px: axe, and nothing scrolls sideways


def test_without_javascript_the_key_is_a_password_field_and_the_index_still_opens(
    browser, live_server, session, make_user, make_course
):
    """No script: no Show key (nothing that would not work), a wrong key comes
    back as a page (a refresh repeats nothing), the index opens (details).
    axe-core needs scripts: these pages are checked with them in the tests above."""
    course = make_course(slug="keyed", title="Cross-border cooperation", key="Vilnius-2026")
    course.enrolment_key_hint = "In your invitation e-mail."
    session.commit()
    learner = make_user()
    context = browser.new_context(locale="nb", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()

        def go(action):
            with page.expect_navigation():
                action()

        page.goto(live_server + "/login")
        page.locator("#email").fill(learner.email)
        page.locator("#password").fill(PASSWORD)
        go(lambda: page.locator("#password").press("Enter"))
        page.goto(live_server + "/courses/keyed")
        key = page.locator("#key")
        expect(key).to_have_attribute("type", "password")
        expect(key).to_have_accessible_description("In your invitation e-mail.")
        expect(page.locator("#key-reveal")).to_be_hidden()
        key.fill("wrong")
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.method))
        go(page.locator("form.stack button.primary").click)
        expect(page).to_have_url(live_server + "/courses/keyed")
        expect(page.locator("#key")).to_have_attribute("aria-invalid", "true")
        requests.clear()
        go(page.reload)
        assert "POST" not in requests
        expect(page.locator("#key")).not_to_have_attribute("aria-invalid", "true")
        page.locator("#key").fill("Vilnius-2026")
        go(page.locator("form.stack button.primary").click)
        expect(page.locator("#key")).to_have_count(0)
        go(page.locator(".items a").nth(1).click)
        contents = page.locator(".course-index nav")
        expect(contents).to_be_hidden()
        page.locator(".course-index summary").click()
        expect(contents).to_be_visible()
        expect(contents.locator("[aria-current=page]")).to_have_text("Lesson 1.2")
    finally:
        context.close()
