"""Notifications are read once seen: opening the notifications page (the
navigation's "Notifications") marks those it shows read, shows them as new
that once, and the navigation then counts only the ones not seen yet; older
ones are a page further. Only the viewer's own, and only for the signed in."""

from __future__ import annotations

import re

from tests.conftest import login
from tests.mail.test_notifications import _notify, rows

PAGE = "/my/notifications/all"


def unread_in_navigation(page: str) -> int:
    match = re.search(r'class="notifications-link">[^<]*<span class="count">(\d+)<', page)
    return int(match.group(1)) if match else 0


def test_opening_the_notifications_marks_those_shown_read(app, client, session, make_user):
    ona, sam = make_user(), make_user()
    _notify(app, session, ona, "test:1", title="Older course")
    _notify(app, session, ona, "test:2", title="Newer course")
    _notify(app, session, sam, "test:3", title="Sam's course")
    login(client, ona.email)
    home = client.get("/my").get_data(as_text=True)
    assert unread_in_navigation(home) == 2
    assert f'href="{PAGE}"' in home  # the navigation leads to the page

    page = client.get(PAGE).get_data(as_text=True)
    assert "<h1>Notifications</h1>" in page
    assert page.index("Newer course") < page.index("Older course")  # newest first
    assert page.count("<strong>New:</strong>") == 2  # new, this once
    assert unread_in_navigation(page) == 0  # seen: nothing left to count
    assert all(row.read_at is not None for row in rows(session, ona))
    assert rows(session, sam)[0].read_at is None  # someone else's stay as they were

    again = client.get(PAGE).get_data(as_text=True)
    assert "Newer course" in again and "Older course" in again  # still there to see
    assert "New:" not in again
    assert unread_in_navigation(client.get("/my").get_data(as_text=True)) == 0


def test_older_notifications_are_a_page_further_and_read_when_opened(
    app, client, session, make_user
):
    app.config["PAGE_SIZE"] = 3
    ona = make_user()
    for n in range(1, 6):
        _notify(app, session, ona, f"test:{n}", title=f"Course number {n}")
    login(client, ona.email)
    first = client.get(PAGE).get_data(as_text=True)
    assert [f"Course number {n}" in first for n in range(5, 0, -1)] == [True] * 3 + [False] * 2
    assert 'rel="next"' in first and 'rel="prev"' not in first
    # Only what the page showed is read: the two older wait in the count.
    assert [row.read_at is not None for row in rows(session, ona)] == [False, False] + [True] * 3
    assert unread_in_navigation(first) == 2
    second = client.get(PAGE + "?page=2").get_data(as_text=True)
    assert "Course number 2" in second and "Course number 1" in second
    assert second.count("<strong>New:</strong>") == 2
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert unread_in_navigation(second) == 0
    assert all(row.read_at is not None for row in rows(session, ona))


def test_a_page_that_is_not_there_is_not_found_and_marks_nothing(app, client, session, make_user):
    ona = make_user()
    _notify(app, session, ona, "test:1")
    login(client, ona.email)
    for page in ("0", "-1", "abc", "2", "1001", "9" * 40, "1.5"):
        assert client.get(PAGE, query_string={"page": page}).status_code == 404, page
    assert rows(session, ona)[0].read_at is None


def test_the_page_needs_a_sign_in(app, client, session, make_user):
    ona = make_user()
    _notify(app, session, ona, "test:1")
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert rows(session, ona)[0].read_at is None
