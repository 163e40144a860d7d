"""A file item's download (learning.item_file): for the learners enrolled in
the course and its staff, always as an attachment of the type found when it
was uploaded, never cached, never sniffed; a draft's or another course's file
does not exist; a stored name cannot reach outside the uploads folder."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login
from vle import uploads
from vle.catalog.models import Item
from vle.learning import services as learning
from vle.learning.models import Enrolment, EnrolmentStatus, ItemProgress

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def instance(app, tmp_path):
    app.instance_path = str(tmp_path)
    return tmp_path


@pytest.fixture
def add_file(session, instance):
    """add_file(course, data, name, type) -> a file item at the end of the course's first module."""

    def add(course, data=PDF, name="handbook.pdf", media_type="application/pdf", sha=None):
        module = course.modules[0]
        item = Item(
            slug=f"file-{len(module.items) + 1}",
            position=len(module.items) + 1,
            kind="file",
            title="Handbook",
            settings={
                "file": {
                    "name": name,
                    "sha256": uploads.store(instance, data) if sha is None else sha,
                    "type": media_type,
                    "size": len(data),
                }
            },
        )
        module.items.append(item)
        session.commit()
        return item

    return add


def get(client, course, item):
    response = client.get(f"/courses/{course.slug}/items/{item.id}/file")
    response.get_data()
    response.close()
    return response


@pytest.fixture
def course_with_file(make_user, make_course, add_file):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer], lessons=1)
    return trainer, course, add_file(course)


def test_an_enrolled_learner_downloads_it_with_safe_headers_and_it_counts_as_viewed(
    client, session, make_user, course_with_file
):
    _trainer, course, item = course_with_file
    learner = make_user()
    learning.enrol(session, learner, course)
    session.commit()
    login(client, learner.email)
    response = get(client, course, item)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=handbook.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    session.rollback()
    progress = session.scalar(
        select(ItemProgress).where(
            ItemProgress.user_id == learner.id, ItemProgress.item_id == item.id
        )
    )
    assert progress is not None and progress.viewed_at is not None and progress.completed_at is None
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == learner.id))
    assert enrolment.status == EnrolmentStatus.IN_PROGRESS
    assert get(client, course, item).status_code == 200  # a second download writes nothing


def test_the_item_page_offers_the_download(client, session, make_user, course_with_file):
    _trainer, course, item = course_with_file
    learner = make_user()
    learning.enrol(session, learner, course)
    session.commit()
    login(client, learner.email)
    page = client.get(f"/courses/{course.slug}/items/{item.id}").get_data(as_text=True)
    assert f'href="/courses/{course.slug}/items/{item.id}/file"' in page
    assert "Download handbook.pdf" in page and "(PDF, 1 KB)" in page


def test_a_non_ascii_name_is_sent_as_rfc_6266_filename_star(
    client, session, make_user, make_course, add_file
):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    item = add_file(course, name="Įvadas į darbą.pdf")
    login(client, trainer.email)
    disposition = get(client, course, item).headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%C4%AEvadas%20%C4%AF%20darb%C4%85.pdf" in disposition


def test_text_is_sent_as_utf_8_text(client, make_user, make_course, add_file):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    item = add_file(course, data="a,ą\n".encode(), name="list.csv", media_type="text/csv")
    login(client, trainer.email)
    response = get(client, course, item)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=list.csv"


def test_staff_download_without_enrolling(client, make_user, make_org, make_course, add_file):
    north, south = make_org(code="north"), make_org(code="south")
    trainer = make_user("trainer", org=north)
    course = make_course(trainers=[trainer])
    item = add_file(course)
    for who in (
        trainer,
        make_user("admin", org=north),  # an administrator of the trainer's organisation
        make_user("admin", org=south, network=True),
    ):
        login(client, who.email)
        assert get(client, course, item).status_code == 200, who.email
        client.get("/logout")


def test_who_is_not_enrolled_is_sent_to_the_course_page_as_on_the_item_page(
    client, make_user, make_org, course_with_file
):
    _trainer, course, item = course_with_file
    other_org = make_org(code="elsewhere")
    for who in (make_user(), make_user("trainer"), make_user("admin", org=other_org)):
        login(client, who.email)
        response = get(client, course, item)
        assert response.status_code == 302, who.email
        assert response.headers["Location"].endswith(f"/courses/{course.slug}")
        assert response.data != PDF
        client.get("/logout")


def test_anonymous_is_asked_to_sign_in(client, course_with_file):
    _trainer, course, item = course_with_file
    response = get(client, course, item)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_courses_item_or_a_lesson_is_not_found(
    client, session, make_user, make_course, add_file, course_with_file
):
    _trainer, course, item = course_with_file
    other = make_course()
    theirs = add_file(other)
    learner = make_user()
    learning.enrol(session, learner, course)
    learning.enrol(session, learner, other)
    session.commit()
    login(client, learner.email)
    assert get(client, course, theirs).status_code == 404  # the other course's id here
    assert get(client, course, course.items[0]).status_code == 404  # a lesson has no file
    assert client.get(f"/courses/{course.slug}/items/{2**31}/file").status_code == 404


def test_a_drafts_file_does_not_exist_but_for_its_editors(
    client, session, make_user, make_course, add_file
):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer], status="draft")
    item = add_file(course)
    learner = make_user()
    login(client, learner.email)
    assert get(client, course, item).status_code == 404
    client.get("/logout")
    login(client, trainer.email)
    assert get(client, course, item).status_code == 200


@pytest.mark.parametrize(
    "trick",
    ["../../../../etc/passwd", "../" + "a" * 61, "/etc/passwd", "A" * 64, ""],
)
def test_a_stored_name_cannot_reach_outside_the_uploads_folder(
    client, make_user, make_course, add_file, trick
):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    item = add_file(course, sha=trick)
    login(client, trainer.email)
    assert get(client, course, item).status_code == 404


def test_a_file_missing_on_disk_is_not_found(client, make_user, make_course, add_file):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    item = add_file(course, sha="0" * 64)
    login(client, trainer.email)
    assert get(client, course, item).status_code == 404
