"""The trainer's home (/trainer/): My courses, the progress grid and its
downloads, quiz downloads, completions by hand and attempt resets."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import login, post_form
from vle.audit import AuditEntry
from vle.db import utcnow
from vle.learning import services as learning
from vle.learning.models import Completion, Enrolment, ItemProgress
from vle.quizzes.models import Answer, Attempt


def add_attempt(session, item, user, state="graded", score=0.0, passed=False, number=1):
    attempt = Attempt(
        item_id=item.id, user_id=user.id, number=number, state=state,
        submitted_at=utcnow(), graded_at=utcnow() if state == "graded" else None,
        score=score if state == "graded" else None,
        passed=passed if state == "graded" else None, question_ids=[],
    )  # fmt: skip
    session.add(attempt)
    session.commit()
    return attempt


def sheet_texts(data):
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    return [html.unescape(t) for t in re.findall(r"<t[^>]*>([^<]*)</t>", sheet)]


@pytest.fixture
def desk(session, make_user, make_org, make_quiz, enrol):
    """A trainer's quiz course (two lessons and a quiz) with three learners in two
    organisations; another trainer's course; an administrator of one organisation."""
    north = make_org(code="north", name="North")
    south = make_org(code="south", name="South")
    trainer = make_user("trainer", org=north, name="Tess Trainer")
    other = make_user("trainer", org=north, name="Otto Other")
    course, quiz = make_quiz(trainers=[trainer], lessons=2, attempts=1)
    other_course, _ = make_quiz(trainers=[other])
    ann = make_user(org=north, name="Ann Adams")
    bob = make_user(org=south, name="=Bob Formula")
    cid = make_user(org=south, name="Cid Carter")
    for learner in (ann, bob, cid):
        enrol(learner, course)
    enrol(ann, other_course)
    lessons = [i for i in course.items if i.kind == "lesson"]
    learning.complete_item(session, ann, course, lessons[0])
    learning.complete_item(session, ann, course, lessons[1])
    session.execute(
        Enrolment.__table__.update()
        .where(Enrolment.user_id == cid.id, Enrolment.course_id == course.id)
        .values(due=date.today() - timedelta(days=3))
    )
    session.commit()
    return {
        "trainer": trainer, "other": other, "course": course, "quiz": quiz,
        "other_course": other_course, "ann": ann, "bob": bob, "cid": cid,
        "north": north, "south": south, "lessons": lessons,
    }  # fmt: skip


def test_my_courses_lists_only_mine_with_counts(client, session, desk):
    add_attempt(session, desk["quiz"], desk["bob"], state="awaiting_grading")
    login(client, desk["trainer"].email)
    response = client.get("/trainer/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert desk["course"].title in page and desk["other_course"].title not in page
    row = page.split(desk["course"].title)[1].split("</tr>")[0]
    numbers = [cell.split("<")[0].split(">")[-1] for cell in row.split('class="number">')[1:]]
    assert [n.strip() or "1" for n in numbers][:1] == ["3"]  # learners
    assert ">1</a>" in row  # one essay waiting, one overdue learner
    # The navigation: My courses with the count of essays waiting.
    assert 'href="/trainer/"' in page and "My courses" in page
    nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert '<span class="count">1<span class="visually-hidden"> essay waiting' in nav


def test_navigation_hides_my_courses_from_learners_and_counts_zero(client, session, desk):
    login(client, desk["ann"].email)
    nav = client.get("/my").get_data(as_text=True).split('<nav aria-label="Main">')[1]
    assert "/trainer/" not in nav.split("</nav>")[0]
    client.post("/logout")


def test_permissions(client, session, desk, make_user, make_org):
    course, quiz = desk["course"], desk["quiz"]
    routes = [
        f"/trainer/courses/{course.slug}",
        f"/trainer/courses/{course.slug}/progress.csv",
        f"/trainer/courses/{course.slug}/quizzes/{quiz.id}/results.csv",
        f"/trainer/courses/{course.slug}/quizzes/{quiz.id}/responses.xlsx",
    ]
    posts = [f"/trainer/courses/{course.slug}/complete", f"/trainer/courses/{course.slug}/reset"]
    outsider_admin = make_user("admin", org=make_org(code="elsewhere", name="Elsewhere"))
    # A learner, the trainer of another course, an administrator of another subtree.
    for who in (desk["ann"], desk["other"], outsider_admin):
        login(client, who.email)
        if who is desk["ann"]:
            assert client.get("/trainer/").status_code == 403
        for path in routes:
            assert client.get(path).status_code in (403, 404), (who.name, path)
        for path in posts:
            data = {"learner": str(desk["bob"].id), "attempt": "1", "reason": "x"}
            assert post_form(client, path, data).status_code in (403, 404), (who.name, path)
        client.post("/logout")
    # An administrator of South sees South's learners only, and changes nothing.
    south_admin = make_user("admin", org=desk["south"])
    login(client, south_admin.email)
    page = client.get(f"/trainer/courses/{course.slug}").get_data(as_text=True)
    assert "Cid Carter" in page and "Ann Adams" not in page
    data = {"learner": str(desk["cid"].id), "reason": "Was there"}
    assert post_form(client, posts[0], data).status_code == 403
    # The trainer of the course may; a learner id of another course is not found.
    client.post("/logout")
    login(client, desk["trainer"].email)
    for path in routes:
        assert client.get(path).status_code == 200, path
    stranger = make_user(org=desk["north"])
    data = {"learner": str(stranger.id), "reason": "Was there"}
    assert post_form(client, posts[0], data).status_code == 404


def test_grid_sort_filter_and_download(client, session, desk):
    login(client, desk["trainer"].email)
    url = f"/trainer/courses/{desk['course'].slug}"
    page = client.get(url).get_data(as_text=True)
    grid = page.split('id="grid-caption"')[1].split("</table>")[0]
    assert grid.index("=Bob Formula") < grid.index("Ann Adams") < grid.index("Cid Carter")
    assert 'aria-sort="ascending"' in grid and "Done" in grid
    page = client.get(url + "?sort=progress&direction=desc").get_data(as_text=True)
    grid = page.split('id="grid-caption"')[1].split("</table>")[0]
    assert 'aria-sort="descending"' in grid
    assert grid.index("Ann Adams") < grid.index("Cid Carter")
    page = client.get(url + "?organisation=south").get_data(as_text=True)
    grid = page.split('id="grid-caption"')[1].split("</table>")[0]
    assert "Cid Carter" in grid and "Ann Adams" not in grid
    page = client.get(url + "?status=overdue").get_data(as_text=True)
    grid = page.split('id="grid-caption"')[1].split("</table>")[0]
    assert "Cid Carter" in grid and "=Bob Formula" not in grid
    bad = client.get(url + "?status=nonsense")
    assert bad.status_code == 422 and "Choose a status from the list." in bad.get_data(True)
    # CSV: filtered like the page, formula cells neutralised.
    body = client.get(url + "/progress.csv?organisation=south").get_data()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Learner", "Email", "Organisation", "Status"]
    assert rows[0][-1] == desk["quiz"].title
    names = [r[0] for r in rows[1:]]
    assert names == ["'=Bob Formula", "Cid Carter"]
    session.commit()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "report.export"))
    assert entry.actor_id == desk["trainer"].id
    assert entry.details["report"] == "progress" and entry.details["format"] == "csv"
    assert entry.details["filters"] == {"organisation": "south", "sort": "name"}
    # XLSX, headers in the user's language.
    desk["trainer"].locale = "lt"
    session.commit()
    texts = sheet_texts(client.get(url + "/progress.xlsx").get_data())
    assert texts[:3] == ["Besimokantysis", "El. paštas", "Organizacija"]
    # Text is written as text in XLSX (never a formula): no apostrophe added.
    assert "=Bob Formula" in texts and "'=Bob Formula" not in texts
    rows = list(
        csv.reader(io.StringIO(client.get(url + "/progress.csv").get_data().decode("utf-8-sig")))
    )
    assert rows[0][:4] == ["Besimokantysis", "El. paštas", "Organizacija", "Būsena"]


def test_grid_queries_fixed(client, session, desk, make_user, enrol, count_queries):
    login(client, desk["trainer"].email)
    url = f"/trainer/courses/{desk['course'].slug}"
    client.get(url)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for _ in range(4):
        learner = make_user(org=desk["south"])
        enrol(learner, desk["course"])
        learning.complete_item(session, learner, desk["course"], desk["lessons"][0])
        add_attempt(session, desk["quiz"], learner)
    session.commit()
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count, many.statements


def test_quiz_results_and_responses_download(client, session, desk):
    attempt = add_attempt(session, desk["quiz"], desk["bob"], score=40.0)
    question = session.scalar(select(Answer.question_id).limit(1)) or desk["quiz"].id
    from vle.quizzes import services as quizzes

    q = quizzes.questions_of(session, desk["quiz"])[0]
    session.add(
        Answer(attempt_id=attempt.id, question_id=q.id, value="=cmd|' /C calc'!A0", fraction=0.0)
    )
    session.commit()
    del question
    login(client, desk["trainer"].email)
    base = f"/trainer/courses/{desk['course'].slug}/quizzes/{desk['quiz'].id}"
    rows = list(
        csv.reader(io.StringIO(client.get(base + "/results.csv").get_data().decode("utf-8-sig")))
    )
    assert rows[0][0] == "Learner" and rows[1][0] == "'=Bob Formula" and rows[1][7] == "40.0"
    rows = list(
        csv.reader(io.StringIO(client.get(base + "/responses.csv").get_data().decode("utf-8-sig")))
    )
    assert rows[1][4].startswith("'=cmd")
    texts = sheet_texts(client.get(base + "/responses.xlsx").get_data())
    # In XLSX a string is written as text, never a formula: no apostrophe is needed.
    assert texts[0] == "Learner" and any(t.startswith("=cmd") for t in texts)
    assert not any(t.startswith("'=") for t in texts)


def test_manual_completion(client, session, desk, make_user):
    login(client, desk["trainer"].email)
    url = f"/trainer/courses/{desk['course'].slug}/complete"
    bob = desk["bob"]
    missing = post_form(client, url, {"learner": str(bob.id), "reason": "  "})
    assert missing.status_code == 422 and "This field is required." in missing.get_data(True)
    nobody = post_form(client, url, {"learner": "abc", "reason": "Was there"})
    assert nobody.status_code == 422 and "Choose a learner." in nobody.get_data(True)
    session.commit()
    assert session.scalar(select(Completion).where(Completion.user_id == bob.id)) is None
    done = post_form(client, url, {"learner": str(bob.id), "reason": "Face-to-face, 3 March"})
    assert done.status_code == 302
    session.commit()
    session.expire_all()
    enrolment = session.scalar(
        select(Enrolment).where(
            Enrolment.user_id == bob.id, Enrolment.course_id == desk["course"].id
        )
    )
    assert enrolment.status == "completed" and enrolment.progress == 100
    completion = session.scalar(select(Completion).where(Completion.user_id == bob.id))
    assert completion.method == "manual" and completion.reason == "Face-to-face, 3 March"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "completion.manual"))
    assert entry.actor_id == desk["trainer"].id and entry.target_id == bob.id
    assert entry.details["before"]["status"] == "not_started"
    assert entry.details["after"]["status"] == "completed"
    # The completion report shows it.
    report = client.get(f"/reports?course={desk['course'].slug}").get_data(True)
    row = report.split("=Bob Formula")[1].split("</tr>")[0]
    assert "Completed" in row and "100%" in row
    again = post_form(client, url, {"learner": str(bob.id), "reason": "Twice"})
    assert again.status_code == 422 and "already completed" in again.get_data(True)


def test_attempt_reset(client, session, desk):
    from tests.quizzes.test_views import item_url

    course, quiz, bob = desk["course"], desk["quiz"], desk["bob"]
    attempt = add_attempt(session, quiz, bob, score=20.0, passed=False)
    session.add(ItemProgress(user_id=bob.id, item_id=quiz.id, viewed_at=utcnow(), passed=False))
    session.commit()
    login(client, bob.email)
    post_form(client, f"{item_url(course, quiz)}/attempts", page=item_url(course, quiz))
    session.commit()
    assert session.scalars(select(Attempt.id).where(Attempt.user_id == bob.id)).all() == [
        attempt.id
    ]  # one attempt allowed, used: none started
    client.post("/logout")
    login(client, desk["trainer"].email)
    url = f"/trainer/courses/{course.slug}/reset"
    missing = post_form(client, url, {"attempt": str(attempt.id), "reason": ""})
    assert missing.status_code == 422
    session.commit()
    session.expire_all()
    assert session.get(Attempt, attempt.id).reset_at is None
    done = post_form(client, url, {"attempt": str(attempt.id), "reason": "Fire alarm"})
    assert done.status_code == 302
    session.commit()
    session.expire_all()
    kept = session.get(Attempt, attempt.id)
    assert kept.reset_at is not None and kept.reset_reason == "Fire alarm" and kept.score == 20.0
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "attempt.reset"))
    assert entry.actor_id == desk["trainer"].id and entry.details["before"]["score"] == 20.0
    again = post_form(client, url, {"attempt": str(attempt.id), "reason": "Again"})
    assert again.status_code in (404, 422)
    client.post("/logout")
    login(client, bob.email)
    started = post_form(client, f"{item_url(course, quiz)}/attempts", page=item_url(course, quiz))
    assert started.status_code == 303
    session.commit()
    numbers = session.scalars(
        select(Attempt.number).where(Attempt.user_id == bob.id).order_by(Attempt.number)
    ).all()
    assert numbers == [1, 2]  # the history kept


def test_an_admin_who_trains_a_course_has_my_courses(client, session, desk, make_user):
    admin = make_user("admin", org=desk["north"], network=True)
    login(client, admin.email)
    # Trains nothing, but follows every course with learners (test_admin_desk.py).
    page = client.get("/trainer/").get_data(as_text=True)
    assert "The courses you teach" not in page
    # Once among the followed courses (and in the table of every course, test_course_editing.py).
    followed = page.split("Courses with learners you administer")[1]
    assert followed.count(desk["course"].title) == 1 and desk["other_course"].title in followed
    desk["course"].trainers.append(session.merge(admin))
    session.commit()
    page = client.get("/trainer/").get_data(as_text=True)
    nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/trainer/" aria-current="page">My courses' in nav
    taught, followed = page.split("Courses with learners you administer")
    taught = taught.split("Courses of your organisations")[0]
    assert desk["course"].title in taught and desk["other_course"].title not in taught
    assert desk["course"].title not in followed and desk["other_course"].title in followed


def test_a_reset_passed_attempt_no_longer_counts_towards_progress(client, session, desk):
    course, quiz, cid = desk["course"], desk["quiz"], desk["cid"]
    learning.complete_item(session, cid, course, desk["lessons"][0])
    attempt = add_attempt(session, quiz, cid, score=100.0, passed=True)
    learning.record_result(session, cid, course, quiz, True, utcnow())
    session.commit()
    enrolment = session.scalar(
        select(Enrolment).where(Enrolment.user_id == cid.id, Enrolment.course_id == course.id)
    )
    assert enrolment.progress == 66
    login(client, desk["trainer"].email)
    url = f"/trainer/courses/{course.slug}/reset"
    assert (
        post_form(client, url, {"attempt": str(attempt.id), "reason": "Sat it for him"}).status_code
        == 302
    )
    session.commit()
    session.expire_all()
    assert session.get(Enrolment, enrolment.id).progress == 33
    row = session.scalar(
        select(ItemProgress).where(ItemProgress.user_id == cid.id, ItemProgress.item_id == quiz.id)
    )
    assert row.passed is None and row.completed_at is None


def test_bad_input_gets_a_clear_answer_and_changes_nothing(client, session, desk):
    login(client, desk["trainer"].email)
    course = desk["course"]
    assert client.get("/trainer/courses/no-such-course").status_code == 404
    lesson = desk["lessons"][0]
    base = f"/trainer/courses/{course.slug}"
    assert client.get(f"{base}/quizzes/{lesson.id}/results.csv").status_code == 404
    assert (
        client.get(f"{base}/quizzes/{desk['other_course'].items[0].id}/results.csv").status_code
        == 404
    )
    assert client.get(f"{base}/progress.pdf").status_code == 404
    long = post_form(
        client, f"{base}/complete", {"learner": str(desk["bob"].id), "reason": "x" * 501}
    )
    assert long.status_code == 422 and "500" in long.get_data(True)
    other_attempt = add_attempt(session, desk["other_course"].items[0], desk["ann"])
    foreign = post_form(client, f"{base}/reset", {"attempt": str(other_attempt.id), "reason": "No"})
    assert foreign.status_code == 404
    word = post_form(client, f"{base}/reset", {"attempt": "first", "reason": "No"})
    assert word.status_code == 422 and "Choose an attempt." in word.get_data(True)
    # An id no database column holds: the same answer, never a 500.
    huge = str(10**30)
    response = post_form(client, f"{base}/reset", {"attempt": huge, "reason": "No"})
    assert response.status_code == 422 and "Choose an attempt." in response.get_data(True)
    response = post_form(client, f"{base}/complete", {"learner": huge, "reason": "Met"})
    assert response.status_code == 422 and "Choose a learner." in response.get_data(True)
    session.commit()
    session.expire_all()
    assert session.scalar(select(Completion).where(Completion.user_id == desk["bob"].id)) is None
    assert session.get(Attempt, other_attempt.id).reset_at is None
