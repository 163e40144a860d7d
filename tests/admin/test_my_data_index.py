"""My data: the zip holds a readable index.html beside the JSON, in the user's
language, standing alone (no scripts, no external files), with what it holds escaped."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser

from sqlalchemy import select

from tests.conftest import login, post_form
from vle.certificates import services as certificates
from vle.learning import services as learning
from vle.quizzes.models import Answer, Attempt, AttemptState, Question


class _Page(HTMLParser):
    """The page's text and the tags it uses."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _index(response) -> tuple[str, _Page]:
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert set(archive.namelist()) == {"vle-data.json", "index.html"}
        html = archive.read("index.html").decode("utf-8")
    page = _Page()
    page.feed(html)
    return html, page


def _quiz_attempt(session, user, course, score):
    item = course.items[0]
    question = Question(item_id=item.id, position=1, type="essay", text_html="Kodėl?")
    attempt = Attempt(
        item_id=item.id, user_id=user.id, number=1, state=AttemptState.GRADED, score=score
    )
    session.add_all([question, attempt])
    session.flush()
    session.add(Answer(attempt_id=attempt.id, question_id=question.id, value="<b>Nes</b>"))


def test_the_zip_holds_a_readable_page_of_the_users_data(
    app, client, session, make_user, make_course
):
    app.config["BASE_URL"] = "https://mokymai.example.lt"
    learner = make_user(email="jonas@example.org", name="Jonas <script>alert(1)</script>")
    course = make_course(slug="etika", title="Etika darbe")
    learning.enrol(session, learner, course)
    for item in course.items:
        learning.complete_item(session, learner, course, item)
    certificate = certificates.certificate_for(session, learner, course)
    _quiz_attempt(session, learner, course, 87.5)
    session.commit()
    login(client, "jonas@example.org")
    html, page = _index(post_form(client, "/my/data", page="/my/data"))
    text = " ".join(" ".join(page.text).split())
    assert "Jonas <script>alert(1)</script>" in text  # shown as text …
    assert "<script>" not in html and "&lt;script&gt;" in html  # … never as markup
    assert "<b>Nes</b>" not in html and "&lt;b&gt;Nes&lt;/b&gt;" in html
    assert "jonas@example.org" in text
    assert "Etika darbe" in text
    assert "87.5%" in text
    assert "Your data in vle" in text and "Certificates" in text
    links = [attrs.get("href") for tag, attrs in page.tags if tag == "a"]
    assert f"https://mokymai.example.lt/certificates/verify/{certificate.display_code}" in links
    # It stands alone: no scripts, no files fetched from anywhere, no inline handlers.
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "img", "iframe")]
    assert not re.search(r"\son\w+=", html)
    assert [tag for tag, _ in page.tags if tag in ("h1", "h2")][:2] == ["h1", "h2"]


def test_the_page_is_in_the_users_language(client, session, make_user, make_course):
    learner = make_user(email="ona@example.org", name="Ona Žemaitė")
    learner.locale = "lt"
    course = make_course(title="Etika darbe")
    learning.enrol(session, learner, course)
    session.commit()
    login(client, "ona@example.org")
    html, page = _index(post_form(client, "/my/data", page="/my/data"))
    assert '<html lang="lt">' in html
    assert "Etika darbe" in " ".join(page.text)


def _cells(html: str, section: str) -> list[list[str]]:
    """The rows of the first table after the heading whose id is `section`, as text."""
    part = html.split(f'id="{section}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", part, re.S)
    return [
        [" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in re.findall(
            r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in rows
    ]  # fmt: skip


def test_the_page_says_in_words_what_the_json_holds_in_codes(
    app, client, session, make_user, make_course
):
    """The role, the language and the courses are named as a person reads them, in
    their language; every enrolment, completion and certificate of the JSON is a row."""
    app.config["BASE_URL"] = "https://mokymai.example.lt"
    learner = make_user("trainer", email="ona@example.org", name="Ona Žemaitė")
    learner.locale = "lt"
    ethics = make_course(slug="etika", title="Etika darbe")
    law = make_course(slug="teise", title="Viešojo administravimo teisė")
    for course in (ethics, law):
        learning.enrol(session, learner, course)
        for item in course.items:
            learning.complete_item(session, learner, course, item)
        certificates.certificate_for(session, learner, course)
    session.commit()
    login(client, "ona@example.org")
    response = post_form(client, "/my/data", page="/my/data")
    html, _page = _index(response)
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        data = json.loads(archive.read("vle-data.json"))

    profile = dict(_cells(html, "profile"))
    assert profile["Vardas ir pavardė"] == "Ona Žemaitė"  # a person's name, not "Pavadinimas"
    assert profile["Vaidmuo"] == "lektorius"  # not the code "trainer"
    assert profile["Kalba"] == "Lietuvių"  # not the code "lt"
    titles = {"etika": "Etika darbe", "teise": "Viešojo administravimo teisė"}
    enrolments = _cells(html, "enrolments")[1:]
    assert sorted(row[0] for row in enrolments) == sorted(
        e["course_title"] for e in data["enrolments"]
    )
    completions = _cells(html, "completions")[1:]
    assert sorted(row[0] for row in completions) == sorted(
        titles[c["course"]] for c in data["completions"]
    )  # the course's title, not its slug
    certificate_rows = _cells(html, "certificates")[1:]
    assert sorted((row[0], row[1]) for row in certificate_rows) == sorted(
        (titles[c["course"]], c["code"]) for c in data["certificates"]
    )
    assert len(certificate_rows) == 2


def test_a_table_that_scrolls_on_a_phone_is_reached_by_keyboard_and_named(
    client, session, make_user, make_course
):
    learner = make_user(email="jonas@example.org")
    learning.enrol(session, learner, make_course(title="Etika darbe"))
    session.commit()
    login(client, "jonas@example.org")
    html, page = _index(post_form(client, "/my/data", page="/my/data"))
    boxes = [
        attrs for tag, attrs in page.tags if tag == "div" and "scroll" in (attrs.get("class") or "")
    ]
    assert boxes and all(
        box.get("tabindex") == "0" and box.get("role") == "region" and box.get("aria-label")
        for box in boxes
    )
    assert any(box["aria-label"] == "Enrolments and progress" for box in boxes)


def test_times_are_in_the_users_time_zone_also_when_an_administrator_downloads(
    client, session, make_user, make_course
):
    """A subject access request answered by an administrator: the page is the
    user's — their language and their time zone — not the administrator's."""
    from datetime import UTC, datetime

    from vle.learning.models import Enrolment

    learner = make_user(email="ingrid@example.org", name="Ingrid Solberg")
    learner.locale, learner.timezone = "nb", "America/New_York"
    make_user("admin", email="admin@example.org", network=True)
    learning.enrol(session, learner, make_course(title="Etikk"))
    enrolment = session.scalar(select(Enrolment))
    enrolment.enrolled_at = datetime(2026, 1, 15, 3, 30, tzinfo=UTC)  # 14 Jan 22:30 in New York
    session.commit()
    login(client, "admin@example.org")
    response = post_form(
        client, f"/admin/users/{learner.id}/data", page=f"/admin/users/{learner.id}"
    )
    html, _page = _index(response)
    assert '<html lang="nb">' in html
    enrolled = _cells(html, "enrolments")[1][3]
    assert enrolled.startswith("14. januar 2026") and "22:30" in enrolled, enrolled
