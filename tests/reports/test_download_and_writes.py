"""A report download never stops the site (issue 14, point 1).

A download streams for as long as the client takes to read it. On SQLite it once
held vle's site-wide writer lock all that time, so every quiz autosave waited for
it (seconds, then "database is locked"). Here learners save answers while a large
report downloads and is read slowly, its read transaction open: every save must
succeed, and quickly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from tests.conftest import login
from tests.quizzes.conftest import ESSAY, make_quiz  # noqa: F401 - a fixture
from vle import db
from vle.accounts.models import User
from vle.catalog.models import Course
from vle.learning.models import Enrolment
from vle.reports import services as reports
from vle.reports import writers

LEARNERS, COURSES = 250, 8  # 2,000 rows, read in batches of 25: 80 chunks and more
SAVES = 12
SAVE_WITHIN_S = 1.0  # each; generous for a busy CI machine (they take milliseconds)
READ_EVERY_S = 0.1  # a slow client: the whole download would take 8 s and more


@pytest.fixture
def large_report(session, network, make_course, monkeypatch):
    """LEARNERS x COURSES enrolments more, inserted in bulk, and small read batches, so
    that the download spans many chunks (the writers' own batch sizes, made smaller)."""
    monkeypatch.setattr(reports, "EXPORT_CHUNK", 25)
    monkeypatch.setattr(writers, "CHUNK_ROWS", 25)
    monkeypatch.setattr(writers, "FILE_CHUNK", 1024)
    school = network.orgs["SCHOOL"].id
    session.execute(
        insert(User),
        [
            {"email": f"bulk{n}@example.org", "name": f"Bulk Learner {n}", "role": "learner",
             "organisation_id": school, "password_hash": "!"}
            for n in range(LEARNERS)
        ],
    )  # fmt: skip
    courses = [make_course(slug=f"bulk-{n}", lessons=1) for n in range(COURSES)]
    learners = session.scalars(select(User.id).where(User.email.like("bulk%"))).all()
    start = datetime(2025, 6, 1, tzinfo=UTC)
    session.execute(
        insert(Enrolment),
        [
            {"user_id": user_id, "course_id": course.id, "status": "in_progress",
             "progress": 50, "enrolled_at": start + timedelta(minutes=i)}
            for i, (user_id, course) in enumerate(
                (user_id, course) for user_id in learners for course in courses
            )
        ],
    )  # fmt: skip
    session.commit()
    return len(learners) * len(courses) + 7  # and the network's own seven


@pytest.fixture
def saving_learner(client, session, network, make_quiz, token_for):  # noqa: F811
    """A learner in an open quiz attempt, saving through the API as the quiz page does."""
    course, item = make_quiz(ESSAY)
    learner = network.users["sara"]
    session.execute(
        insert(Enrolment).values(
            user_id=learner.id, course_id=course.id, enrolled_at=datetime.now(UTC)
        )
    )
    session.commit()
    headers = token_for(learner)
    response = client.post(f"/api/v1/quizzes/{item.id}/attempts", headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    attempt = response.get_json()
    question_ids = [q["id"] for q in attempt["questions"]]
    # A first save before any download: what a process does once (loading what it
    # loads lazily) is not what these tests time.
    first = client.put(
        f"/api/v1/attempts/{attempt['id']}/answers/{question_ids[0]}",
        json={"answer": "a first answer"},
        headers=headers,
    )
    assert first.status_code == 200, first.get_data(as_text=True)
    return attempt["id"], question_ids, headers


def _save_answers(app, attempt_id, question_ids, headers, results):
    saver = app.test_client()
    for n in range(SAVES):
        question = question_ids[n % len(question_ids)]
        began = time.monotonic()
        response = saver.put(
            f"/api/v1/attempts/{attempt_id}/answers/{question}",
            json={"answer": f"answer {n}"},
            headers=headers,
        )
        results.append((response.status_code, time.monotonic() - began))


def _download_while_saving(app, response, saving_learner):
    """Read the download a chunk at a time, slowly, with its read transaction open,
    while the learner saves answers; returns the body and the saves' results."""
    assert response.status_code == 200
    chunks = iter(response.response)
    body = [next(chunks), next(chunks)]  # the rows are being read now
    results: list[tuple[int, float]] = []
    saver = threading.Thread(target=_save_answers, args=(app, *saving_learner, results))
    try:
        saver.start()
        deadline = time.monotonic() + SAVES * SAVE_WITHIN_S + 5
        while saver.is_alive() and time.monotonic() < deadline:
            chunk = next(chunks, None)
            if chunk is not None:
                body.append(chunk)
            time.sleep(READ_EVERY_S)
        saves_while_open = list(results)
        finished_in_time = not saver.is_alive()
        body.extend(chunks)
    finally:
        response.close()  # ends the body's transaction: a saver held up gets in now
        saver.join(timeout=60)
    assert finished_in_time, f"answer saves held up by the download: {saves_while_open}"
    return b"".join(body), results


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_answers_save_quickly_while_the_report_page_download_streams(
    app, client, network, large_report, saving_learner, fmt
):
    rows = large_report + 1  # and the saving learner's own enrolment
    login(client, network.users["netadmin"].email)
    response = client.get(f"/reports/completion.{fmt}", buffered=False)
    data, results = _download_while_saving(app, response, saving_learner)

    assert len(results) == SAVES
    assert all(status == 200 for status, _seconds in results), results
    assert max(seconds for _status, seconds in results) < SAVE_WITHIN_S, results
    if fmt == "csv":  # the whole report, all the same
        assert data.decode("utf-8-sig").count("\r\n") == rows + 1
    elif fmt == "json":
        assert data.endswith(f'"total": {rows}}}'.encode())


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_answers_save_quickly_while_the_api_download_streams(
    app, client, network, large_report, saving_learner, token_for, fmt
):
    admin = token_for(network.users["netadmin"])
    response = client.get(f"/api/v1/reports/completion?format={fmt}", headers=admin, buffered=False)
    data, results = _download_while_saving(app, response, saving_learner)

    assert all(status == 200 for status, _seconds in results), results
    assert max(seconds for _status, seconds in results) < SAVE_WITHIN_S, results
    if fmt == "json":
        assert data.endswith(f'"total": {large_report + 1}}}'.encode())
    else:
        assert data.decode("utf-8-sig").count("\r\n") == large_report + 2


def _enrol_meanwhile(app) -> None:
    """An enrolment made by someone else (another thread, as another request would
    be) while a download streams."""
    with db.get_database(app).sessionmaker() as other:
        ethics = other.scalar(select(Course.id).where(Course.slug == "ethics"))
        late = other.scalar(select(User.id).where(User.email == "bulk0@example.org"))
        other.execute(
            insert(Enrolment).values(user_id=late, course_id=ethics, enrolled_at=datetime.now(UTC))
        )
        other.commit()


def test_a_download_reads_the_report_as_it_was_when_it_began(app, client, network, large_report):
    """The rows come from one snapshot: a write that commits while the file streams
    neither waits for it nor appears half in it."""
    login(client, network.users["netadmin"].email)
    response = client.get("/reports/completion.csv", buffered=False)
    chunks = iter(response.response)
    try:
        body = [next(chunks), next(chunks)]
        writer = threading.Thread(target=_enrol_meanwhile, args=(app,))
        writer.start()
        writer.join(timeout=SAVE_WITHIN_S * 5)
        written_meanwhile = not writer.is_alive()
        body.extend(chunks)
    finally:
        response.close()
        writer.join(timeout=60)
    assert written_meanwhile
    rows = b"".join(body).decode("utf-8-sig").splitlines()
    assert len(rows) == large_report + 1
    assert client.get("/reports/completion.csv").get_data().count(b"\r\n") == large_report + 2
