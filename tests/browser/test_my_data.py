"""My data's index.html opened from the disk, as a person opens it from the zip:
it fetches nothing, is in their language, passes axe and fits a 320 px screen,
and its tables that scroll on a phone are reached by keyboard."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest

from tests.browser.conftest import AXE_OPTIONS, format_violations
from tests.conftest import login, post_form
from vle.certificates import services as certificates
from vle.learning import services as learning


@pytest.mark.parametrize("locale", ["en", "lt", "pl", "nb"])
def test_the_index_page_stands_alone_and_passes_axe(
    browser, axe_source, client, session, make_user, make_course, tmp_path, locale
):
    learner = make_user(email="ona@example.org", name="Ona Petraitienė")
    learner.locale = locale
    for slug, title in (("etika", "Etika darbe"), ("teise", "Viešojo administravimo teisė")):
        course = make_course(slug=slug, title=title)
        learning.enrol(session, learner, course)
        for item in course.items:
            learning.complete_item(session, learner, course, item)
        certificates.certificate_for(session, learner, course)
    session.commit()
    login(client, "ona@example.org")
    response = post_form(client, "/my/data", page="/my/data")
    with zipfile.ZipFile(BytesIO(response.get_data())) as archive:
        archive.extractall(tmp_path)

    for width in (1280, 320):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        fetched: list[str] = []
        page.on("request", lambda request, into=fetched: into.append(request.url))
        page.goto((tmp_path / "index.html").as_uri())
        assert [url for url in fetched if not url.startswith("file://")] == []
        assert page.evaluate("document.documentElement.lang") == locale
        assert page.locator("h1").inner_text().endswith("vle")  # "Your data in vle", translated
        page.evaluate(axe_source)
        results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
        assert not results["violations"], format_violations(page.url, results["violations"])
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"the page scrolls sideways at {width} px"
        if width == 320:
            # The enrolments' table is wider than the phone: its box scrolls, and Tab reaches it.
            box = page.locator("div.scroll").first
            assert box.evaluate("el => el.scrollWidth > el.clientWidth")
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.getAttribute('role')")
            assert focused == "region"
        context.close()
