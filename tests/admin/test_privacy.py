"""Personal data: a user downloads all of it; an administrator erases it while
report totals keep their counts."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_token, login, post_form
from vle.accounts import services as accounts
from vle.accounts.models import ApiToken, Organisation, User
from vle.audit import AuditEntry
from vle.certificates import services as certificates
from vle.learning import services as learning
from vle.learning.models import Completion, Enrolment
from vle.mail.models import OutboxMail
from vle.mail.services import queue_mail
from vle.quizzes.models import Answer, Attempt, Question


def _complete(session, user, course):
    learning.enrol(session, user, course)
    for item in course.items:
        learning.complete_item(session, user, course, item)
    session.commit()


def _totals(session, org):
    """What the completion report counts for an organisation subtree."""
    session.rollback()
    rows = session.execute(
        select(Enrolment.status, func.count())
        .join(User, User.id == Enrolment.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Organisation.path.startswith(org.path))
        .group_by(Enrolment.status)
    ).all()
    completions = session.scalar(
        select(func.count(Completion.id))
        .join(User, User.id == Completion.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Organisation.path.startswith(org.path))
    )
    return dict(rows), completions


def _zip_json(response):
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.namelist() == ["vle-data.json", "index.html"]
        return json.loads(archive.read("vle-data.json").decode("utf-8"))


def test_a_user_downloads_all_their_data(client, session, world, make_course):
    course = make_course(slug="etika", title="Etika darbe")
    _complete(session, world.pupil, course)
    other = make_course(slug="other")
    learning.enrol(session, world.pupil, other)
    certificate = certificates.certificate_for(session, world.pupil, course)
    question = Question(item_id=course.items[0].id, position=1, type="essay", text_html="Why?")
    attempt = Attempt(item_id=course.items[0].id, user_id=world.pupil.id, number=1)
    session.add_all([question, attempt])
    session.flush()
    session.add(Answer(attempt_id=attempt.id, question_id=question.id, value="Nes taip ąčę"))
    accounts.create_token(session, world.pupil, "phone")
    session.commit()
    login(client, "ona@example.org")
    page = client.get("/my/data").get_data(as_text=True)
    assert "Download my data" in page
    data = _zip_json(post_form(client, "/my/data", page="/my/data"))
    assert (
        data["account"]["email"] == "ona@example.org" and data["account"]["name"] == "Ona Žemaitė"
    )
    assert "password_hash" not in data["account"] and "token_hash" not in json.dumps(data)
    assert data["organisation"]["code"] == "VLN-SCH-1"
    assert data["organisation"]["within"] == ["VLN", "VLN-SCH"]
    assert {e["course"] for e in data["enrolments"]} == {"etika", "other"}
    assert len(data["progress"]) == 3 and len(data["completions"]) == 1
    assert data["certificates"][0]["code"] == certificate.display_code
    assert data["quiz_attempts"][0]["answers"][0]["value"] == "Nes taip ąčę"
    assert data["api_tokens"][0]["name"] == "phone"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.export_data"))
    assert entry.actor_id == world.pupil.id and entry.target_id == world.pupil.id


def test_the_data_download_needs_sign_in_and_a_form_token(client, world):
    assert client.get("/my/data").status_code == 302
    login(client, "ona@example.org")
    assert client.post("/my/data").status_code == 400  # no CSRF token


def test_an_admin_answers_a_subject_access_request_in_scope_only(client, world):
    login(client, "sch-admin@example.org")
    token = csrf_token(client, "/admin/users")
    data = _zip_json(client.post(f"/admin/users/{world.pupil.id}/data", data={"csrf_token": token}))
    assert data["account"]["email"] == "ona@example.org"
    assert (
        client.post(f"/admin/users/{world.krakow.id}/data", data={"csrf_token": token}).status_code
        == 404
    )


def test_erasing_a_user_anonymises_them_and_keeps_report_totals(
    client, session, world, make_course
):
    course = make_course(slug="etika")
    _complete(session, world.pupil, course)
    learning.enrol(session, world.librarian, course)
    session.commit()
    cert = certificates.certificate_for(session, world.pupil, course)
    accounts.create_token(session, world.pupil, "phone")
    accounts.update_user(
        session, world.network, world.pupil, email="ona@example.org", name="Ona Žemaitė",
        role="learner", organisation_code="VLN-SCH-1", locale="lt",
    )  # fmt: skip
    with client.application.app_context():
        queue_mail(
            session, key="trainer-note", to_address="ona@example.org", to_name="Ona Žemaitė",
            locale="lt", kind="message",
            context={"subject": "Sveiki", "body": "Iki pasimatymo", "sender_name": "Trainer"},
        )  # fmt: skip
    session.commit()
    before = _totals(session, world.vln)
    assert before == ({"completed": 1, "not_started": 1}, 1)

    login(client, "sch-admin@example.org")
    page = client.get(f"/admin/users/{world.pupil.id}/erase").get_data(as_text=True)
    assert "cannot be undone" in page
    # What erasure does, quiz answers included, and what it keeps.
    assert "erases every answer the person gave in quizzes" in page
    assert "quiz attempts with their scores" in page and "quiz results keep their counts" in page
    assert "the name, email, password and quiz answers are erased for good" in page
    # Without the confirmation box: nothing happens.
    response = post_form(client, f"/admin/users/{world.pupil.id}/erase", page="/admin/users")
    assert response.status_code == 422 and "Tick the box" in response.get_data(as_text=True)
    session.rollback()
    assert session.get(User, world.pupil.id).name == "Ona Žemaitė"
    response = post_form(
        client, f"/admin/users/{world.pupil.id}/erase", {"confirm": "y"}, page="/admin/users"
    )
    assert response.status_code == 302

    session.rollback()
    session.expire_all()
    erased = session.get(User, world.pupil.id)
    assert (
        erased.name == f"Erased user #{erased.id}" and erased.email == f"erased-{erased.id}@invalid"
    )
    assert erased.password_hash == "" and erased.locale is None and not erased.active
    assert erased.erased_at is not None
    assert session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == erased.id)) == 0
    assert session.scalar(select(func.count(OutboxMail.id))) == 0  # the mail to them, too
    # No trace of the name or email left in the audit log.
    labels = " ".join(session.scalars(select(AuditEntry.target_label)))
    assert "ona@example.org" not in labels and "Žemaitė" not in labels
    assert "user.erase" in set(session.scalars(select(AuditEntry.action)))
    # Report totals keep their counts; the certificate verifies under the anonymous name.
    assert _totals(session, world.vln) == before
    page = client.get(f"/certificates/verify/{cert.code}").get_data(as_text=True)
    assert "This certificate is valid" in page and "Žemaitė" not in page and "Erased user" in page
    # The account cannot sign in, is shown as erased, and cannot be reactivated or erased twice.
    assert "Wrong email or password" in login(
        client.application.test_client(), "ona@example.org"
    ).get_data(as_text=True)
    assert "Erased on" in client.get(f"/admin/users/{erased.id}").get_data(as_text=True)
    post_form(client, f"/admin/users/{erased.id}/reactivate", page="/admin/users")
    session.rollback()
    session.expire_all()
    assert not session.get(User, erased.id).active
    response = post_form(
        client, f"/admin/users/{erased.id}/erase", {"confirm": "y"}, page="/admin/users"
    )
    assert response.status_code == 422 and "already been erased" in response.get_data(as_text=True)
    # Erased accounts stay out of the users file.
    export = client.get("/admin/users/export.csv").get_data(as_text=True)
    assert "erased-" not in export


def test_a_scoped_admin_cannot_erase_outside_the_subtree(client, session, world):
    login(client, "sch-admin@example.org")
    response = post_form(
        client, f"/admin/users/{world.krakow.id}/erase", {"confirm": "y"}, page="/admin/users"
    )
    assert response.status_code == 404
    session.rollback()
    assert session.get(User, world.krakow.id).name == "Zofia Łącka"
    assert accounts.authenticate(session, "zofia@example.org", PASSWORD) is not None


def test_the_erase_page_says_what_happens_to_quiz_answers_in_the_admins_language(
    client, session, world
):
    world.school_admin.locale = "lt"
    session.commit()
    login(client, "sch-admin@example.org")
    page = client.get(f"/admin/users/{world.pupil.id}/erase").get_data(as_text=True)
    assert "ištrinami visi asmens atsakymai testuose" in page
    assert "testų bandymai su jų rezultatais" in page
    assert "slaptažodis ir atsakymai testuose bus ištrinti negrįžtamai" in page
