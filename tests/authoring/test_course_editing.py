"""The course in the trainer's editor (issue 17 points 1, 2, 5): My courses by
status, New course, Copy, the course's settings (trainers, competencies,
versions) and publishing."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tests.competencies.world import make_framework
from tests.conftest import login, post_form
from vle.audit import AuditEntry
from vle.authoring import courses, editing
from vle.authoring.services import FieldError
from vle.catalog.models import Course, Item, Module
from vle.competencies import frameworks
from vle.competencies.frameworks import LinkSpec
from vle.errors import Forbidden, Invalid
from vle.learning import services as learning
from vle.learning.models import Completion, Enrolment, ItemProgress
from vle.quizzes import services as quizzes
from vle.quizzes.models import Attempt


def page_of(response) -> str:
    return response.get_data(as_text=True)


def audit_actions(session, course_id: int) -> list[str]:
    session.commit()  # a new read: what the requests wrote since
    session.expire_all()
    actions = list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id == course_id)
            .order_by(AuditEntry.id)
        )
    )
    session.commit()  # no snapshot held open: the next write is not refused
    return actions


def fresh(session, slug: str) -> Course:
    session.commit()  # a new read: what the requests wrote since
    session.expire_all()
    course = session.scalar(
        select(Course)
        .where(Course.slug == slug)
        .options(
            selectinload(Course.trainers), selectinload(Course.modules).selectinload(Module.items)
        )
    )
    session.commit()  # no snapshot held open: the next write is not refused
    return course


def links_now(session, course_id: int):
    session.commit()  # a new read: what the requests wrote since
    links = frameworks.links_of(session, course_id)
    session.commit()
    return links


def settings_data(course: Course, **changes) -> dict[str, str]:
    data = {
        "version": str(course.version),
        "title": course.title,
        "summary": course.summary,
        "language": course.language,
        "enrolment_key": course.enrolment_key or "",
        "enrolment_key_hint": course.enrolment_key_hint,
        "hours": "" if course.hours is None else f"{course.hours:g}",
        "issuer": str(course.issuer_id or ""),
        "starts": course.starts.isoformat() if course.starts else "",
        "ends": course.ends.isoformat() if course.ends else "",
        "validity_months": str(course.validity_months or ""),
        "completion_rule": course.completion_rule,
        "add_trainer": "",
        "add_competency": "",
        "add_outcome": "complete",
    }
    data.update(changes)
    return data


def save(client, course: Course, **changes):
    path = f"/trainer/courses/{course.slug}/settings"
    return post_form(client, path, settings_data(course, **changes), page=path)


@pytest.fixture
def people(make_org, make_user):
    city = make_org(code="city", name="City")
    school = make_org(code="school", parent=city, name="School")
    other = make_org(code="other", name="Other network")
    return {
        "city": city, "school": school, "other": other,
        "tess": make_user("trainer", org=city, email="tess@example.org", name="Tess Trainer"),
        "tom": make_user("trainer", org=school, email="tom@example.org", name="Tom Teacher"),
        "tina": make_user("trainer", org=other, email="tina@example.org", name="Tina Far"),
        "ann": make_user(org=school, email="ann@example.org", name="Ann Learner"),
        "ada": make_user("admin", org=city, email="ada@example.org", name="Ada Admin"),
        "otto": make_user("admin", org=other, email="otto@example.org", name="Otto Admin"),
        "nora": make_user("admin", org=other, email="nora@example.org", name="Nora Net",
                          network=True),
    }  # fmt: skip


# --------------------------------------------------------------------------- My courses


def test_home_groups_my_courses_by_status_with_learner_counts(
    client, session, people, make_course, enrol
):
    tess = people["tess"]
    draft = make_course(slug="d", title="Draft course", status="draft", trainers=[tess])
    live = make_course(slug="p", title="Live course", status="published", trainers=[tess])
    old = make_course(slug="a", title="Old course", status="archived", trainers=[tess])
    make_course(slug="x", title="Someone else's", trainers=[people["tina"]])
    enrol(people["ann"], live)
    login(client, tess.email)
    page = page_of(client.get("/trainer/"))
    assert "My courses" in page
    assert 'href="/trainer/courses/new">New course</a>' in page
    assert 'href="/trainer/upload">Upload .zip</a>' in page
    tables = {
        caption: body
        for caption, body in re.findall(r"<caption[^>]*>([^<]*)</caption>(.*?)</table>", page, re.S)
    }
    assert "Draft course" in tables["Drafts"] and "Live course" not in tables["Drafts"]
    assert "Live course" in tables["Published courses"]
    assert "Old course" in tables["Archived courses"]
    assert "Someone else" not in page
    live_row = tables["Published courses"].split("Live course")[1].split("</tr>")[0]
    assert re.search(r'class="number">1<', live_row)  # one learner
    for course in (draft, live, old):
        assert f'href="/trainer/courses/{course.slug}/contents">Edit' in page
        assert f'href="/trainer/courses/{course.slug}/settings">Settings' in page
        assert f'href="/trainer/courses/{course.slug}/copy">Copy' in page
    # Each link says which course it is for.
    assert 'Settings<span class="visually-hidden"> “Old course”</span>' in page


def test_an_administrator_sees_the_courses_of_their_organisations_trainers(
    client, session, people, make_course
):
    mine = make_course(slug="tom-course", title="Tom's draft", status="draft",
                       trainers=[people["tom"]])  # fmt: skip
    far = make_course(slug="far-course", title="Far away", trainers=[people["tina"]])
    login(client, people["ada"].email)
    page = page_of(client.get("/trainer/"))
    assert "Courses of your organisations' trainers" in page
    assert f'href="/trainer/courses/{mine.slug}/contents"' in page
    assert far.title not in page
    # They may read it in the editor but not change its settings.
    assert client.get(f"/trainer/courses/{mine.slug}/contents").status_code == 200
    assert save(client, mine, title="Taken over").status_code == 403
    assert fresh(session, mine.slug).title == "Tom's draft"
    client.post("/logout")
    # A network administrator sees every course, and may edit them.
    login(client, people["nora"].email)
    page = page_of(client.get("/trainer/"))
    assert "Tom&#39;s draft" in page and far.title in page
    assert f'href="/trainer/courses/{far.slug}/settings"' in page


def test_home_lists_for_an_administrator_use_a_fixed_number_of_queries(
    app, client, session, people, make_course, count_queries
):
    for n in range(3):
        make_course(slug=f"c{n}", trainers=[people["tom"]], status="draft")
    login(client, people["ada"].email)
    with count_queries() as few:
        client.get("/trainer/")
    for n in range(3, 9):
        make_course(slug=f"c{n}", trainers=[people["tom"]], status="published")
    with count_queries() as many:
        page = page_of(client.get("/trainer/"))
    assert page.count("/contents") == 9
    assert many.count == few.count


# --------------------------------------------------------------------------- New course


def test_slugs_are_derived_folded_and_made_unique(session, make_course):
    assert editing.slug_from_title("Łódź kursas", "course") == "lodz-kursas"
    assert editing.slug_from_title("Ærø – ėjimas, Straße!", "course") == "aero-ejimas-strasse"
    assert editing.slug_from_title("Ąžuolas ir ŠVIESA", "course") == "azuolas-ir-sviesa"
    assert editing.slug_from_title("  ¿?  ", "course") == "course"
    assert len(editing.slug_from_title("x" * 400, "course")) == 100
    make_course(slug="lodz-kursas")
    make_course(slug="lodz-kursas-2")
    assert courses.free_slug(session, "lodz-kursas") == "lodz-kursas-3"
    assert courses.free_slug(session, "lodz") == "lodz"


def test_new_course_makes_a_draft_with_a_first_module(client, session, people):
    login(client, people["tess"].email)
    assert client.get("/trainer/courses/new").status_code == 200
    response = post_form(
        client, "/trainer/courses/new",
        {"title": "Łódź kursas", "slug": "", "language": "pl", "summary": "<b>Bold</b> plans"},
        page="/trainer/courses/new",
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/trainer/courses/lodz-kursas/contents")
    course = fresh(session, "lodz-kursas")
    assert (course.status, course.language, course.title) == ("draft", "pl", "Łódź kursas")
    assert course.summary == "<b>Bold</b> plans"  # text, escaped when shown
    assert [t.email for t in course.trainers] == ["tess@example.org"]
    assert [(m.slug, m.title, m.prefix) for m in course.modules] == [("module-1", "Module 1", "01")]
    assert audit_actions(session, course.id) == ["authoring.course_created"]
    # The same title again: the next free slug.
    post_form(client, "/trainer/courses/new", {"title": "Łódź kursas", "language": "en"},
              page="/trainer/courses/new")  # fmt: skip
    assert fresh(session, "lodz-kursas-2") is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "", "language": "en"}, "This field is required."),
        ({"title": "T", "slug": "Bad Slug", "language": "en"}, "Use lowercase letters"),
        ({"title": "T", "slug": "taken", "language": "en"}, "Another course already has"),
        ({"title": "T", "language": "xx"}, "Not a valid choice"),
        ({"title": "T\x00", "language": "en"}, "Control characters"),
    ],
)
def test_new_course_refuses_bad_input_and_makes_nothing(
    client, session, people, make_course, data, message
):
    make_course(slug="taken")
    login(client, people["tess"].email)
    response = post_form(client, "/trainer/courses/new", data, page="/trainer/courses/new")
    assert response.status_code == 422
    assert message in html.unescape(page_of(response))
    assert session.scalar(select(func.count(Course.id))) == 1


def test_learners_may_not_make_courses(client, session, people):
    login(client, people["ann"].email)
    assert client.get("/trainer/courses/new").status_code == 403
    response = post_form(client, "/trainer/courses/new", {"title": "Mine", "language": "en"})
    assert response.status_code == 403
    assert session.scalar(select(func.count(Course.id))) == 0
    with pytest.raises(Forbidden):
        courses.create_course(session, people["ann"], None, title="Mine")


# --------------------------------------------------------------------------- Copy


@pytest.fixture
def rich_course(session, people, make_quiz, enrol):
    """A published course of a lesson and a quiz, linked to competencies (the
    course and the quiz), with a learner who completed the lesson and tried the quiz."""
    _framework, _parent, (coop, integrity) = make_framework(session)
    session.commit()
    course, quiz = make_quiz(trainers=[people["tess"]], lessons=1)
    course.summary, course.enrolment_key, course.validity_months = "About", "key1", 12
    quiz.settings = {**quiz.settings, "pass_mark": 70}
    session.commit()
    frameworks.sync_links(session, course.id, [
        (None, LinkSpec("PS-COOP", "complete")), (quiz.id, LinkSpec("PS-INT", "recommend")),
    ])  # fmt: skip
    session.commit()
    enrol(people["ann"], course)
    lesson = next(i for i in course.items if i.kind == "lesson")
    learning.complete_item(session, people["ann"], course, lesson)
    session.add(Attempt(item_id=quiz.id, user_id=people["ann"].id, number=1, state="open",
                        question_ids=[]))  # fmt: skip
    session.commit()
    return course, quiz


def test_copy_takes_the_content_and_no_learners(client, session, people, rich_course):
    course, quiz = rich_course
    login(client, people["tom"].email)  # a trainer of the same organisations, not its trainer
    assert client.get(f"/trainer/courses/{course.slug}/copy").status_code == 404
    client.post("/logout")
    login(client, people["tess"].email)
    form = page_of(client.get(f"/trainer/courses/{course.slug}/copy"))
    assert f'value="Copy of {course.title}"' in form
    response = post_form(
        client, f"/trainer/courses/{course.slug}/copy",
        {"title": f"Copy of {course.title}", "slug": ""}, page=f"/trainer/courses/{course.slug}/copy",
    )  # fmt: skip
    assert response.status_code == 302
    copy = fresh(session, editing.slug_from_title(f"Copy of {course.title}", "course"))
    assert response.headers["Location"].endswith(f"/trainer/courses/{copy.slug}/contents")
    original = fresh(session, course.slug)
    assert copy.status == "draft" and [t.email for t in copy.trainers] == ["tess@example.org"]
    assert (copy.summary, copy.enrolment_key, copy.validity_months, copy.language) == (
        "About", "key1", 12, original.language,
    )  # fmt: skip
    shape = lambda c: [  # noqa: E731
        (m.slug, m.title, [(i.slug, i.kind, i.title, i.required, i.minutes, i.source,
                             i.body_html, i.settings) for i in m.items])
        for m in c.modules
    ]  # fmt: skip
    assert shape(copy) == shape(original)
    assert {i.id for i in copy.items}.isdisjoint({i.id for i in original.items})
    copied_quiz = next(i for i in copy.items if i.kind == "quiz")
    assert [(q.position, q.type, q.title, q.text_html, q.spec)
            for q in quizzes.questions_of(session, copied_quiz)] == [
        (q.position, q.type, q.title, q.text_html, q.spec) for q in quizzes.questions_of(session, quiz)
    ]  # fmt: skip
    assert len(quizzes.questions_of(session, copied_quiz)) == 5
    assert links_now(session, copy.id) == {
        None: [LinkSpec("PS-COOP", "complete")], copied_quiz.id: [LinkSpec("PS-INT", "recommend")],
    }  # fmt: skip
    assert (
        session.scalar(select(func.count(Enrolment.id)).where(Enrolment.course_id == copy.id)) == 0
    )
    copied_items = [i.id for i in copy.items]
    assert session.scalar(select(func.count(ItemProgress.id)).where(ItemProgress.item_id.in_(copied_items))) == 0  # fmt: skip
    assert session.scalar(select(func.count(Attempt.id)).where(Attempt.item_id.in_(copied_items))) == 0  # fmt: skip
    # The original keeps its learner.
    assert (
        session.scalar(select(func.count(Enrolment.id)).where(Enrolment.course_id == course.id))
        == 1
    )
    assert audit_actions(session, copy.id) == ["authoring.course_copied"]


def test_an_administrator_who_may_read_a_course_may_copy_it(client, session, people, rich_course):
    course, _quiz = rich_course
    login(client, people["ada"].email)
    response = post_form(client, f"/trainer/courses/{course.slug}/copy",
                         {"title": "Ada's copy", "slug": "adas-copy"},
                         page=f"/trainer/courses/{course.slug}/copy")  # fmt: skip
    assert response.status_code == 302
    copy = fresh(session, "adas-copy")
    assert [t.email for t in copy.trainers] == ["ada@example.org"]
    client.post("/logout")
    login(client, people["otto"].email)  # another organisation's administrator
    assert client.get(f"/trainer/courses/{course.slug}/copy").status_code == 404


# --------------------------------------------------------------------------- settings


@pytest.fixture
def course(make_course, people):
    return make_course(slug="ethics", title="Ethics", status="draft", lessons=1,
                       trainers=[people["tess"]])  # fmt: skip


def test_settings_are_saved_and_audited_with_the_fields_changed(client, session, people, course):
    login(client, people["tess"].email)
    page = page_of(client.get(f"/trainer/courses/{course.slug}/settings"))
    assert 'name="version" type="hidden" value="1"' in page
    response = save(client, course, title="Ethics at work", enrolment_key="open-sesame",
                    starts="2027-01-10", ends="2027-03-01", validity_months="24", language="lt")  # fmt: skip
    assert response.status_code == 302
    saved = fresh(session, course.slug)
    assert (saved.title, saved.enrolment_key, saved.starts, saved.ends, saved.validity_months,
            saved.language, saved.version) == (
        "Ethics at work", "open-sesame", date(2027, 1, 10), date(2027, 3, 1), 24, "lt", 2,
    )  # fmt: skip
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "authoring.settings_saved")
    )
    assert sorted(entry.details["fields"]) == sorted(
        ["title", "enrolment_key", "starts", "ends", "validity_months", "language"]
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts": "2027-03-01", "ends": "2027-01-01"}, "The end date is before the start date."),
        ({"validity_months": "0"}, "Number must be between 1 and 600."),
        ({"validity_months": "601"}, "Number must be between 1 and 600."),
        ({"title": ""}, "This field is required."),
        ({"title": "x" * 301}, "Field cannot be longer than 300 characters."),
        ({"enrolment_key": "k" * 101}, "Field cannot be longer than 100 characters."),
        ({"language": "de"}, "Not a valid choice"),
        ({"completion_rule": "any"}, "Not a valid choice"),
        ({"starts": "01/02/2027"}, "Not a valid date value."),
        ({"summary": "ok\x00"}, "Control characters"),
        ({"hours": "0"}, "More than 0 and at most 10000 hours, to one decimal place (8 or 1.5)."),
        ({"hours": "10000.5"}, "More than 0 and at most 10000 hours"),
        ({"hours": "1.25"}, "More than 0 and at most 10000 hours"),
        ({"hours": "-3"}, "More than 0 and at most 10000 hours"),
        ({"hours": "eight"}, "Type a number of hours, such as 8 or 1.5."),
        ({"hours": "nan"}, "Type a number of hours, such as 8 or 1.5."),
        ({"issuer": "999999"}, "Not a valid choice"),
        ({"enrolment_key_hint": "h" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_settings_validation_errors_change_nothing(
    client, session, people, course, changes, message
):
    login(client, people["tess"].email)
    response = save(client, course, **{"title": "Changed", **changes})
    assert response.status_code == 422
    assert message in html.unescape(page_of(response))
    saved = fresh(session, course.slug)
    assert (saved.title, saved.version) == ("Ethics", 1)
    assert audit_actions(session, course.id) == []


def test_the_certificates_fields_are_saved_from_the_organisations_the_editor_may_name(
    client, session, people, course
):
    login(client, people["tess"].email)
    page = page_of(client.get(f"/trainer/courses/{course.slug}/settings"))
    for label in ("Length in hours", "Issuing organisation", "Enrolment key hint"):
        assert label in page
    # Tess's tree (City, School) is offered; another network's organisation is not.
    assert f'value="{people["school"].id}">School</option>' in page
    assert "Other network" not in page
    response = save(client, course, hours="1,5", issuer=str(people["school"].id),
                    enrolment_key_hint="The school's name")  # fmt: skip
    assert response.status_code == 302
    saved = fresh(session, course.slug)
    assert (saved.hours, saved.issuer_id, saved.enrolment_key_hint) == (
        1.5,
        people["school"].id,
        "The school's name",
    )
    page = page_of(client.get(f"/trainer/courses/{course.slug}/settings"))
    assert 'value="1.5"' in page
    assert f'<option selected value="{people["school"].id}">School</option>' in page
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "authoring.settings_saved")
    )
    assert sorted(entry.details["fields"]) == ["enrolment_key_hint", "hours", "issuer_id"]
    # Cleared: no length stated, the site issues.
    assert save(client, fresh(session, course.slug), hours="", issuer="").status_code == 302
    saved = fresh(session, course.slug)
    assert (saved.hours, saved.issuer_id) == (None, None)


def test_an_issuer_outside_the_editors_trees_is_refused_by_the_service(session, people, course):
    values = courses.Settings(title="Ethics", issuer_id=people["other"].id)
    with pytest.raises(FieldError, match="Choose one of the organisations offered."):
        courses.save_settings(session, people["tess"], None, course, values, course.version)
    session.rollback()
    values.issuer_id = people["other"].id
    courses.save_settings(session, people["nora"], None, course, values, course.version)
    assert course.issuer_id == people["other"].id  # a network administrator names any


def test_a_stale_save_gets_the_conflict_page_and_keep_my_version_wins(
    client, session, people, course
):
    login(client, people["tess"].email)
    opened = fresh(session, course.slug)  # the editor opened on version 1
    assert save(client, opened, title="Theirs").status_code == 302  # someone else's save
    response = save(client, opened, title="Mine")  # based on version 1
    assert response.status_code == 409
    page = page_of(response)
    assert "Someone else saved this meanwhile" in page
    assert "Mine" in page and "Theirs" in page
    assert fresh(session, course.slug).title == "Theirs"
    # "Keep my version": the page's first form, posted as it stands.
    keep = page.split("Keep my version")[0].rsplit("<form", 1)[1]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', keep))
    assert fields["version"] == "2" and fields["title"] == "Mine"
    response = client.post(f"/trainer/courses/{course.slug}/settings",
                           data={k: html.unescape(v) for k, v in fields.items()})  # fmt: skip
    assert response.status_code == 302
    assert (fresh(session, course.slug).title, fresh(session, course.slug).version) == ("Mine", 3)


def test_script_in_a_title_is_text_shown_escaped(client, session, people, course):
    login(client, people["tess"].email)
    title = '<script>alert("x")</script> Ethics'
    assert (
        save(client, course, title=title, summary="<img src=x onerror=alert(1)>").status_code == 302
    )
    saved = fresh(session, course.slug)
    assert saved.title == title
    saved.status = "published"
    session.commit()
    for path in (f"/courses/{course.slug}", "/courses", "/trainer/",
                 f"/trainer/courses/{course.slug}/settings"):  # fmt: skip
        page = page_of(client.get(path))
        assert "&lt;script&gt;alert(" in page, path
        assert '<script>alert("x")' not in page, path
        assert "<img src=x" not in page, path


def test_trainers_are_added_by_email_from_the_courses_organisations(
    client, session, people, course, make_user
):
    login(client, people["tess"].email)
    for email, message in [
        ("nobody@example.org", "No one has the e-mail address “nobody@example.org”."),
        ("ann@example.org", "ann@example.org is a learner"),
        ("tina@example.org", "belongs to an organisation outside this course's organisations"),
    ]:
        response = save(client, course, add_trainer=email)
        assert response.status_code == 422, email
        assert message in html.unescape(page_of(response)), email
    gone = make_user("trainer", org=people["school"], email="gone@example.org")
    gone.active = False
    session.commit()
    assert save(client, course, add_trainer="gone@example.org").status_code == 422
    assert [t.email for t in fresh(session, course.slug).trainers] == ["tess@example.org"]
    # A trainer of a child organisation of the same tree, in any case of letters.
    assert save(client, course, add_trainer="Tom@Example.org").status_code == 302
    saved = fresh(session, course.slug)
    assert sorted(t.email for t in saved.trainers) == ["tess@example.org", "tom@example.org"]
    page = page_of(client.get(f"/trainer/courses/{course.slug}/settings"))
    assert "Remove Tom Teacher (tom@example.org)" in page
    # Removed with its checkbox; the last trainer stays.
    tom_id, tess_id = people["tom"].id, people["tess"].id
    assert save(client, saved, **{f"remove_trainer_{tom_id}": "y"}).status_code == 302
    saved = fresh(session, course.slug)
    assert [t.email for t in saved.trainers] == ["tess@example.org"]
    response = save(client, saved, **{f"remove_trainer_{tess_id}": "y"})
    assert response.status_code == 422 and "keeps one trainer at least" in page_of(response)
    assert [t.email for t in fresh(session, course.slug).trainers] == ["tess@example.org"]


def test_a_network_administrator_adds_anyone(client, session, people, course):
    login(client, people["nora"].email)
    assert save(client, course, add_trainer="tina@example.org").status_code == 302
    saved = fresh(session, course.slug)
    assert sorted(t.email for t in saved.trainers) == ["tess@example.org", "tina@example.org"]


def test_competency_links_are_saved_with_their_outcomes(client, session, people, course):
    _framework, _parent, (coop, integrity) = make_framework(session)
    session.commit()
    item = course.items[0]
    frameworks.sync_links(session, course.id, [(item.id, LinkSpec("PS-INT", "evidence"))])
    session.commit()
    login(client, people["tess"].email)
    response = save(client, course, add_competency="NOPE")
    assert response.status_code == 422
    assert "There is no competency with the code “NOPE”." in page_of(response)
    assert (
        save(client, course, add_competency="PS-COOP", add_outcome="recommend").status_code == 302
    )
    saved = fresh(session, course.slug)
    assert links_now(session, course.id) == {
        None: [LinkSpec("PS-COOP", "recommend")], item.id: [LinkSpec("PS-INT", "evidence")],
    }  # fmt: skip
    assert saved.competencies == ["PS-COOP"]
    page = page_of(client.get(f"/trainer/courses/{course.slug}/settings"))
    assert "Outcome for PS-COOP Cooperation between organisations" in page
    # The outcome changed, another added; then one removed with its checkbox.
    assert save(client, saved, **{f"outcome_{coop.id}": "complete", "add_competency": "PS",
                                  "add_outcome": "evidence"}).status_code == 302  # fmt: skip
    assert links_now(session, course.id)[None] == [
        LinkSpec("PS-COOP", "complete"), LinkSpec("PS", "evidence"),
    ]  # fmt: skip
    saved = fresh(session, course.slug)
    assert save(client, saved, **{f"outcome_{coop.id}": "complete",
                                  f"remove_competency_{coop.id}": "y"}).status_code == 302  # fmt: skip
    links = links_now(session, course.id)
    assert links[None] == [LinkSpec("PS", "evidence")]
    assert links[item.id] == [LinkSpec("PS-INT", "evidence")]  # the item's link stays
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "authoring.settings_saved")
    ).all()[-1]
    assert entry.details["fields"] == ["competencies"]


def test_settings_service_rules(session, people, course):
    tess = people["tess"]
    values = courses.Settings(title="Ethics", summary="A course", add_trainer="tina@example.org")
    with pytest.raises(FieldError) as caught:
        courses.save_settings(session, tess, None, course, values, course.version)
    assert caught.value.field == "add_trainer"
    session.rollback()
    values = courses.Settings(title="Ethics", summary="A course", remove_trainers=[tess.id])
    with pytest.raises(FieldError):
        courses.save_settings(session, tess, None, course, values, course.version)
    session.rollback()
    nora = session.merge(people["nora"])
    course = fresh(session, course.slug)
    changed = courses.save_settings(session, nora, None, course, values, course.version)
    session.commit()
    assert changed == ["trainers"] and fresh(session, course.slug).trainers == []


def test_another_trainer_cannot_see_or_change_the_settings(client, session, people, course):
    login(client, people["tom"].email)
    assert client.get(f"/trainer/courses/{course.slug}/settings").status_code == 404
    assert save(client, course, title="Mine now").status_code == 404
    status = post_form(client, f"/trainer/courses/{course.slug}/status",
                       {"status": "published", "version": "1"})  # fmt: skip
    assert status.status_code == 404
    client.post("/logout")
    login(client, people["ann"].email)
    assert client.get(f"/trainer/courses/{course.slug}/settings").status_code == 404
    course = fresh(session, course.slug)
    assert (course.title, course.status) == ("Ethics", "draft")


# --------------------------------------------------------------------------- publishing


def set_status(client, course, status, version, next_=None):
    data = {"status": status, "version": str(version)}
    if next_ is not None:
        data["next"] = next_
    return post_form(client, f"/trainer/courses/{course.slug}/status", data,
                     page=f"/trainer/courses/{course.slug}/settings")  # fmt: skip


def test_publish_archive_and_back_keep_every_learners_progress(
    client, session, people, make_course, enrol
):
    course = make_course(slug="cycle", status="draft", lessons=2, trainers=[people["tess"]])
    ann, bob = people["ann"], session.merge(people["tom"])
    course.status = "published"
    session.commit()
    enrol(ann, course)
    enrol(bob, course)
    for lesson in course.items:
        learning.complete_item(session, ann, course, lesson)
    learning.complete_item(session, bob, course, course.items[0])
    session.commit()
    course.status = "draft"
    session.commit()

    def records():
        session.commit()
        session.expire_all()
        return (
            sorted(session.execute(select(Enrolment.user_id, Enrolment.status,
                                          Enrolment.progress)).all()),
            session.scalar(select(func.count(Completion.id))),
            session.scalar(select(func.count(ItemProgress.id))),
        )  # fmt: skip

    before = records()
    assert before[1] == 1 and before[2] == 3
    login(client, people["tess"].email)
    settings = page_of(client.get("/trainer/courses/cycle/settings"))
    assert ">Publish</button>" in settings and ">Archive</button>" not in settings
    version = fresh(session, "cycle").version
    for target, button in [("published", "Archive"), ("draft", "Publish"), ("archived", None),
                           ("published", None)]:  # fmt: skip
        if target == "archived":
            assert set_status(client, course, "published", version).status_code == 302
            version += 1
        response = set_status(client, course, target, version)
        assert response.status_code == 302, target
        assert response.headers["Location"].endswith("/trainer/courses/cycle/settings")
        version += 1
        assert fresh(session, "cycle").status == target
        assert records() == before, target
        if button:
            assert f">{button}</button>" in page_of(client.get("/trainer/courses/cycle/settings"))
    actions = audit_actions(session, course.id)
    assert actions.count("authoring.status_changed") == 5


def test_publishing_rules(client, session, people, course, make_course):
    login(client, people["tess"].email)
    # A stale status change: the conflict page.
    response = set_status(client, course, "published", 7)
    assert response.status_code == 409 and "Someone else saved this meanwhile" in page_of(response)
    assert fresh(session, course.slug).status == "draft"
    # Draft to archived is no move; an unknown status is refused.
    response = set_status(client, course, "archived", 1)
    assert response.status_code == 302
    assert "cannot go from draft to archived" in page_of(client.get(response.headers["Location"]))
    assert set_status(client, course, "gone", 1).status_code == 302
    assert fresh(session, course.slug).status == "draft"
    # Back to a same-site page only.
    response = set_status(client, course, "published", 1, next_="/trainer/courses/ethics/contents")
    assert response.headers["Location"].endswith("/trainer/courses/ethics/contents")
    response = set_status(client, course, "draft", 2, next_="https://evil.example/")
    assert response.headers["Location"].endswith("/trainer/courses/ethics/settings")
    # A course without any item is not published.
    empty = make_course(slug="empty", status="draft", lessons=0, trainers=[people["tess"]])
    response = set_status(client, empty, "published", 1)
    page = page_of(client.get(response.headers["Location"]))
    assert "A course without any item cannot be published" in page
    assert fresh(session, "empty").status == "draft"
    with pytest.raises(Invalid):
        courses.set_status(session, people["tess"], None, fresh(session, "empty"), "published", 1)
    # Nor one with a quiz no learner could take (no question that counts).
    quizless = make_course(slug="quizless", status="draft", lessons=1, trainers=[people["tess"]])
    quizless.modules[0].items.append(
        Item(slug="empty-quiz", position=2, prefix="02", kind="quiz", title="Empty check",
             settings={"pass_mark": 60})
    )  # fmt: skip
    session.commit()
    response = set_status(client, quizless, "published", 1)
    page = page_of(client.get(response.headers["Location"]))
    assert "The quiz “Empty check” has no questions yet" in page
    assert fresh(session, "quizless").status == "draft"


def test_an_administrator_of_the_trainers_organisation_may_not_publish(
    client, session, people, course
):
    login(client, people["ada"].email)
    assert set_status(client, course, "published", 1).status_code == 403
    assert fresh(session, course.slug).status == "draft"
    assert session.scalar(select(func.count(Item.id))) == 1


def test_copy_refuses_learners_and_a_taken_short_name(client, session, people, rich_course):
    course, _quiz = rich_course
    path = f"/trainer/courses/{course.slug}/copy"
    login(client, people["ann"].email)  # enrolled in it, but a learner
    assert client.get(path).status_code == 403
    client.post("/logout")
    login(client, people["tess"].email)
    response = post_form(client, path, {"title": "Again", "slug": course.slug}, page=path)
    assert response.status_code == 422
    assert "Another course already has this short name" in page_of(response)
    assert session.scalar(select(func.count(Course.id))) == 1
