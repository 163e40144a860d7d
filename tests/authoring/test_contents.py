"""The course editor's contents (issue 17, point 3; point 5 "editing a
published course keeps progress"): the contents page, modules and items
added, edited, reordered, moved and deleted, lessons with their preview,
links, conflicts, permissions, and the learners' progress through it all."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import login, post_form
from vle.audit import AuditEntry
from vle.authoring import contents, editing
from vle.catalog.models import Course, Item, Module
from vle.learning import services as learning
from vle.learning.models import Completion, Enrolment, EnrolmentStatus, RemovedItemProgress
from vle.quizzes.models import Attempt

ATTACK = (
    "Hello **world**\n\n<script>alert(1)</script>\n\n"
    '<img src="x" onerror="alert(2)">\n\n[click](javascript:alert(3))\n'
)


@pytest.fixture
def world(session, make_org, make_user, make_course):
    """A trainer's draft course (two modules of three lessons), another
    trainer, a learner, and an administrator of the trainer's organisation
    (who may read the editor's contents, not change them)."""
    org = make_org("CITY", name="City")
    trainer = make_user("trainer", org=org, email="tess@example.org")
    other = make_user("trainer", org=org, email="otto@example.org")
    learner = make_user(org=org, email="lea@example.org")
    admin = make_user("admin", org=org, email="ada@example.org")
    course = make_course(
        slug="fire", title="Fire safety", status="draft", modules=2, trainers=[trainer]
    )

    class World:
        pass

    w = World()
    w.org, w.trainer, w.other, w.learner, w.admin, w.course = (
        org, trainer, other, learner, admin, course,
    )  # fmt: skip
    return w


def fresh(session, slug="fire"):
    session.rollback()  # a new snapshot of what the requests committed
    session.expire_all()
    return session.scalar(select(Course).where(Course.slug == slug))


def titles_in_order(page, titles):
    """The titles sorted by where they appear on the page."""
    return sorted(titles, key=page.index)


def text(response):
    return response.get_data(as_text=True)


def url(path):
    return f"/trainer/courses/fire{path}"


def audit_actions(session):
    return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# --------------------------------------------------------------------------- the page


def test_contents_page_shows_modules_items_and_every_action(client, world):
    login(client, world.trainer.email)
    response = client.get(url("/contents"))
    assert response.status_code == 200
    page = text(response)
    assert "Fire safety" in page and "Draft" in page
    assert page.index("Module 1") < page.index("Lesson 1.1") < page.index("Module 2")
    assert titles_in_order(page, ["Lesson 1.3", "Lesson 1.1", "Lesson 1.2"]) == [
        "Lesson 1.1", "Lesson 1.2", "Lesson 1.3",
    ]  # fmt: skip
    for name in ("Add module", "Add lesson", "Add link", "Add file", "Add quiz", "Publish",
                 "Settings", "Preview", "Download as .zip", "Move up", "Move down", "Delete",
                 "Move to module", "Lesson", "required"):  # fmt: skip
        assert name in page, name
    # Each Move up says which item it moves; the first has none, the last no Move down.
    assert 'Move up<span class="visually-hidden"> “Lesson 1.2”' in page
    assert 'Move up<span class="visually-hidden"> “Lesson 1.1”' not in page
    assert 'Move down<span class="visually-hidden"> “Lesson 1.3”' not in page
    assert 'name="status" value="published"' in page
    assert f'name="version" value="{world.course.version}"' in page


def test_published_course_offers_archive_and_back_to_draft(client, session, world):
    world.course.status = "published"
    session.commit()
    login(client, world.trainer.email)
    page = text(client.get(url("/contents")))
    assert "Archive" in page and "Back to draft" in page
    assert 'name="status" value="published"' not in page


def test_learner_gets_403_and_other_trainer_404(client, world):
    login(client, world.learner.email)
    assert client.get(url("/contents")).status_code == 403
    client = client.application.test_client()
    login(client, world.other.email)
    assert client.get(url("/contents")).status_code == 404
    assert client.get(url("/modules/new")).status_code == 404
    item = world.course.items[0]
    assert (
        post_form(client, url(f"/items/{item.id}/move"), {"direction": "down"}).status_code == 404
    )


def test_reader_sees_contents_without_any_action_and_may_not_post(client, session, world):
    login(client, world.admin.email)
    response = client.get(url("/contents"))
    assert response.status_code == 200
    page = text(response)
    main = page[page.index("<main") : page.index("</main>")]
    assert "Lesson 1.1" in main
    assert "<form" not in main
    for name in ("Add module", "Add lesson", "Move up", "Delete", "Publish", "Edit"):
        assert name not in main, name
    module, item = world.course.modules[0], world.course.items[0]
    assert post_form(client, url("/modules/new"), {"title": "X"}).status_code == 403
    assert (
        post_form(client, url(f"/items/{item.id}/move"), {"direction": "down"}).status_code == 403
    )
    assert post_form(client, url(f"/items/{item.id}/delete")).status_code == 403
    assert post_form(client, url(f"/modules/{module.id}/delete")).status_code == 403
    assert client.get(url(f"/items/{item.id}/edit")).status_code == 403
    assert len(fresh(session).items) == 6


def test_ids_of_another_course_are_not_found(client, session, world, make_course):
    elsewhere = make_course(slug="water", trainers=[world.trainer])
    login(client, world.trainer.email)
    item, module = elsewhere.items[0], elsewhere.modules[0]
    assert client.get(url(f"/items/{item.id}/edit")).status_code == 404
    assert post_form(client, url(f"/items/{item.id}/delete")).status_code == 404
    assert (
        post_form(client, url(f"/modules/{module.id}/move"), {"direction": "up"}).status_code == 404
    )
    mine = world.course.items[0]
    response = post_form(
        client, url(f"/items/{mine.id}/move"), {"direction": "module", "module": module.id}
    )
    assert response.status_code == 404
    assert session.get(Item, mine.id).module_id == world.course.modules[0].id


def test_editor_not_enrolled_previews_a_draft_and_its_items(client, session, world):
    login(client, world.trainer.email)
    module = world.course.modules[0]
    post_form(
        client, url(f"/modules/{module.id}/items/new/link"),
        {"title": "Fire service", "url": "https://example.org/fire", "required": "y"},
    )  # fmt: skip
    course = fresh(session)
    page = client.get("/courses/fire")
    assert page.status_code == 200 and "Lesson 1.1" in text(page)
    for item in course.items:
        response = client.get(f"/courses/fire/items/{item.id}")
        assert response.status_code == 200, item.kind
        assert item.title in text(response)


# --------------------------------------------------------------------------- modules


def test_add_module_slug_prefix_and_audit(client, session, world):
    login(client, world.trainer.email)
    response = post_form(client, url("/modules/new"), {"title": "Ąžuolų ėjimas – Łódź"})
    assert response.status_code == 302
    post_form(client, url("/modules/new"), {"title": "Ąžuolų ėjimas – lodz!"})
    course = fresh(session)
    added = course.modules[2:]
    assert [m.slug for m in added] == ["azuolu-ejimas-lodz", "azuolu-ejimas-lodz-2"]
    assert [m.prefix for m in added] == ["03", "04"]
    assert [m.position for m in added] == [3, 4]
    assert audit_actions(session).count("authoring.module.add") == 2
    page = text(client.get(url("/contents")))
    assert page.index("Module 2") < page.index("Ąžuolų ėjimas – Łódź")


def test_add_module_without_title_is_a_form_error(client, session, world):
    login(client, world.trainer.email)
    response = post_form(client, url("/modules/new"), {"title": "  "})
    assert response.status_code == 422
    assert "Please correct the following" in text(response)
    response = post_form(client, url("/modules/new"), {"title": "Bad\x00title"})
    assert response.status_code == 422
    assert len(fresh(session).modules) == 2


def test_edit_module_title_and_conflict(client, session, world):
    module = world.course.modules[0]
    old = module.version
    login(client, world.trainer.email)
    page = text(client.get(url(f"/modules/{module.id}/edit")))
    assert 'name="version"' in page and "Module 1" in page
    assert (
        post_form(
            client, url(f"/modules/{module.id}/edit"), {"title": "Basics", "version": old}
        ).status_code
        == 302
    )
    saved = fresh(session).modules[0]
    assert saved.title == "Basics" and saved.slug == "module-1"
    assert saved.version == old + 1
    # A save based on the old version: the conflict page, nothing overwritten.
    response = post_form(
        client, url(f"/modules/{module.id}/edit"), {"title": "Intro", "version": old}
    )
    assert response.status_code == 409
    assert "Intro" in text(response) and "Basics" in text(response)
    assert fresh(session).modules[0].title == "Basics"


def test_move_module_changes_the_order_learners_see_without_a_version(client, session, world):
    first, second = world.course.modules
    login(client, world.trainer.email)
    assert (
        post_form(client, url(f"/modules/{second.id}/move"), {"direction": "up"}).status_code == 302
    )
    course = fresh(session)
    assert [m.title for m in course.modules] == ["Module 2", "Module 1"]
    assert [m.prefix for m in course.modules] == ["01", "02"]
    assert [m.version for m in course.modules] == [second.version, first.version]
    page = text(client.get("/courses/fire"))
    assert page.index("Module 2") < page.index("Module 1")
    # At the end: nothing moves.
    post_form(client, url(f"/modules/{second.id}/move"), {"direction": "up"})
    assert [m.title for m in fresh(session).modules] == ["Module 2", "Module 1"]
    assert audit_actions(session).count("authoring.module.move") == 1


def test_delete_module_says_what_learners_lose_and_keeps_history(
    client, session, world, make_user, enrol
):
    world.course.status = "published"
    session.commit()
    ann, bob = make_user(email="ann@example.org"), make_user(email="bob@example.org")
    enrol(ann, world.course)
    enrol(bob, world.course)
    first = world.course.modules[0]
    learning.complete_item(session, ann, world.course, first.items[0])
    learning.record_view(session, bob, world.course, first.items[1])
    session.commit()
    login(client, world.trainer.email)
    page = text(client.get(url(f"/modules/{first.id}/delete")))
    assert "2 learners have progress on its items." in page
    assert "1 learner completed one of its items." in page
    assert "Completions of the course already recorded stay" in page
    assert "Lesson 1.3" in page
    assert post_form(client, url(f"/modules/{first.id}/delete")).status_code == 302
    course = fresh(session)
    assert [m.title for m in course.modules] == ["Module 2"]
    kept = session.scalars(select(RemovedItemProgress)).all()
    assert {(r.user_id, r.item_slug) for r in kept} == {
        (ann.id, "lesson-1-1"), (bob.id, "lesson-1-2"),
    }  # fmt: skip
    assert "authoring.module.delete" in audit_actions(session)


def test_the_last_module_stays(client, session, world):
    login(client, world.trainer.email)
    first, second = world.course.modules
    post_form(client, url(f"/modules/{first.id}/delete"))
    page = text(client.get(url(f"/modules/{second.id}/delete")))
    assert "last module" in page
    post_form(client, url(f"/modules/{second.id}/delete"))
    assert [m.title for m in fresh(session).modules] == ["Module 2"]


# --------------------------------------------------------------------------- lessons


def test_add_lesson_sanitised_slug_unique_in_course(client, session, world):
    module = world.course.modules[1]
    login(client, world.trainer.email)
    assert client.get(url(f"/modules/{module.id}/items/new/lesson")).status_code == 200
    response = post_form(
        client, url(f"/modules/{module.id}/items/new/lesson"),
        {"title": "Lesson 1.1", "required": "y", "minutes": "7", "source": ATTACK},
    )  # fmt: skip
    assert response.status_code == 302
    item = fresh(session).modules[1].items[-1]
    assert item.slug == "lesson-1-1-2"  # lesson-1-1 is in the other module
    assert item.prefix == "04" and item.position == 4 and item.minutes == 7
    assert item.source == ATTACK.replace("\r\n", "\n")
    assert "<strong>world</strong>" in item.body_html
    for bad in ("<script", "onerror", "javascript:"):
        assert bad not in item.body_html
    learner_page = text(client.get(f"/courses/fire/items/{item.id}"))
    assert "<strong>world</strong>" in learner_page and "onerror" not in learner_page
    assert "authoring.item.add" in audit_actions(session)


def test_preview_without_javascript_renders_the_form_again(client, session, world):
    item = world.course.items[0]
    login(client, world.trainer.email)
    response = post_form(
        client, url(f"/items/{item.id}/edit"),
        {"title": "Changed", "source": ATTACK, "version": item.version, "action": "preview"},
    )  # fmt: skip
    assert response.status_code == 200
    page = text(response)
    preview = page[page.index('id="preview"') :]
    assert "<strong>world</strong>" in preview
    assert "<script>alert" not in page and 'onerror="' not in page
    assert "javascript:alert" not in preview
    assert 'value="Changed"' in page  # the form keeps what was typed
    assert fresh(session).items[0].title == "Lesson 1.1"  # nothing saved


def test_preview_endpoint_returns_sanitised_fragment(client, world):
    login(client, world.trainer.email)
    response = post_form(client, url("/preview"), {"source": ATTACK})
    assert response.status_code == 200 and response.mimetype == "text/html"
    fragment = text(response)
    assert "<strong>world</strong>" in fragment
    for bad in ("<script", "onerror", "javascript:"):
        assert bad not in fragment
    client2 = client.application.test_client()
    login(client2, world.learner.email)
    assert post_form(client2, url("/preview"), {"source": "x"}).status_code == 403


def test_edit_page_loads_the_script_from_static(client, world):
    item = world.course.items[0]
    login(client, world.trainer.email)
    page = text(client.get(url(f"/items/{item.id}/edit")))
    assert "/static/authoring.js" in page and "<script>" not in page
    assert 'data-preview-url="/trainer/courses/fire/preview"' in page
    assert "Markdown help" in page and ">Preview<" in page and ">Save<" in page


def test_save_lesson(client, session, world):
    item = world.course.items[0]
    old = item.version
    login(client, world.trainer.email)
    response = post_form(
        client, url(f"/items/{item.id}/edit"),
        {"title": "Exits", "source": "# Head\r\n\r\nUse *exits*.", "minutes": "",
         "required": "y", "version": old},
    )  # fmt: skip
    assert response.status_code == 302
    saved = fresh(session).items[0]
    assert (saved.title, saved.slug, saved.minutes) == ("Exits", "lesson-1-1", None)
    assert saved.source == "# Head\n\nUse *exits*.\n"
    assert saved.body_html == "<h2>Head</h2>\n<p>Use <em>exits</em>.</p>"
    assert saved.version == old + 1
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "authoring.item.edit")
    ).one()
    assert entry.details["slug"] == "lesson-1-1"
    assert set(entry.details["changed"]) == {"title", "minutes", "source"}


def test_stale_lesson_save_conflict_then_keep_mine_and_merge(client, session, world):
    item = world.course.items[0]
    old = item.version
    login(client, world.trainer.email)
    post_form(
        client, url(f"/items/{item.id}/edit"),
        {"title": "Theirs", "source": "Their text", "required": "y", "version": old},
    )  # fmt: skip
    mine = {"title": "Mine", "source": "My text", "required": "y", "version": old}
    response = post_form(client, url(f"/items/{item.id}/edit"), mine)
    assert response.status_code == 409
    page = text(response)
    assert "Theirs" in page and "Mine" in page and "My text" in page and "Their text" in page
    assert "Keep my version" in page and "Save merged version" in page
    assert fresh(session).items[0].title == "Theirs"
    current = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert int(current) == old + 1
    # Keep my version: the page's form posts my values on the newer version.
    response = post_form(client, url(f"/items/{item.id}/edit"), {**mine, "version": current})
    assert response.status_code == 302
    saved = fresh(session).items[0]
    assert (saved.title, saved.source, saved.version) == ("Mine", "My text\n", old + 2)
    # Merge by hand, from another stale save.
    response = post_form(
        client, url(f"/items/{item.id}/edit"),
        {"title": "Late", "source": "Late text", "required": "y", "version": old},
    )  # fmt: skip
    assert response.status_code == 409
    merged = {"title": "Mine and late", "source": "Both", "required": "y", "version": old + 2}
    assert post_form(client, url(f"/items/{item.id}/edit"), merged).status_code == 302
    assert fresh(session).items[0].title == "Mine and late"


def test_bad_lesson_input_is_a_form_error(client, session, world):
    item = world.course.items[0]
    old = item.version
    login(client, world.trainer.email)
    for data in (
        {"title": "", "source": "x"},
        {"title": "T", "source": "x\x00y"},
        {"title": "T", "source": "x", "minutes": "-3"},
        {"title": "T", "source": "x", "minutes": "many"},
    ):
        response = post_form(client, url(f"/items/{item.id}/edit"), {**data, "version": old})
        assert response.status_code == 422, data
    assert fresh(session).items[0].version == old


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>", "/relative",
     "example.org", "https://", "ftp://example.org/x", "https://exa mple.org"],
)  # fmt: skip
def test_link_refuses_what_is_not_http(client, session, world, address):
    module = world.course.modules[0]
    login(client, world.trainer.email)
    response = post_form(
        client, url(f"/modules/{module.id}/items/new/link"),
        {"title": "Bad", "url": address, "required": "y"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "http://" in text(response)
    assert len(fresh(session).items) == 6


def test_link_added_edited_and_opened_safely(client, session, world, enrol):
    world.course.status = "published"
    session.commit()
    module = world.course.modules[0]
    login(client, world.trainer.email)
    response = post_form(
        client, url(f"/modules/{module.id}/items/new/link"),
        {"title": "Fire service", "url": "https://example.org/fire?a=1", "source": "Read *it*"},
    )  # fmt: skip
    assert response.status_code == 302
    link = fresh(session).modules[0].items[-1]
    assert link.kind == "link" and link.slug == "fire-service" and not link.required
    assert link.settings == {"url": "https://example.org/fire?a=1"}
    assert link.body_html == "<p>Read <em>it</em></p>"
    page = text(client.get(url(f"/items/{link.id}/edit")))
    assert 'value="https://example.org/fire?a=1"' in page
    response = post_form(
        client, url(f"/items/{link.id}/edit"),
        {"title": "Fire service", "url": "javascript:alert(1)", "version": link.version},
    )  # fmt: skip
    assert response.status_code == 422
    post_form(
        client, url(f"/items/{link.id}/edit"),
        {"title": "Fire service", "url": "http://example.org/new", "version": link.version},
    )  # fmt: skip
    saved = fresh(session).modules[0].items[-1]
    assert saved.settings["url"] == "http://example.org/new" and saved.source == ""
    enrol(world.learner, saved.module.course)
    learner = client.application.test_client()
    login(learner, world.learner.email)
    page = text(learner.get(f"/courses/fire/items/{saved.id}"))
    assert 'href="http://example.org/new"' in page and 'rel="noopener noreferrer"' in page


# --------------------------------------------------------------------------- moves


def test_move_item_up_down_and_to_another_module(client, session, world, enrol):
    world.course.status = "published"
    session.commit()
    enrol(world.learner, world.course)
    a, b, c = world.course.modules[0].items
    learning.complete_item(session, world.learner, world.course, c)
    session.commit()
    versions = {i.id: i.version for i in world.course.items}
    login(client, world.trainer.email)
    assert post_form(client, url(f"/items/{c.id}/move"), {"direction": "up"}).status_code == 302
    course = fresh(session)
    assert [i.title for i in course.modules[0].items] == ["Lesson 1.1", "Lesson 1.3", "Lesson 1.2"]
    assert [i.prefix for i in course.modules[0].items] == ["01", "02", "03"]
    assert {i.id: i.version for i in course.items} == versions  # no version raised
    post_form(client, url(f"/items/{a.id}/move"), {"direction": "down"})
    target = world.course.modules[1]
    post_form(client, url(f"/items/{c.id}/move"), {"direction": "module", "module": target.id})
    course = fresh(session)
    assert [i.title for i in course.modules[0].items] == ["Lesson 1.1", "Lesson 1.2"]
    assert [i.title for i in course.modules[1].items][-1] == "Lesson 1.3"
    assert course.modules[1].items[-1].prefix == "04"
    learner = client.application.test_client()
    login(learner, world.learner.email)
    page = text(learner.get("/courses/fire"))
    assert page.index("Lesson 2.3") < page.index("Lesson 1.3")
    assert page.index("Lesson 1.1") < page.index("Lesson 1.2") < page.index("Module 2")
    # The learner's progress on the moved lesson stays.
    progress = learning.contents_and_progress(session, world.learner, course)[1]
    assert progress[c.id].completed_at is not None
    assert audit_actions(session).count("authoring.item.move") == 3


def test_move_at_the_end_or_nowhere_changes_nothing(client, session, world):
    a, _b, c = world.course.modules[0].items
    login(client, world.trainer.email)
    post_form(client, url(f"/items/{a.id}/move"), {"direction": "up"})
    post_form(client, url(f"/items/{c.id}/move"), {"direction": "down"})
    response = post_form(client, url(f"/items/{c.id}/move"), {"direction": "sideways"})
    assert response.status_code == 302
    response = post_form(client, url(f"/items/{c.id}/move"), {"direction": "module", "module": "x"})
    assert response.status_code == 404
    course = fresh(session)
    assert [i.title for i in course.modules[0].items] == ["Lesson 1.1", "Lesson 1.2", "Lesson 1.3"]
    assert "authoring.item.move" not in audit_actions(session)


# --------------------------------------------------------------------------- deletes


def test_delete_item_recounts_keeps_history_and_recorded_completions(
    client, session, world, make_user, enrol
):
    """Lea did every required lesson but the last: deleting it completes her
    course. Ann had completed the course: her completion stays. Both keep
    what they did on the deleted lesson in their history."""
    world.course.status = "published"
    session.commit()
    ann = make_user(email="ann@example.org")
    enrol(world.learner, world.course)
    enrol(ann, world.course)
    items = world.course.items
    for item in items:
        learning.complete_item(session, ann, world.course, item)
    for item in items[:-1]:
        learning.complete_item(session, world.learner, world.course, item)
    learning.record_view(session, world.learner, world.course, items[-1])
    session.commit()
    gone = items[-1].id
    login(client, world.trainer.email)
    page = text(client.get(url(f"/items/{gone}/delete")))
    assert "2 learners have progress on it." in page
    assert "1 learner completed it." in page
    assert "Completions of the course already recorded stay" in page
    assert post_form(client, url(f"/items/{gone}/delete")).status_code == 302
    session.rollback()  # a new snapshot of what the requests committed
    session.expire_all()
    assert session.get(Item, gone) is None
    enrolments = {e.user_id: e for e in session.scalars(select(Enrolment)).all()}
    assert enrolments[world.learner.id].status == EnrolmentStatus.COMPLETED
    completions = session.scalars(select(Completion)).all()
    assert sorted(c.user_id for c in completions) == sorted([ann.id, world.learner.id])
    kept = session.scalars(select(RemovedItemProgress)).all()
    assert {(r.user_id, r.item_slug, r.completed_at is not None) for r in kept} == {
        (ann.id, "lesson-2-3", True), (world.learner.id, "lesson-2-3", False),
    }  # fmt: skip
    assert "authoring.item.delete" in audit_actions(session)


def test_delete_quiz_says_how_many_attempts_go(client, session, make_user, make_quiz):
    trainer = make_user("trainer", email="tq@example.org")
    learner = make_user(email="lq@example.org")
    course, quiz = make_quiz(trainers=[trainer], lessons=1)
    for number in (1, 2):
        session.add(Attempt(item_id=quiz.id, user_id=learner.id, number=number, state="graded",
                            score=0.0, passed=False, question_ids=[]))  # fmt: skip
    session.commit()
    login(client, trainer.email)
    path = f"/trainer/courses/{course.slug}/items/{quiz.id}/delete"
    page = text(client.get(path))
    assert "2 quiz attempts are removed." in page
    post_form(client, path)
    session.rollback()  # a new snapshot of what the requests committed
    session.expire_all()
    assert session.scalars(select(Attempt)).all() == []
    assert [i.kind for i in session.get(Course, course.id).items] == ["lesson"]


def test_adding_a_required_item_recounts_in_progress_not_completed(
    client, session, world, make_user, enrol
):
    world.course.status = "published"
    session.commit()
    ann = make_user(email="ann@example.org")
    enrol(world.learner, world.course)
    enrol(ann, world.course)
    for item in world.course.items:
        learning.complete_item(session, ann, world.course, item)
    for item in world.course.items[:3]:
        learning.complete_item(session, world.learner, world.course, item)
    session.commit()
    before = session.scalar(select(Enrolment.progress).where(Enrolment.user_id == world.learner.id))
    assert before == 50
    login(client, world.trainer.email)
    module = world.course.modules[0]
    post_form(
        client, url(f"/modules/{module.id}/items/new/lesson"),
        {"title": "New rules", "source": "Read.", "required": "y"},
    )  # fmt: skip
    session.rollback()  # a new snapshot of what the requests committed
    session.expire_all()
    enrolments = {e.user_id: e for e in session.scalars(select(Enrolment)).all()}
    assert enrolments[world.learner.id].progress == 42  # 3 of 7
    assert enrolments[world.learner.id].status == EnrolmentStatus.IN_PROGRESS
    assert enrolments[ann.id].status == EnrolmentStatus.COMPLETED
    assert len(session.scalars(select(Completion)).all()) == 1


def test_making_a_lesson_optional_completes_those_who_did_the_rest(client, session, world, enrol):
    world.course.status = "published"
    session.commit()
    enrol(world.learner, world.course)
    items = world.course.items
    for item in items[:-1]:
        learning.complete_item(session, world.learner, world.course, item)
    session.commit()
    login(client, world.trainer.email)
    last = items[-1]
    post_form(
        client, url(f"/items/{last.id}/edit"),
        {"title": last.title, "source": "x", "version": last.version},
    )  # fmt: skip
    session.rollback()  # a new snapshot of what the requests committed
    session.expire_all()
    assert session.scalar(select(Enrolment.status)) == EnrolmentStatus.COMPLETED


# --------------------------------------------------------------------------- services


def test_slugs_fold_to_ascii():
    assert editing.slug_from_title("Saugus darbas: ąčęėįšųūž", "x") == "saugus-darbas-aceeisuuz"
    assert editing.slug_from_title("Ærø – Straße, Łódź", "x") == "aero-strasse-lodz"
    assert editing.slug_from_title("!!!", "lesson") == "lesson"
    assert editing.slug_from_title("Å" * 300, "x") == "a" * 100
    assert editing.unique_slug("a" * 100, {"a" * 100}) == "a" * 98 + "-2"
    assert editing.unique_slug("intro", {"intro", "intro-2"}) == "intro-3"


def test_check_url():
    assert contents.check_url(" https://example.org/a ") == "https://example.org/a"
    for bad in ("javascript:alert(1)", "data:,x", "//example.org", "mailto:a@b.c", "http:///x"):
        with pytest.raises(contents.FieldError):
            contents.check_url(bad)


# --------------------------------------------------------------------------- performance


def _big_course(session, slug, modules, items, trainer):
    course = Course(slug=slug, title=slug, status="published", trainers=[trainer])
    for m in range(1, modules + 1):
        module = Module(slug=f"m{m}", position=m, title=f"M{m}", prefix=f"{m:02d}")
        for i in range(1, items + 1):
            module.items.append(
                Item(slug=f"i{m}-{i}", position=i, prefix=f"{i:02d}", kind="lesson",
                     title=f"I{m}.{i}", source="x\n", body_html="<p>x</p>")
            )  # fmt: skip
        course.modules.append(module)
    session.add(course)
    session.commit()
    return course


def test_move_and_lesson_save_take_the_same_queries_whatever_the_size(
    client, session, world, count_queries
):
    small = _big_course(session, "small", 2, 3, world.trainer)
    big = _big_course(session, "big", 12, 25, world.trainer)
    login(client, world.trainer.email)
    token_page = "/courses"
    counts = []
    for course in (small, big):
        item = course.modules[1].items[1]
        move = f"/trainer/courses/{course.slug}/items/{item.id}/move"
        edit = f"/trainer/courses/{course.slug}/items/{item.id}/edit"
        post_form(client, move, {"direction": "up"}, page=token_page)  # warm
        with count_queries() as moving:
            assert (
                post_form(client, move, {"direction": "down"}, page=token_page).status_code == 302
            )
        version = session.scalar(select(Item.version).where(Item.id == item.id))
        with count_queries() as saving:
            response = post_form(
                client, edit, {"title": "Saved", "source": "New text", "required": "y", "version": version},
                page=token_page,
            )  # fmt: skip
            assert response.status_code == 302
        counts.append((moving.count, saving.count))
    assert counts[0] == counts[1], counts


def test_many_modules_move_to_module_through_its_own_page(client, session, world):
    big = _big_course(session, "big", 13, 2, world.trainer)
    item = big.modules[0].items[0]
    login(client, world.trainer.email)
    page = text(client.get("/trainer/courses/big/contents"))
    assert 'name="module"' not in page
    move = f"/trainer/courses/big/items/{item.id}/move"
    assert f'href="{move}"' in page
    form = text(client.get(move))
    assert "<option" in form and ">M13<" in form and ">M1<" not in form
    target = big.modules[12]
    response = post_form(client, move, {"direction": "module", "module": target.id})
    assert response.status_code == 302
    assert [i.title for i in fresh(session, "big").modules[12].items] == ["I13.1", "I13.2", "I1.1"]
