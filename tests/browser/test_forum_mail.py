"""Forum posts by mail, end to end: a learner posts in a course forum; once the
30 minutes are over the worker's task mails a second learner, subscribed, at a
real SMTP server; that learner unsubscribes with one click (the mail program's
List-Unsubscribe-Post request, without a session), then opens the link's page.
axe-core checks every page."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, tab_to
from vle.community import forum_mail, forums
from vle.community.models import Delivery, Post, Subscription
from vle.db import utcnow
from vle.learning import services as learning

pytestmark = pytest.mark.browser


def test_a_subscriber_gets_the_post_by_mail_and_unsubscribes_with_one_click(
    app, open_site, live_server, session, make_user, make_course, smtp_server
):
    app.config["BASE_URL"] = live_server  # the mail's links lead to this server
    course = make_course(title="Knitting for beginners", trainers=[make_user("trainer")])
    ann = make_user(name="Ann Learner")
    ben = make_user(name="Ben Learner")
    learning.enrol(session, ann, course)
    learning.enrol(session, ben, course)
    session.commit()
    forum = forums.course_forum(session, ann, course)
    forums.set_subscription(session, ben, Delivery.EACH, forum)
    session.commit()

    site = open_site()
    page = site.page
    log_in_by_keyboard(site, ann.email)
    site.visit(f"/network/forums/{forum.id}")
    tab_to(page, page.get_by_role("link", name="New thread"))
    press_to_go(site)
    tab_to(page, page.get_by_label("Subject"))
    page.keyboard.type("Which needles?")
    tab_to(page, page.get_by_label("Message"))
    page.keyboard.type("Which size of needles do we need for the **scarf**?")
    tab_to(page, page.get_by_role("button", name="Post"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Which needles?")

    # Not before the 30 minutes (the author may still edit it) …
    assert forum_mail.notify_forum_posts.call_local() == 0
    assert smtp_server.messages == []
    # … then the worker's task tells Ben (not Ann) and the mail goes out.
    session.execute(update(Post).values(notify_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert forum_mail.notify_forum_posts.call_local() == 1
    [message] = smtp_server.wait_for(1)
    assert message["To"].addresses[0].addr_spec == ben.email
    assert "Which needles?" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "Which size of needles do we need for the **scarf**?" in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert link.startswith(live_server + "/mail/unsubscribe/")

    # The mail program's one-click POST: no session, no CSRF token.
    request = urllib.request.Request(  # noqa: S310 - the live server on 127.0.0.1
        link, data=b"List-Unsubscribe=One-Click", method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        assert answer.status == 200
        assert "Done:" in answer.read().decode()
    session.rollback()
    assert session.scalars(select(Subscription.delivery)).all() == ["off"]

    # The link opened in a browser: what it stops, and a button (by keyboard).
    reader = open_site()
    reader.visit(link.removeprefix(live_server))
    expect(reader.page.get_by_text("new posts in the forum")).to_be_visible()
    tab_to(reader.page, reader.page.get_by_role("button", name="Unsubscribe"))
    press_to_go(reader)
    expect(reader.page.get_by_role("status")).to_contain_text(f"Done: {ben.email}")
