"""The editor's foundation (vle/authoring/editing.py): versions raised by
every save and checked on the next, a racing save caught by the ORM, an
import raising the versions of what it changed, and learners' progress on an
item that leaves its course kept as history."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.library.test_import_export import write_course
from vle.authoring import editing
from vle.catalog.models import Course, Item
from vle.errors import Forbidden, NotFound
from vle.learning import services as learning
from vle.learning.models import Completion, RemovedItemProgress
from vle.library import services as library


def test_a_save_on_the_current_version_raises_it_and_an_older_one_is_a_conflict(
    session, make_course
):
    course = make_course()
    assert course.version == 1
    editing.expect_version(course, 1)
    course.title = "Renamed"
    session.commit()
    assert course.version == 2
    with pytest.raises(editing.EditConflict) as caught:
        editing.expect_version(course, 1)
    assert caught.value.current is course and caught.value.status == 409
    with pytest.raises(editing.EditConflict):
        editing.expect_version(course, None)


def test_a_racing_save_is_caught_by_the_orm_not_overwritten(session, make_course):
    course = make_course()
    item = course.items[0]
    editing.expect_version(item, 1)
    item.title = "Mine"
    # Someone else's save lands between this one's check and its write.
    session.connection().execute(update(Item).where(Item.id == item.id).values(version=2))
    with pytest.raises(editing.EditConflict) as caught, editing.saving():
        session.flush()
    assert caught.value.current is None
    session.rollback()


def test_an_import_raises_the_version_of_what_it_changed_only(session, tmp_path):
    folder = write_course(tmp_path)
    library.import_paths(session, [tmp_path])
    session.commit()
    versions = {i.slug: i.version for i in session.scalars(select(Item))}
    assert set(versions.values()) == {1}
    (folder / "01-basics/02-gifts.md").write_text("# Gifts and hospitality\n\nNew text.\n")
    library.import_paths(session, [tmp_path])
    session.commit()
    after = {i.slug: i.version for i in session.scalars(select(Item))}
    assert after["gifts"] == 2
    assert {slug: v for slug, v in after.items() if slug != "gifts"} == {
        slug: 1 for slug in after if slug != "gifts"
    }
    assert session.scalar(select(Course)).version == 1


def test_progress_on_an_item_the_files_drop_is_kept_as_history(session, tmp_path, make_user):
    folder = write_course(tmp_path)
    library.import_paths(session, [tmp_path])
    session.commit()
    course = session.scalar(select(Course))
    learner = make_user()
    learning.enrol(session, learner, course)
    for item in course.items:
        if item.kind == "lesson":
            learning.complete_item(session, learner, course, item)
    session.commit()
    (folder / "01-basics/02-gifts.md").unlink()
    library.import_paths(session, [tmp_path])
    session.commit()
    kept = session.scalars(select(RemovedItemProgress)).all()
    assert [(k.user_id, k.item_slug, k.item_title, k.item_kind) for k in kept] == [
        (learner.id, "gifts", "Gifts and hospitality", "lesson")
    ]
    assert kept[0].completed_at is not None
    assert learning.removed_progress(session, learner.id, course.id)[0].item_slug == "gifts"
    assert session.scalar(select(Completion)) is None  # the quiz is still to pass


def test_who_may_edit_and_who_may_only_read(session, make_course, make_user, make_org):
    city = make_org(code="city", name="City")
    school = make_org(code="school", name="School", parent=city)
    trainer = make_user("trainer", org=school)
    course = make_course(trainers=[trainer], status="draft")
    city_admin = make_user("admin", org=city)
    other_admin = make_user("admin", org=make_org(code="far", name="Far"))
    network = make_user("admin", network=True)
    learner = make_user(org=school)
    assert editing.editable_course(session, course.slug, trainer) is course
    assert editing.editable_course(session, course.slug, network) is course
    assert editing.readable_course(session, course.slug, city_admin) is course
    with pytest.raises(Forbidden):
        editing.editable_course(session, course.slug, city_admin)
    for outsider in (other_admin, learner, make_user("trainer", org=school)):
        with pytest.raises(NotFound):
            editing.readable_course(session, course.slug, outsider)
