"""Badges in a real browser (issue 16, point 10): the badge's public page, the
learner's baked image download, and the public verify page with a pasted
credential — valid, then altered — at 320 px without sideways scrolling; axe-core
on every page, in English and Lithuanian."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import no_sideways_scroll
from tests.conftest import PASSWORD
from vle.competencies.models import Badge
from vle.learning import services as learning

pytestmark = pytest.mark.browser


@pytest.fixture
def badge(app, live_server, session, make_user, make_course):
    app.config["BASE_URL"] = live_server  # the badges' URLs lead to this server
    learner = make_user(name="Ona Žemaitė", email="ona@example.org")
    course = make_course(slug="fire-safety", title="Fire safety", lessons=1, validity_months=12)
    with app.app_context():
        learning.enrol(session, learner, course)
        learning.complete_item(session, learner, course, course.items[0])
        session.commit()
    return session.scalar(select(Badge).where(Badge.user_id == learner.id))


@pytest.mark.parametrize("locale", ["en-GB", "lt"])
def test_badge_page_download_and_verify(open_site, badge, locale):
    ona = open_site(locale)
    page = ona.page
    page.set_viewport_size({"width": 320, "height": 800})
    # Signed in by the fields' names: the labels are in the page's language.
    ona.visit("/login")
    page.locator("input[name=email]").fill("ona@example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    ona.follow(page.locator("main button[type=submit]"))
    ona.visit(f"/badges/assertions/{badge.uid}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fire safety")
    expect(page.locator("h2.verified")).to_have_count(1)
    no_sideways_scroll(page)
    with page.expect_download() as download:
        page.locator(f'a[href$="/badges/assertions/{badge.uid}/baked.png"]').click()
    image = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    image.load()
    assert image.text["openbadges"].endswith(f"/badges/assertions/{badge.uid}")

    credential = page.request.get(f"{ona.base_url}/badges/assertions/{badge.uid}/credential")
    assert credential.headers["content-type"] == "application/vc+jwt"
    token = credential.text()
    ona.visit("/badges/verify")
    no_sideways_scroll(page)
    page.get_by_role("textbox").fill(token)
    ona.follow(page.locator("main").get_by_role("button"))
    expect(page.get_by_role("status").locator("h2.verified")).to_have_count(1)
    expect(page.get_by_role("status")).to_contain_text(badge.recipient_hash)
    no_sideways_scroll(page)

    head, payload, signature = token.split(".")
    page.get_by_role("textbox").fill(f"{head}.{payload}.{signature[:-4]}AAAA")
    ona.follow(page.locator("main").get_by_role("button"))
    expect(page.get_by_role("status").locator("h2.not-verified")).to_have_count(1)
    no_sideways_scroll(page)
