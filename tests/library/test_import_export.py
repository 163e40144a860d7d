"""The courses/ folder format: validate everything, import all or nothing, export round-trips."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from sqlalchemy import func, select

from vle.catalog.models import Course, Item
from vle.learning import services as learning
from vle.learning.models import ItemProgress
from vle.library import services as library
from vle.library.reader import read_library
from vle.library.services import LibraryInvalid

REPO_COURSES = Path(__file__).resolve().parents[2] / "courses"

QUIZ = """// A small quiz
$CATEGORY: ethics/basics

::Gifts::A supplier offers you a gift during a tender. You {=decline it#Right. ~accept it#No.}

::Conflict::A conflict of interest must be declared. {TRUE}

::Days::How many days to acknowledge a report? {#7:0}
"""


COURSE_YAML = "title: Ethics at work\nsummary: Integrity for municipal staff.\nlanguage: en\nstatus: published\nvalidity_months: 12\n"


def write_course(
    root: Path, slug: str = "ethics", title: str = "Ethics at work", extra: dict | None = None
) -> Path:
    course = root / slug
    files = {
        "course.yaml": f"title: {title}\nsummary: Integrity for municipal staff.\nlanguage: en\nstatus: published\nvalidity_months: 12\n",
        "01-basics/module.yaml": "title: The basics\n",
        "01-basics/01-why.md": "---\ntitle: Why integrity matters\nminutes: 5\n---\n## Trust\n\nPublic **trust** is earned.\n",
        "01-basics/02-gifts.md": "# Gifts and hospitality\n\nSay no to gifts from bidders.\n",
        "02-practice/01-cases.md": "---\ntitle: Cases\nrequired: false\n---\nThree short cases.\n",
        "02-practice/02-check.gift": QUIZ,
        "02-practice/02-check.yaml": "title: Check yourself\npass_mark: 70\nattempts: 2\n",
    }
    files.update(extra or {})
    for name, text in files.items():
        path = course / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return course


def count(session, model) -> int:
    session.rollback()  # a fresh snapshot
    return session.scalar(select(func.count()).select_from(model))


def test_import_reads_modules_lessons_and_quiz(session, tmp_path):
    write_course(tmp_path)
    result = library.import_paths(session, [tmp_path])
    session.commit()
    assert result.created == ["ethics"]
    course = session.scalar(select(Course).where(Course.slug == "ethics"))
    assert course.title == "Ethics at work" and course.validity_months == 12
    assert [m.title for m in course.modules] == ["The basics", "Practice"]
    items = course.items
    assert [i.title for i in items] == [
        "Why integrity matters",
        "Gifts and hospitality",
        "Cases",
        "Check yourself",
    ]
    assert [i.kind for i in items] == ["lesson", "lesson", "lesson", "quiz"]
    assert items[0].minutes == 5 and items[2].required is False
    assert "<strong>trust</strong>" in items[0].body_html
    assert "Gifts and hospitality" not in items[1].body_html  # the heading became the title
    assert items[3].settings["pass_mark"] == 70 and items[3].settings["attempts"] == 2


def test_reimport_is_idempotent_and_keeps_progress(session, tmp_path, make_user):
    folder = write_course(tmp_path)
    library.import_paths(session, [tmp_path])
    session.commit()
    course = session.scalar(select(Course))
    user = make_user()
    learning.enrol(session, user, course)
    first = course.items[0]
    learning.complete_item(session, user, course, first)
    session.commit()
    # The lesson is edited and moved to the other module; a lesson is added.
    (folder / "01-basics/01-why.md").rename(folder / "02-practice/00-why.md")
    (folder / "02-practice/00-why.md").write_text(
        "---\ntitle: Why integrity matters (2nd edition)\n---\nNew text.\n"
    )
    (folder / "01-basics/03-new.md").write_text("---\ntitle: A new lesson\n---\nMore.\n")
    result = library.import_paths(session, [tmp_path])
    session.commit()
    assert result.updated == ["ethics"] and result.created == []
    assert count(session, Course) == 1
    moved = session.get(Item, first.id)
    assert moved is not None and moved.title == "Why integrity matters (2nd edition)"
    assert moved.module.slug == "practice"
    assert session.scalar(select(ItemProgress).where(ItemProgress.item_id == first.id)).completed_at


def test_export_round_trips(session, tmp_path, make_org):
    make_org("NSA", name="Nacionalinė švietimo agentūra")
    source = tmp_path / "in"
    certificate = "hours: 8\nissuer: NSA\nenrolment_key_hint: The town's name\n"
    write_course(source, extra={"course.yaml": COURSE_YAML + certificate})
    library.import_paths(session, [source])
    session.commit()
    out1 = library.export_course(session, "ethics", tmp_path / "out1")
    # Import the export under the same slug and export again: the same files.
    library.import_paths(session, [out1])
    session.commit()
    out2 = library.export_course(session, "ethics", tmp_path / "out2")
    comparison = filecmp.dircmp(out1, out2)
    assert _all_same(comparison)
    course = session.scalar(select(Course))
    assert [i.title for i in course.items][0] == "Why integrity matters"
    assert (out1 / "02-practice" / "02-check.gift").exists()
    assert (course.hours, course.issuer.name) == (8.0, "Nacionalinė švietimo agentūra")
    assert course.enrolment_key_hint == "The town's name"
    written = (out1 / "course.yaml").read_text(encoding="utf-8")
    assert "hours: 8\n" in written and "issuer: NSA\n" in written


def test_hours_and_issuer_are_checked(session, tmp_path):
    for slug, lines in {
        "zero": "hours: 0\n",
        "many": "hours: 10001\n",
        "fine": "hours: 1.25\n",
        "text": "hours: eight\n",
        "nobody": "issuer: NO-SUCH-ORG\n",
    }.items():
        write_course(tmp_path / "lib", slug=slug, extra={"course.yaml": COURSE_YAML + lines})
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [tmp_path / "lib"])
    joined = "\n".join(raised.value.errors)
    for slug in ("zero", "many", "fine", "text"):
        assert f"{tmp_path / 'lib' / slug / 'course.yaml'}:6: “hours” must be a number" in joined
    assert (
        f"{tmp_path / 'lib' / 'nobody' / 'course.yaml'}: no organisation with the code “NO-SUCH-ORG”"
        in joined
    )
    session.rollback()
    assert count(session, Course) == 0


def _all_same(comparison: filecmp.dircmp) -> bool:
    if comparison.left_only or comparison.right_only or comparison.diff_files:
        return False
    return all(_all_same(sub) for sub in comparison.subdirs.values())


def test_invalid_library_reports_every_error_and_changes_nothing(session, tmp_path):
    write_course(tmp_path / "lib", slug="good")
    write_course(
        tmp_path / "lib",
        slug="broken",
        extra={
            "course.yaml": "title: Broken\nstatus: public\nvalidity_months: -1\ncolour: red\n",
            "01-basics/02-gifts.md": "No title and no heading here.\n",
            "01-basics/04-nul.md": "---\ntitle: Nul\n---\nline two\nbad \x00 byte\n",
            "02-practice/02-check.gift": "::Q1:: Unclosed answer {=yes ~no\n",
            "02-practice/05-bad.md": "---\ntitle: [unclosed\n---\ntext\n",
            "01-basics/module.yaml": "title: Basics\nsummary: extra\n",
            "02-practice/module.yaml": "title: [unclosed\n",
            "02-practice/06-extra.gift": "::Q1:: Is water wet? {T}\n",
            "02-practice/06-extra.yaml": "pass_mark: 80\ncolour: red\n",
        },
    )
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [tmp_path / "lib"])
    errors = raised.value.errors
    joined = "\n".join(errors)
    broken = tmp_path / "lib" / "broken"
    assert f"{broken / 'course.yaml'}:2: “status” must be one of" in joined
    assert f"{broken / 'course.yaml'}:3: “validity_months”" in joined
    assert f"{broken / 'course.yaml'}:4: unknown key “colour”" in joined
    assert f"{broken / '01-basics/02-gifts.md'}:1: a lesson needs a title" in joined
    assert f"{broken / '01-basics/04-nul.md'}:5: contains a NUL byte" in joined
    assert f"{broken / '02-practice/02-check.gift'}:1" in joined
    assert f"{broken / '02-practice/05-bad.md'}:2: invalid YAML" in joined
    assert f"{broken / '01-basics/module.yaml'}:2: unknown key “summary”" in joined
    assert f"{broken / '02-practice/module.yaml'}:1: invalid YAML" in joined
    assert f"{broken / '02-practice/06-extra.yaml'}:2: unknown key “colour”" in joined
    session.rollback()
    assert count(session, Course) == 0  # not even the good course


def test_control_characters_name_file_and_line(session, tmp_path):
    write_course(
        tmp_path, extra={"01-basics/01-why.md": "---\ntitle: T\n---\nok\nbell \x07 here\n"}
    )
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [tmp_path])
    assert any(
        e.endswith("01-why.md:5: contains a control character U+0007") for e in raised.value.errors
    )


def test_missing_path_is_an_error(session, tmp_path):
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [tmp_path / "nope"])
    assert "no such file or folder" in raised.value.errors[0]


def test_shipped_library_imports(session):
    result = library.import_paths(session, [REPO_COURSES])
    session.commit()
    assert len(result.created) >= 3
    courses = session.scalars(select(Course)).all()
    assert any(c.language == "lt" for c in courses)
    for course in courses:
        lessons = [i for i in course.items if i.kind == "lesson"]
        quizzes = [i for i in course.items if i.kind == "quiz"]
        assert len(course.modules) >= 3, course.slug
        assert len(lessons) >= 8, course.slug
        assert quizzes, course.slug
        assert all(len(i.body_html) > 500 for i in lessons), course.slug
        assert "lorem" not in " ".join(i.source.lower() for i in lessons)


def test_cli_import_and_export(runner, tmp_path):
    write_course(tmp_path / "lib")
    result = runner.invoke(args=["courses", "import", str(tmp_path / "lib")])
    assert result.exit_code == 0, result.output
    assert "created ethics" in result.output
    result = runner.invoke(args=["courses", "export", "ethics", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "ethics" / "course.yaml").exists()


def test_cli_errors_are_one_line_each_and_exit_1(runner, tmp_path, session):
    write_course(tmp_path / "lib", extra={"course.yaml": "title: [broken\n"})
    result = runner.invoke(args=["courses", "import", str(tmp_path / "lib")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        "course.yaml:1: invalid YAML" in result.output
        or "course.yaml:2: invalid YAML" in result.output
    )
    assert "nothing was imported" in result.output
    result = runner.invoke(args=["courses", "export", "nope", str(tmp_path / "out")])
    assert result.exit_code == 1 and "There is no course" in result.output
    assert count(session, Course) == 0


def test_competency_frameworks_are_read_and_their_errors_named_by_file_and_line(tmp_path):
    frameworks = tmp_path / "lib" / "competencies"
    frameworks.mkdir(parents=True)
    (frameworks / "care.yaml").write_text(
        "title: Care work\ncode: CARE\nscale: [novice, expert]\ncompetencies:\n"
        "  - code: C1\n    title: Listening\n"
    )
    (frameworks / "odd.yaml").write_text("title: Odd\nscale: [one, two]\ncolour: red\n")
    (frameworks / "broken.yaml").write_text("title: [unclosed\n")
    library = read_library([tmp_path / "lib"])
    assert {"C1"} in [framework.codes for framework in library.frameworks]
    assert f"{frameworks / 'odd.yaml'}:3: unknown key “colour”" in "\n".join(library.errors)
    assert f"{frameworks / 'broken.yaml'}:1: invalid YAML" in "\n".join(library.errors)
