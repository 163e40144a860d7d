"""One run of `vle courses import` names every problem of every file: an
invalid course.yaml no longer hides the errors of the course's modules and
items (issue 17, point 7)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from vle.catalog.models import Course, Item
from vle.library.reader import read_library


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


BROKEN = {
    # line 2: a key that is no key of course.yaml; line 3: YAML that does not parse
    "course.yaml": "title: Broken\nlanguage: [en\n",
    "01-one/01-untitled.md": "No front matter and no heading.\n",
    "01-one/02-check.gift": "::Q1:: Which one? {=a ~b\n\n::Q2:: Fine? {TRUE}\n",
    "02-two/01-fine.md": "# A fine lesson\n\nText.\n",
}


def test_every_file_is_read_when_course_yaml_is_invalid(tmp_path):
    folder = write(tmp_path / "broken", BROKEN)
    found = read_library([folder])
    assert found.courses == []  # the course is not imported
    joined = "\n".join(found.errors)
    assert f"{folder / 'course.yaml'}:2: invalid YAML" in joined
    assert f"{folder / '01-one' / '01-untitled.md'}:1: a lesson needs a title" in joined
    assert f"{folder / '01-one' / '02-check.gift'}:1:" in joined


def test_cli_lists_every_error_and_changes_nothing(runner, session, tmp_path, make_course):
    make_course(slug="kept", lessons=2)
    folder = write(tmp_path / "broken", BROKEN)
    result = runner.invoke(["courses", "import", str(folder)])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert any(line.startswith(f"{folder / 'course.yaml'}:2: invalid YAML") for line in lines)
    assert any(
        line.startswith(f"{folder / '01-one' / '01-untitled.md'}:1: a lesson needs a title")
        for line in lines
    )
    assert any(line.startswith(f"{folder / '01-one' / '02-check.gift'}:1:") for line in lines)
    assert "nothing was imported" in result.output
    assert "Traceback" not in result.output
    session.rollback()
    assert session.scalars(select(Course.slug)).all() == ["kept"]
    assert session.scalar(select(func.count()).select_from(Item)) == 2


def test_a_course_yaml_with_a_missing_title_still_reads_the_rest(tmp_path):
    folder = write(
        tmp_path / "untitled",
        {
            "course.yaml": "summary: no title here\nlevel: 3\n",
            "01-one/01-a.md": "---\nminutes: many\n---\nText\n",
        },
    )
    errors = read_library([folder]).errors
    assert f"{folder / 'course.yaml'}:1: “title” is required" in errors
    assert any(e.startswith(f"{folder / 'course.yaml'}:2: unknown key “level”") for e in errors)
    assert any(e.startswith(f"{folder / '01-one' / '01-a.md'}:") for e in errors)
