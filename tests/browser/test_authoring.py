"""Authoring in a real browser, with the keyboard alone (issue 17): a trainer
creates a course with a module, a lesson and a quiz of three question types,
previews it and publishes it; a learner then completes it. Then every
authoring page in Lithuanian (and at 320 px, where nothing may scroll
sideways). axe-core checks every page either visits."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select, update

from tests.browser.conftest import Site, no_sideways_scroll, open_header
from tests.browser.test_quiz import (
    choose_radio,
    focused,
    log_in_by_keyboard,
    press_to_go,
    question,
)
from tests.quizzes import conftest as quiz_fixtures
from vle.catalog.models import Course, Item

pytestmark = pytest.mark.browser

make_quiz = quiz_fixtures.make_quiz


def tab_to(page: Page, locator: Locator, limit: int = 400) -> None:
    """Press Tab until `locator` has the focus: it must be reachable by keyboard."""
    for _ in range(limit):
        if focused(locator):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {locator}")


def type_in(page: Page, field: Locator, text: str) -> None:
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def go(site: Site, control: Locator) -> None:
    """Tab to a link or button and press Enter: another page loads."""
    tab_to(site.page, control)
    press_to_go(site)


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def add_question(site: Site, kind: str, text: str, fill) -> None:  # type: ignore[no-untyped-def]
    page = site.page
    go(site, page.get_by_role("link", name=f"Add a question: {kind}"))
    type_in(page, page.get_by_label("Question text", exact=True), text)
    fill(page)
    go(site, page.get_by_role("button", name="Save", exact=True))
    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_be_visible()


def test_a_trainer_writes_and_publishes_a_course_and_a_learner_completes_it(
    open_site, session, make_user, make_org
):
    org = make_org(code="kaunas", name="Kaunas")
    make_user("trainer", org=org, name="Rasa Mokytoja", email="rasa@example.org")
    make_user(org=org, name="Ona Petraitienė", email="ona@example.org")
    site = open_site()
    page = site.page
    log_in_by_keyboard(site, "rasa@example.org")

    go(site, page.get_by_role("navigation", name="Main").get_by_role("link", name="My courses"))
    expect(heading(page)).to_have_text("My courses")
    go(site, page.get_by_role("link", name="New course"))
    type_in(page, page.get_by_label("Title"), "Working across borders")
    type_in(page, page.get_by_label("Summary"), "Cooperation between municipalities.")
    go(site, page.get_by_role("button", name="Create course"))
    expect(heading(page)).to_contain_text("Working across borders")

    # A lesson, previewed as learners will see it (script removed), then saved.
    go(site, page.get_by_role("link", name=re.compile(r"^Add lesson")))
    type_in(page, page.get_by_label("Title"), "Why cooperate")
    type_in(
        page,
        page.get_by_label("Text (Markdown)"),
        "## Partners\n\nShared **goals** make <script>alert(1)</script>strong networks.\n",
    )
    tab_to(page, page.get_by_role("button", name="Preview", exact=True))
    page.keyboard.press("Enter")
    preview = page.locator("#preview")
    expect(preview.locator("strong")).to_have_text("goals")
    assert "<script" not in preview.inner_html()
    go(site, page.get_by_role("button", name="Save", exact=True))
    expect(page.get_by_role("link", name=re.compile("Why cooperate")).first).to_be_visible()

    # A quiz of three question types.
    go(site, page.get_by_role("link", name=re.compile(r"^Add quiz")))
    type_in(page, page.get_by_label("Title"), "Check yourself")
    go(site, page.get_by_role("button", name="Save", exact=True))
    expect(heading(page)).to_contain_text("Check yourself")

    def single_choice(page: Page) -> None:
        type_in(page, page.get_by_label("Answer 1", exact=True), "Shared goals")
        type_in(page, page.get_by_label("Grade of answer 1 (%)"), "100")
        type_in(page, page.get_by_label("Answer 2", exact=True), "Competition")

    def true_false(page: Page) -> None:
        choose_radio(page, page.get_by_role("group", name="The right answer"), "True")

    def short_answer(page: Page) -> None:
        type_in(page, page.get_by_label("Answer 1", exact=True), "Interreg")

    add_question(site, "Single choice", "What makes a network strong?", single_choice)
    add_question(site, "True/false", "Partners share what they learn.", true_false)
    add_question(site, "Short answer", "Name the EU programme for cooperation.", short_answer)
    questions = page.get_by_role("region", name="Questions").get_by_role("listitem")
    expect(questions).to_have_count(3)

    # A question as a learner sees it.
    go(site, page.get_by_role("link", name="Preview “Question 1”"))
    expect(page.get_by_role("radio", name="Shared goals")).to_be_visible()
    go(site, page.get_by_role("link", name=re.compile(r"^Back to the quiz")))
    go(site, page.get_by_role("link", name=re.compile(r"^Back to the contents")))

    # The course as learners will see it, then published.
    go(site, page.get_by_role("link", name=re.compile(r"^Preview")))
    expect(heading(page)).to_have_text("Working across borders")
    expect(page.get_by_role("link", name="Why cooperate")).to_be_visible()
    page.go_back()
    site.audit()
    go(site, page.get_by_role("button", name="Publish"))
    expect(page.get_by_text("Published").first).to_be_visible()
    session.rollback()
    course = session.scalar(select(Course).where(Course.title == "Working across borders"))
    assert course.status == "published"
    open_header(page)
    go(site, page.get_by_role("button", name="Log out"))

    # A learner completes it.
    learner = open_site()
    page = learner.page
    log_in_by_keyboard(learner, "ona@example.org")
    learner.visit("/courses")
    go(learner, page.get_by_role("link", name="Working across borders"))
    go(learner, page.get_by_role("button", name="Enrol"))
    go(learner, page.get_by_role("link", name="Why cooperate"))
    expect(page.locator(".lesson-body strong")).to_have_text("goals")
    go(learner, page.get_by_role("button", name="Mark as complete"))
    learner.visit(f"/courses/{course.slug}")
    go(learner, page.get_by_role("link", name="Check yourself"))
    go(learner, page.get_by_role("button", name="Start attempt"))
    choose_radio(page, question(page, 1), "Shared goals")
    choose_radio(page, question(page, 2), "True")
    type_in(page, question(page, 3).get_by_role("textbox"), "interreg")
    go(learner, page.get_by_role("button", name="Submit"))
    go(learner, page.get_by_role("button", name=re.compile("Submit")))
    expect(page.get_by_text("Score: 100%")).to_be_visible()
    expect(page.get_by_text("Passed", exact=True)).to_be_visible()
    learner.visit("/my")
    expect(page.get_by_role("row").filter(has_text="Working across borders")).to_contain_text(
        "Completed"
    )


@pytest.mark.parametrize("width", [1280, 320])
def test_every_authoring_page_in_lithuanian(open_site, session, make_user, make_org, make_quiz,
                                            width):  # fmt: skip
    org = make_org(code="vilnius", name="Vilnius")
    trainer = make_user("trainer", org=org, name="Rasa Mokytoja", email="rasa@example.org")
    course, quiz = make_quiz(trainers=[trainer], lessons=1, status="draft")
    site = open_site()
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    log_in_by_keyboard(site, "rasa@example.org")
    open_header(page)
    page.get_by_label("Language", exact=True).select_option("lt")
    site.follow(page.get_by_role("button", name="Change", exact=True))
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    lesson = next(i for i in course.items if i.kind == "lesson")
    module = course.modules[0]
    sample = {"name": "notes.pdf", "sha256": "0" * 64, "type": "application/pdf", "size": 9}
    file = Item(slug="notes", position=9, prefix="09", kind="file", title="Notes",
                settings={"file": sample})  # fmt: skip
    module.items.append(file)
    session.commit()
    base = f"/trainer/courses/{course.slug}"
    paths = [
        "/trainer/",
        "/trainer/courses/new",
        "/trainer/upload",
        f"{base}/contents",
        f"{base}/settings",
        f"{base}/copy",
        f"{base}/modules/new",
        f"{base}/modules/{module.id}/edit",
        f"{base}/modules/{module.id}/items/new/lesson",
        f"{base}/modules/{module.id}/items/new/link",
        f"{base}/modules/{module.id}/files/new",
        f"{base}/modules/{module.id}/quizzes/new",
        f"{base}/items/{lesson.id}/edit",
        f"{base}/items/{lesson.id}/delete",
        f"{base}/items/{lesson.id}/move",
        f"{base}/quizzes/{quiz.id}",
        f"{base}/files/{file.id}/edit",
    ]
    for path in paths:
        response = site.visit(path)
        assert response is not None and response.status == 200, path
        expect(heading(page)).to_be_visible()
        assert "My courses" not in heading(page).inner_text(), path
        no_sideways_scroll(page)
    # Each question type's form and a question's preview.
    site.visit(f"{base}/quizzes/{quiz.id}")
    links = page.locator("a[href*='/questions/new/']")
    hrefs = [links.nth(n).get_attribute("href") for n in range(links.count())]
    assert len(hrefs) == 8, hrefs
    preview = page.locator("a[href$='/preview']").first.get_attribute("href")
    for href in [*hrefs, preview]:
        site.visit(href)
        expect(heading(page)).to_be_visible()
        no_sideways_scroll(page)
    # The conflict page: someone saves the lesson while it is open here.
    site.visit(f"{base}/items/{lesson.id}/edit")
    session.execute(update(Item).where(Item.id == lesson.id).values(version=Item.version + 1))
    session.commit()
    site.follow(page.locator("button[value=save]"))
    expect(page.locator("main form button[type=submit]")).to_have_count(2)  # keep mine, merged
    expect(page.get_by_role("table")).to_be_visible()
    no_sideways_scroll(page)
