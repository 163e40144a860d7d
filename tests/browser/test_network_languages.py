"""Every /network page in each of the four languages, as a learner, a trainer, an
organisation's administrator and a network administrator see it: the page says
which language it is in, its navigation and headings are in that language, and
axe-core (with the 320 px reflow check) passes on every one of them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import Site
from tests.conftest import PASSWORD
from vle.accounts.models import Organisation
from vle.community import forums
from vle.community.models import Agreement, Announcement, Event, ForumKind, Post
from vle.db import utcnow
from vle.learning import services as learning
from vle.monitoring import indicators

pytestmark = pytest.mark.browser

# Headings and navigation words the catalogues hold in every language; the test
# looks each up in the language it opens, so it follows the translators' words.
WORDS = [
    "Network",
    "Directory",
    "Forums",
    "Network directory",
    "Network forums",
    "New thread",
    "Reply",
    "Report a post",
    "Edit your post",
    "Reported posts",
    "Announcements",
    "New announcement",
    "Joint events",
    "Cooperation agreements",
    "New event",
    "New agreement",
    "New forum",
    "Search",
    "Write a subject.",
    "Network picture",
    "Monitoring",
    "Indicators",
]


def _words(app: Flask, lang: str) -> dict[str, str]:
    with app.test_request_context(), force_locale(lang):
        return {word: gettext(word) for word in WORDS}


def _network(session: Any, make_org: Any, make_user: Any, make_course: Any) -> dict[str, Any]:
    """A small network with something on every page: two partners in two
    countries, a course with a forum thread, a network and a Q&A forum, a
    reported post, an announcement, a joint event, an agreement, a snapshot."""
    network = make_org(code="net", name="Baltic network")
    vilnius = make_org(code="vilnius", name="Vilnius municipality", parent=network)
    tromso = make_org(code="tromso", name="Tromsø library", parent=network)
    for org, country, kind in ((vilnius, "LT", "municipality"), (tromso, "NO", "library")):
        row = session.get(Organisation, org.id)
        row.country, row.kind = country, kind
    session.commit()
    people = {
        "learner": make_user("learner", org=vilnius, name="Ona Petraitienė"),
        "trainer": make_user("trainer", org=tromso, name="Kari Nordmann"),
        "org_admin": make_user("admin", org=tromso, name="Tove Admin"),
        "network_admin": make_user("admin", org=network, network=True, name="Nils Network"),
    }
    learner, trainer, boss = people["learner"], people["trainer"], people["network_admin"]
    course = make_course(title="Reading together", trainers=[trainer])
    learning.enrol(session, learner, course)
    session.commit()

    course_forum = forums.course_forum(session, learner, course)
    thread = forums.start_thread(session, trainer, course_forum, "Welcome", "Say hello here.")
    session.flush()
    first = session.scalar(select(Post).where(Post.thread_id == thread.id))
    own = forums.reply(session, learner, thread, "Hello from Vilnius.")
    forums.report_post(session, learner, first, "Testing the queue")
    network_forum = forums.create_forum(session, boss, title="Cross-border café")
    forums.start_thread(session, boss, network_forum, "Summer school", "Who comes?")
    qa = forums.create_forum(session, boss, title="Ask the network", kind=ForumKind.QA)
    forums.start_thread(session, boss, qa, "How do we sign?", "Which form do we use?")

    announcement = Announcement(author_id=boss.id, title="Reading week", source="Join us.",
                                body_html="<p>Join us.</p>",
                                ends_at=utcnow() + timedelta(days=30))  # fmt: skip
    parties = [session.get(Organisation, vilnius.id), session.get(Organisation, tromso.id)]
    event = Event(title="Storytelling day", starts_on=date(2026, 3, 2), place="Tromsø",
                  countries=["LT", "NO"], joint_action=True, organisers=parties)  # fmt: skip
    agreement = Agreement(title="Reading together", signed_on=date(2026, 2, 3), parties=parties)
    session.add_all([announcement, event, agreement])
    session.flush()
    snapshot = indicators.freeze(session, boss, date(2026, 6, 30), date.today(), None)
    session.commit()
    return {
        **people,
        "course": course,
        "course_forum": course_forum.id,
        "network_forum": network_forum.id,
        "qa_forum": qa.id,
        "thread": thread.id,
        "own_post": own.id,
        "other_post": first.id,
        "announcement": announcement.id,
        "event": event.id,
        "agreement": agreement.id,
        "snapshot": snapshot.id,
    }


def _log_in(site: Site, email: str) -> None:
    page = site.page
    site.visit("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    site.navigate(lambda: page.locator("#password").press("Enter"))
    expect(page.locator("form[action$='/logout']")).to_have_count(1)


def _heading_levels(page: Any) -> list[str]:
    """Headings out of order: not one h1 first, or a level skipped on the way down."""
    levels = page.eval_on_selector_all(
        "h1, h2, h3, h4, h5, h6", "hs => hs.map(h => [Number(h.tagName[1]), h.textContent.trim()])"
    )
    wrong, previous = [], 0
    for level, text in levels:
        if (level == 1) != (previous == 0) or level > previous + 1:
            wrong.append(f"h{level} {text!r} after h{previous}")
        previous = level
    return wrong


def _pages(world: dict[str, Any]) -> dict[str, list[tuple[str, str | None]]]:
    """Per role, each page to open and the heading (a catalogue word) it shows, if fixed."""
    n = world
    return {
        "learner": [
            ("/network/", "Network directory"),
            ("/network/organisations/vilnius", None),
            ("/network/forums/", "Forums"),
            (f"/network/courses/{n['course'].slug}/forum", None),
            (f"/network/forums/{n['network_forum']}", None),
            (f"/network/forums/{n['qa_forum']}", None),
            (f"/network/threads/{n['thread']}", None),
            (f"/network/forums/{n['course_forum']}/new", "New thread"),
            (f"/network/threads/{n['thread']}/reply", "Reply"),
            (f"/network/posts/{n['own_post']}/edit", "Edit your post"),
            (f"/network/posts/{n['other_post']}/report", "Report a post"),
            ("/network/announcements", "Announcements"),
            ("/network/events", "Joint events"),
            (f"/network/events/{n['event']}", None),
            ("/network/agreements", "Cooperation agreements"),
            (f"/network/agreements/{n['agreement']}", None),
            ("/network/search?q=reading", "Search"),
            ("/network/picture", "Network picture"),
        ],
        "trainer": [
            ("/network/forums/reports", "Reported posts"),
            (f"/network/threads/{n['thread']}", None),
            ("/network/announcements/new", "New announcement"),
        ],
        "org_admin": [
            ("/network/organisations/tromso/edit", None),
            ("/network/announcements/new", "New announcement"),
            ("/network/monitoring", "Monitoring"),
        ],
        "network_admin": [
            ("/network/forums/new", "New forum"),
            ("/network/events/new", "New event"),
            (f"/network/events/{n['event']}/edit", None),
            ("/network/agreements/new", "New agreement"),
            (f"/network/agreements/{n['agreement']}/edit", None),
            (f"/network/agreements/{n['agreement']}/delete", None),
            (f"/network/events/{n['event']}/delete", None),
            (f"/network/announcements/{n['announcement']}/edit", None),
            (f"/network/announcements/{n['announcement']}/delete", None),
            ("/network/monitoring", "Monitoring"),
            ("/network/monitoring/indicators", "Indicators"),
            (f"/network/monitoring/snapshots/{n['snapshot']}", None),
        ],
    }


@pytest.mark.parametrize("lang", ["en", "lt", "pl", "nb"])
def test_every_network_page_in_each_language(
    lang, app, open_site, session, make_org, make_user, make_course
):
    world = _network(session, make_org, make_user, make_course)
    words = _words(app, lang)
    if lang != "en":  # the words checked are really translated, so the checks can tell
        assert words["Network directory"] != "Network directory"
        assert words["Reported posts"] != "Reported posts"
    for role, pages in _pages(world).items():
        site = open_site(locale=lang)  # the browser asks for the language
        page = site.page
        _log_in(site, world[role].email)
        for path, heading in pages:
            response = site.visit(path)
            assert response is not None and response.status == 200, (role, path)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            # The network's own navigation, named and worded in the language.
            subnav = page.get_by_role("navigation", name=words["Network"], exact=True)
            expect(subnav.get_by_role("link", name=words["Forums"], exact=True)).to_be_visible()
            # Monitoring is offered to those it opens to: administrators.
            expect(subnav.get_by_role("link", name=words["Monitoring"], exact=True)).to_have_count(
                1 if world[role].is_admin else 0
            )
            assert _heading_levels(page) == [], (role, path)
            if heading:
                expect(page.get_by_role("heading", level=1)).to_have_text(words[heading])
        if role == "learner":
            # An empty thread is refused with a message in the language.
            site.visit(f"/network/forums/{world['course_forum']}/new")
            site.follow(page.locator("form[enctype] button[type=submit]"))
            expect(page.get_by_role("alert")).to_contain_text(words["Write a subject."])
            # Subscribing to a thread answers on the thread's page, in the language.
            site.visit(f"/network/threads/{world['thread']}")
            form = page.locator("form.subscription-form").first
            form.get_by_role("radio").last.check()
            site.follow(form.get_by_role("button"))
            expect(page.locator("html")).to_have_attribute("lang", lang)
