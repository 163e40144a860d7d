"""Who sees a course's learners' answers (PRODUCT.md §1 Roles): its trainers and
network admins see everyone's; an admin scoped to an organisation sees those of
the learners inside their subtree — on the results page, a learner's attempt
(page and API) and the grading queue — and never anyone else's. Only the
course's trainers (and network admins) mark essays.

VLN (municipality)                   KRA (another partner)
├── VLN-SCH (a school)               └── (Zofia)
│   └── VLN-SCH-1 (Ona)
└── VLN-LIB (Liudas)
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import login, post_form
from tests.quizzes.conftest import ESSAY, GIFT, RIGHT, question_ids
from tests.quizzes.test_views import item_url
from vle.accounts import services as accounts
from vle.errors import Forbidden, NotFound
from vle.quizzes import services
from vle.quizzes.models import AnswerScope, Attempt

ONA_ESSAY = "Ona: I will ask my head teacher first."
LIUDAS_ESSAY = "Liudas: the library rules come first."
ZOFIA_ESSAY = "Zofia: zapytam kierownika."


@pytest.fixture
def world(session, make_org, make_user, make_quiz, enrol):
    """The quiz taken by three learners in three places; every essay waits."""
    vln = make_org("VLN")
    sch = make_org("VLN-SCH", parent=vln)
    branch = make_org("VLN-SCH-1", parent=sch)
    lib = make_org("VLN-LIB", parent=vln)
    kra = make_org("KRA")
    trainer = make_user("trainer", org=kra, email="trainer@example.org", name="Trainer Tomas")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    w = SimpleNamespace(
        course=course,
        item=item,
        trainer=trainer,
        network=make_user("admin", org=vln, email="net@example.org", network=True),
        school_admin=make_user("admin", org=sch, email="sch-admin@example.org"),
        kra_admin=make_user("admin", org=kra, email="kra-admin@example.org"),
        other_trainer=make_user("trainer", org=sch, email="other-trainer@example.org"),
        ona=make_user(org=branch, email="ona@example.org", name="Ona Onaitė"),
        liudas=make_user(org=lib, email="liudas@example.org", name="Liudas Biblis"),
        zofia=make_user(org=kra, email="zofia@example.org", name="Zofia Łącka"),
        attempts={},
    )
    ids = question_ids(session, item)
    answers = {
        # Ona gets every machine-graded question right; the others only the river.
        w.ona: {**{ids[t]: v for t, v in RIGHT.items()}, ids["Reflect"]: ONA_ESSAY},
        w.liudas: {ids["Capital"]: "c2", ids["River"]: "Neman", ids["Reflect"]: LIUDAS_ESSAY},
        w.zofia: {ids["Capital"]: "c3", ids["River"]: "Nemunas", ids["Reflect"]: ZOFIA_ESSAY},
    }
    for learner, values in answers.items():
        enrol(learner, course)
        attempt, _created = services.start_attempt(session, learner, course, item)
        services.save_answers(session, attempt, values)
        services.submit(session, attempt, course, item)
        session.commit()
        w.attempts[learner.email] = attempt.id
    w.ids = ids
    return w


def _grade_every_essay(session, w, mark=1.0):
    for attempt_id in w.attempts.values():
        attempt = session.get(Attempt, attempt_id)
        services.grade_essays(session, w.trainer, attempt, {w.ids["Reflect"]: (mark, "")})
    session.commit()


def _client(client, email):
    other = client.application.test_client()
    login(other, email)
    return other


def _row(page, title):
    """(learners asked, got it right) of one question on the results page."""
    match = re.search(rf"{title}</th>\s*<td>[^<]*</td>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>", page)
    assert match, f"no row for {title}"
    return int(match.group(1)), match.group(2).strip()


# --------------------------------------------------------------------------- results page


def test_a_scoped_admin_sees_the_results_of_their_subtrees_learners_only(client, session, world):
    w = world
    _grade_every_essay(session, w)
    url = f"/trainer/quizzes/{w.item.id}/results"

    trainer = _client(client, w.trainer.email).get(url).get_data(as_text=True)
    assert all(name in trainer for name in ("Ona Onaitė", "Liudas Biblis", "Zofia Łącka"))
    assert "3 learners have attempted this quiz" in trainer and "1 has passed" in trainer
    assert _row(trainer, "Capital") == (3, "33.3% (1)")
    assert _row(trainer, "River") == (3, "100% (3)")
    assert "Extra time and attempts" in trainer

    response = _client(client, w.school_admin.email).get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ona Onaitė" in page and "ona@example.org" in page
    for outside in ("Liudas", "liudas@example.org", "Zofia", "zofia@example.org"):
        assert outside not in page
    assert "1 learner has attempted this quiz" in page and "1 has passed" in page
    # The shares are over Ona alone: she got the capital right, the others did not.
    assert _row(page, "Capital") == (1, "100% (1)")
    assert _row(page, "River") == (1, "100% (1)")
    assert f"/trainer/attempts/{w.attempts['ona@example.org']}" in page
    assert f"/trainer/attempts/{w.attempts['liudas@example.org']}" not in page
    # Accommodations are the course's editors' business.
    assert "Extra time and attempts" not in page
    assert "learners of your organisation" in page

    kra = _client(client, w.kra_admin.email).get(url).get_data(as_text=True)
    assert "Zofia Łącka" in kra and "Ona" not in kra and "Liudas" not in kra
    assert _row(kra, "Capital") == (1, "0% (0)")

    network = _client(client, w.network.email).get(url).get_data(as_text=True)
    assert "3 learners have attempted this quiz" in network


def test_an_admin_whose_subtree_holds_no_learner_is_refused_the_results(
    client, session, world, make_org, make_user
):
    # The staff's one rule (quizzes.services.staff_scope), as on the trainer's
    # desk and the course's competencies: no learner of theirs, no page.
    w = world
    lonely = make_user("admin", org=make_org("OSL"), email="oslo-admin@example.org")
    page = _client(client, lonely.email).get(f"/trainer/quizzes/{w.item.id}/results")
    assert page.status_code == 403
    assert "Ona" not in page.get_data(as_text=True)


def test_learners_and_other_trainers_still_get_403_on_the_results(client, world):
    w = world
    url = f"/trainer/quizzes/{w.item.id}/results"
    for email in (w.ona.email, w.other_trainer.email):
        assert _client(client, email).get(url).status_code == 403


def test_a_draft_quiz_does_not_exist_for_a_scoped_admin(client, session, world, make_quiz, enrol):
    w = world
    course, item = make_quiz(GIFT, trainers=[w.trainer], status="draft")
    enrol(w.ona, course)
    attempt, _created = services.start_attempt(session, w.ona, course, item)
    session.commit()
    admin = _client(client, w.school_admin.email)
    assert admin.get(f"/trainer/quizzes/{item.id}/results").status_code == 404
    assert admin.get(f"/trainer/attempts/{attempt.id}").status_code == 403
    assert AnswerScope.of(w.school_admin, course).nobody
    assert AnswerScope.of(w.trainer, course).holds(w.ona)


# --------------------------------------------------------------------------- a learner's attempt


def test_a_scoped_admin_opens_an_in_scope_attempt_read_only(client, session, world):
    w = world
    ona_attempt = w.attempts["ona@example.org"]
    admin = _client(client, w.school_admin.email)
    response = admin.get(f"/trainer/attempts/{ona_attempt}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ONA_ESSAY in page and "Ona Onaitė" in page
    assert "Save marks" not in page and 'name="mark-' not in page
    assert "trainers grade essay answers." in page
    # Posting marks anyway is refused, and the essay stays unmarked.
    response = post_form(
        admin,
        f"/trainer/attempts/{ona_attempt}",
        {f"mark-{w.ids['Reflect']}": "100"},
        page="/trainer/grading",
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Attempt, ona_attempt).state == "awaiting_grading"
    with pytest.raises(Forbidden):
        services.grade_essays(
            session, w.school_admin, session.get(Attempt, ona_attempt), {w.ids["Reflect"]: (1, "")}
        )
    session.rollback()


def test_out_of_scope_attempts_are_403_by_url(client, world):
    w = world
    school_admin = _client(client, w.school_admin.email)
    for email, essay in (("liudas@example.org", LIUDAS_ESSAY), ("zofia@example.org", ZOFIA_ESSAY)):
        response = school_admin.get(f"/trainer/attempts/{w.attempts[email]}")
        assert response.status_code == 403 and essay not in response.get_data(as_text=True)
    kra_admin = _client(client, w.kra_admin.email)
    assert kra_admin.get(f"/trainer/attempts/{w.attempts['ona@example.org']}").status_code == 403
    assert kra_admin.get(f"/trainer/attempts/{w.attempts['zofia@example.org']}").status_code == 200
    assert school_admin.get("/trainer/attempts/999999").status_code == 404
    # A learner sees only her own attempts, on her own result page.
    ona = _client(client, w.ona.email)
    assert ona.get(f"/trainer/attempts/{w.attempts['ona@example.org']}").status_code == 403
    assert ona.get(f"/trainer/attempts/{w.attempts['liudas@example.org']}").status_code == 403


def test_scope_follows_the_learners_organisation(client, session, world):
    """Moved to another partner, Ona's answers leave the school admin's sight."""
    w = world
    accounts.update_user(
        session, w.network, w.ona, email=w.ona.email, name=w.ona.name, role="learner",
        organisation_code="KRA",
    )  # fmt: skip
    session.commit()
    url = f"/trainer/attempts/{w.attempts['ona@example.org']}"
    assert _client(client, w.school_admin.email).get(url).status_code == 403
    assert _client(client, w.kra_admin.email).get(url).status_code == 200


def test_trainers_and_network_admins_still_grade(client, session, world):
    w = world
    for email, attempt_email in ((w.trainer.email, "ona@example.org"),
                                 (w.network.email, "liudas@example.org")):  # fmt: skip
        staff = _client(client, email)
        url = f"/trainer/attempts/{w.attempts[attempt_email]}"
        assert "Save marks" in staff.get(url).get_data(as_text=True)
        response = post_form(staff, url, {f"mark-{w.ids['Reflect']}": "100"}, page=url)
        assert response.status_code == 303
    session.expire_all()
    assert session.get(Attempt, w.attempts["ona@example.org"]).state == "graded"
    assert session.get(Attempt, w.attempts["liudas@example.org"]).state == "graded"


# --------------------------------------------------------------------------- grading queue


def test_the_grading_queue_shows_a_scoped_admin_what_waits_in_their_subtree(client, world):
    w = world
    queue = _client(client, w.school_admin.email).get("/trainer/grading").get_data(as_text=True)
    assert "Ona Onaitė" in queue and "View attempt 1" in queue
    assert "Liudas" not in queue and "Zofia" not in queue and "Grade attempt" not in queue
    assert f"/trainer/quizzes/{w.item.id}/results" in queue

    trainer = _client(client, w.trainer.email).get("/trainer/grading").get_data(as_text=True)
    assert all(n in trainer for n in ("Ona Onaitė", "Liudas Biblis", "Zofia Łącka"))
    assert trainer.count("Grade attempt 1") == 3 and "View attempt" not in trainer

    network = _client(client, w.network.email).get("/trainer/grading").get_data(as_text=True)
    assert network.count("Grade attempt 1") == 3

    other = _client(client, w.other_trainer.email).get("/trainer/grading").get_data(as_text=True)
    assert "No answers are waiting to be graded." in other

    assert _client(client, w.ona.email).get("/trainer/grading").status_code == 403


def test_a_scoped_admin_who_trains_the_course_grades_every_learner(session, world):
    """Being the course's trainer is what grades, whatever the role."""
    w = world
    w.course.trainers.append(w.school_admin)
    session.commit()
    queue = services.grading_queue(session, w.school_admin)
    assert len(queue) == 3 and all(entry.grades for entry in queue)


# --------------------------------------------------------------------------- item page


def test_the_quiz_page_links_an_enrolled_scoped_admin_to_the_results(client, session, world, enrol):
    w = world
    enrol(w.school_admin, w.course)
    page = _client(client, w.school_admin.email).get(item_url(w.course, w.item))
    text = page.get_data(as_text=True)
    assert "Results of this quiz" in text and "For administrators" in text
    assert "Extra time and attempts" not in text
    learner = _client(client, w.ona.email).get(item_url(w.course, w.item)).get_data(as_text=True)
    assert "Results of this quiz" not in learner


# --------------------------------------------------------------------------- API


def test_the_api_reads_an_attempt_for_whoever_may_see_its_learners_answers(
    client, session, world, token_for
):
    w = world
    ona_attempt = w.attempts["ona@example.org"]
    essay = str(w.ids["Reflect"])
    for reader in (w.school_admin, w.trainer, w.network):
        response = client.get(f"/api/v1/attempts/{ona_attempt}", headers=token_for(reader))
        assert response.status_code == 200, reader.email
        body = response.get_json()
        assert body["id"] == ona_attempt and body["state"] == "awaiting_grading"
        assert body["answers"][essay] == ONA_ESSAY
        assert body["review"][essay]["outcome"] == "pending"
        assert body["url"].endswith(f"/trainer/attempts/{ona_attempt}")
    # The learner herself still gets her own shape (her result page).
    own = client.get(f"/api/v1/attempts/{ona_attempt}", headers=token_for(w.ona)).get_json()
    assert own["url"].endswith(f"/items/{w.item.id}/attempts/{ona_attempt}")


def test_the_api_tells_nothing_of_attempts_out_of_scope(client, session, world, token_for):
    w = world
    school_admin = token_for(w.school_admin)
    for email, essay in (("liudas@example.org", LIUDAS_ESSAY), ("zofia@example.org", ZOFIA_ESSAY)):
        response = client.get(f"/api/v1/attempts/{w.attempts[email]}", headers=school_admin)
        assert response.status_code == 404
        assert essay not in response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "not_found"
    for outsider in (w.kra_admin, w.other_trainer, w.liudas):
        response = client.get(
            f"/api/v1/attempts/{w.attempts['ona@example.org']}", headers=token_for(outsider)
        )
        assert response.status_code == 404, outsider.email


def test_seeing_an_attempt_over_the_api_is_not_changing_it(client, session, world, make_quiz,
                                                         enrol, token_for):  # fmt: skip
    w = world
    course, item = make_quiz(GIFT, trainers=[w.trainer])
    enrol(w.ona, course)
    attempt, _created = services.start_attempt(session, w.ona, course, item)
    session.commit()
    capital = question_ids(session, item)["Capital"]
    for reader in (w.school_admin, w.trainer, w.network):
        headers = token_for(reader)
        body = client.get(f"/api/v1/attempts/{attempt.id}", headers=headers).get_json()
        assert body["state"] == "open" and body["review"] is None  # no marks before submit
        response = client.put(
            f"/api/v1/attempts/{attempt.id}/answers/{capital}",
            json={"answer": "c1"},
            headers=headers,
        )
        assert response.status_code == 404
        assert (
            client.post(f"/api/v1/attempts/{attempt.id}/submit", headers=headers).status_code == 404
        )
    session.expire_all()
    assert session.get(Attempt, attempt.id).state == "open"
    assert services.answers_of(session, session.get(Attempt, attempt.id)) == {}


# --------------------------------------------------------------------------- services


def test_the_services_ask_the_same_scope(session, world):
    w = world
    results = services.quiz_results(session, w.school_admin, w.course, w.item)
    assert {a.user.email for a in results.attempts} == {"ona@example.org"}
    assert results.learners == 1
    with pytest.raises(Forbidden):
        services.quiz_results(session, w.ona, w.course, w.item)
    with pytest.raises(Forbidden):
        services.learners_attempt(session, w.school_admin, w.attempts["zofia@example.org"])
    with pytest.raises(NotFound):
        services.readable_attempt(session, w.school_admin, w.attempts["zofia@example.org"])
    attempt, _item, _course, own = services.readable_attempt(
        session, w.ona, w.attempts["ona@example.org"]
    )
    assert own and attempt.id == w.attempts["ona@example.org"]
    queue = services.grading_queue(session, w.school_admin)
    assert [(e.attempt.user.email, e.grades) for e in queue] == [("ona@example.org", False)]
    scopes = {
        user.email: AnswerScope.of(user, w.course)
        for user in (w.trainer, w.network, w.school_admin, w.kra_admin, w.other_trainer, w.ona)
    }
    sees = {
        email: {learner.email for learner in (w.ona, w.liudas, w.zofia) if scope.holds(learner)}
        for email, scope in scopes.items()
    }
    everyone = {"ona@example.org", "liudas@example.org", "zofia@example.org"}
    assert sees == {
        "trainer@example.org": everyone,
        "net@example.org": everyone,
        "sch-admin@example.org": {"ona@example.org"},
        "kra-admin@example.org": {"zofia@example.org"},
        "other-trainer@example.org": set(),
        "ona@example.org": set(),
    }
    # The SQL form agrees with the Python one, learner by learner.
    for email, scope in scopes.items():
        in_sql = set(
            session.scalars(
                select(Attempt.id).where(
                    Attempt.item_id == w.item.id, scope.holds_sql(Attempt.user_id)
                )
            )
        )
        assert in_sql == {w.attempts[e] for e in sees[email]}, email
    assert [email for email, scope in scopes.items() if scope.grades] == [
        "trainer@example.org",
        "net@example.org",
    ]
