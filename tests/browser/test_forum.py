"""A course's forum in a real browser, by keyboard: a learner opens the course's
Forum and starts a thread; a second learner replies quoting it. axe-core checks
every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, tab_to
from vle.community import forums
from vle.learning import services as learning

pytestmark = pytest.mark.browser


def test_a_learner_starts_a_thread_and_another_replies_quoting_it(
    open_site, session, make_user, make_course
):
    course = make_course(title="Knitting for beginners", trainers=[make_user("trainer")])
    ann = make_user(name="Ann Learner")
    ben = make_user(name="Ben Learner")
    learning.enrol(session, ann, course)
    learning.enrol(session, ben, course)
    session.commit()

    first = open_site()
    page = first.page
    log_in_by_keyboard(first, ann.email)
    first.visit(f"/courses/{course.slug}")
    tab_to(page, page.get_by_role("link", name="Forum", exact=True))
    press_to_go(first)
    expect(page.get_by_role("heading", level=1)).to_have_text("Knitting for beginners")
    tab_to(page, page.get_by_role("link", name="New thread"))
    press_to_go(first)
    tab_to(page, page.get_by_label("Subject"))
    page.keyboard.type("Which needles?")
    tab_to(page, page.get_by_label("Message"))
    page.keyboard.type("Which size of needles do we need for the **scarf**?")
    tab_to(page, page.get_by_role("button", name="Post"))
    press_to_go(first)
    expect(page.get_by_role("heading", level=1)).to_have_text("Which needles?")
    expect(page.locator(".post-body strong")).to_have_text("scarf")

    second = open_site()
    page = second.page
    log_in_by_keyboard(second, ben.email)
    second.visit(f"/courses/{course.slug}")
    tab_to(page, page.get_by_role("link", name="Forum", exact=True))
    press_to_go(second)
    expect(page.get_by_role("cell", name="1 new post")).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Which needles?"))
    press_to_go(second)
    tab_to(page, page.get_by_role("link", name="Quote the post by Ann Learner"))
    press_to_go(second)
    expect(page.locator("blockquote")).to_contain_text("Ann Learner wrote on")
    tab_to(page, page.get_by_label("Message"))
    page.keyboard.type("Size 4 is right for the scarf.")
    tab_to(page, page.get_by_role("button", name="Reply"))
    press_to_go(second)
    reply = page.locator("article").filter(has_text="Size 4 is right")
    expect(reply.locator("blockquote")).to_contain_text("Which size of needles")
    expect(reply.get_by_role("heading", level=2)).to_contain_text("Ben Learner")


def test_a_report_reaches_the_moderators_queue(open_site, session, make_user, make_course):
    trainer = make_user("trainer", name="Tess Trainer")
    course = make_course(title="Knitting for beginners", trainers=[trainer])
    ann = make_user(name="Ann Learner")
    ben = make_user(name="Ben Learner")
    learning.enrol(session, ann, course)
    learning.enrol(session, ben, course)
    session.commit()
    forum = forums.course_forum(session, ann, course)
    thread = forums.start_thread(session, ann, forum, "Rude thread", "Rude words")
    session.commit()

    learner = open_site()
    page = learner.page
    log_in_by_keyboard(learner, ben.email)
    learner.visit(f"/network/threads/{thread.id}")
    learner.follow(page.get_by_role("link", name="Report this post by Ann Learner"))
    page.get_by_label("Reason").fill("Rude")
    learner.follow(page.get_by_role("button", name="Send report"))
    expect(page.get_by_text("the moderators will look at this post")).to_be_visible()
    learner.visit("/network/forums/")

    moderator = open_site()
    page = moderator.page
    log_in_by_keyboard(moderator, trainer.email)
    moderator.visit("/network/forums/reports")
    expect(page.get_by_text("Reason: Rude")).to_be_visible()
    moderator.follow(page.get_by_role("button", name="Hide the post"))
    expect(page.get_by_text("No reported posts are waiting.")).to_be_visible()
    moderator.visit(f"/network/threads/{thread.id}")
    expect(page.get_by_role("heading", name="Moderation")).to_be_visible()
    moderator.follow(page.get_by_role("button", name="Lock"))
    expect(page.get_by_text("This thread is locked: no one can reply to it.")).to_be_visible()


def test_a_network_administrator_creates_a_network_forum(site, make_user):
    boss = make_user("admin", network=True)
    page = site.page
    log_in_by_keyboard(site, boss.email)
    site.visit("/network/forums/")
    site.follow(page.get_by_role("link", name="New forum"))
    page.get_by_label("Title").fill("Cross-border café")
    page.get_by_label("Kind").select_option("qa")
    page.get_by_label("Lock threads after this many idle days").fill("30")
    site.follow(page.get_by_role("button", name="Create forum"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Cross-border café")
    expect(page.get_by_text("No one has started a thread here yet.")).to_be_visible()
