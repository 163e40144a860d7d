"""File and link items as files: NN-slug.<ext> (checked by content) with an
optional NN-slug.yaml, and NN-slug.yaml alone with a `url`; read, imported,
exported byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from vle import uploads
from vle.catalog.models import Course, Item
from vle.library import services as library
from vle.library.reader import read_library
from vle.library.services import LibraryInvalid

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def course_files(**extra: str | bytes) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "course.yaml": "title: Files and links\nlanguage: en\nstatus: published\n",
        "01-start/01-intro.md": "---\ntitle: Introduction\n---\nHello.\n",
        "01-start/02-handbook.pdf": PDF,
        "01-start/02-handbook.yaml": (
            "title: The handbook\nrequired: false\nfilename: Handbook 2026.pdf\n"
            "description: Read **chapter 2** first.\n"
        ),
        "01-start/03-diagram.png": PNG,
        "01-start/04-law.yaml": (
            "title: The law on public procurement\nurl: https://e-seimas.lrs.lt/portal/legalAct/lt/TAD/1\n"
            "minutes: 20\ndescription: |\n  The official text.\n\n  Articles 1 to 5.\n"
        ),
    }
    files.update(extra)
    return {f"files-course/{k}": v for k, v in files.items()}


def count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def test_file_and_link_items_are_read_and_imported(session, tmp_path, app):
    write(tmp_path / "lib", course_files())
    instance = tmp_path / "instance"
    library.import_paths(session, [tmp_path / "lib"], instance_path=instance)
    session.commit()
    course = session.scalar(select(Course).where(Course.slug == "files-course"))
    items = course.items
    assert [i.kind for i in items] == ["lesson", "file", "file", "link"]
    handbook, diagram, law = items[1], items[2], items[3]
    assert handbook.title == "The handbook" and handbook.required is False
    assert handbook.settings["file"] == {
        "name": "Handbook 2026.pdf",
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "type": "application/pdf",
        "size": len(PDF),
    }
    assert "<strong>chapter 2</strong>" in handbook.body_html
    # The bytes are kept in the instance folder, where downloads read them.
    assert uploads.read(instance, handbook.settings["file"]["sha256"]) == PDF
    assert diagram.title == "Diagram" and diagram.required is True
    assert diagram.settings["file"]["name"] == "diagram.png"
    assert diagram.settings["file"]["type"] == "image/png"
    assert law.settings == {"url": "https://e-seimas.lrs.lt/portal/legalAct/lt/TAD/1"}
    assert law.minutes == 20 and "Articles 1 to 5." in law.body_html


def test_file_and_link_items_export_byte_for_byte(session, tmp_path):
    source = write(tmp_path / "lib", course_files())
    instance = tmp_path / "instance"
    library.import_paths(session, [source], instance_path=instance)
    session.commit()
    out1 = library.export_course(session, "files-course", tmp_path / "out1", instance)
    assert (out1 / "01-start" / "02-handbook.pdf").read_bytes() == PDF
    assert (out1 / "01-start" / "03-diagram.png").read_bytes() == PNG
    assert "url: https://e-seimas.lrs.lt/portal/legalAct/lt/TAD/1" in (
        out1 / "01-start" / "04-law.yaml"
    ).read_text("utf-8")
    # A fresh instance folder: the import keeps the bytes the export wrote.
    other = tmp_path / "other-instance"
    library.import_paths(session, [out1], instance_path=other)
    session.commit()
    out2 = library.export_course(session, "files-course", tmp_path / "out2", other)
    names1 = sorted(p.relative_to(out1) for p in out1.rglob("*") if p.is_file())
    names2 = sorted(p.relative_to(out2) for p in out2.rglob("*") if p.is_file())
    assert names1 == names2
    for name in names1:
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"01-start/04-law.yaml": "title: Bad\nurl: javascript:alert(1)\n"},
            "04-law.yaml:2: “url” must be a web address starting with http:// or https://",
        ),
        (
            {"01-start/04-law.yaml": "title: Bad\nurl: ftp://example.org/x\n"},
            "04-law.yaml:2: “url” must be a web address",
        ),
        (
            {"01-start/04-law.yaml": "title: No address\nminutes: 3\n"},
            "04-law.yaml: quiz settings without a quiz: no .gift file of the same name",
        ),
        (
            {"01-start/04-law.yaml": "url: https://example.org\ncolour: red\n"},
            "04-law.yaml:2: unknown key “colour”",
        ),
        (
            {"01-start/02-handbook.pdf": b"<html><script>alert(1)</script></html>"},
            "02-handbook.pdf: This kind of file is not accepted",
        ),
        (
            {"01-start/05-tool.exe": b"MZ\x90\x00"},
            "05-tool.exe: unknown item file type",
        ),
        (
            {"01-start/02-handbook.yaml": "title: The handbook\npages: 3\n"},
            "02-handbook.yaml:2: unknown key “pages”",
        ),
        (
            {"01-start/01-intro.yaml": "title: Settings of a lesson\n"},
            "01-intro.yaml: a lesson's settings sit in its front matter",
        ),
    ],
)
def test_bad_file_and_link_items_are_named_with_their_line(session, tmp_path, files, expected):
    write(tmp_path / "lib", course_files(**files))
    with pytest.raises(LibraryInvalid) as raised:
        library.import_paths(session, [tmp_path / "lib"], instance_path=tmp_path / "instance")
    assert any(expected in error for error in raised.value.errors), raised.value.errors
    assert count(session, Course) == 0 and count(session, Item) == 0
    assert not (tmp_path / "instance" / "uploads").exists()  # nothing kept either


def test_a_file_over_the_limit_is_refused(tmp_path):
    write(tmp_path / "lib", course_files(**{"01-start/02-handbook.pdf": PDF + b"x" * 2000}))
    library_ = read_library([tmp_path / "lib"], max_file_bytes=1024)
    assert any(
        "02-handbook.pdf: the file is too large: at most 1 KB is allowed" in e
        for e in library_.errors
    ), library_.errors


def test_a_library_with_files_needs_the_instance_folder(session, tmp_path):
    write(tmp_path / "lib", course_files())
    with pytest.raises(LibraryInvalid, match="need the instance folder"):
        library.import_paths(session, [tmp_path / "lib"])


def test_cli_imports_and_exports_files_into_the_instance_folder(runner, app, tmp_path):
    write(tmp_path / "lib", course_files())
    result = runner.invoke(["courses", "import", str(tmp_path / "lib")])
    assert result.exit_code == 0, result.output
    assert "created files-course" in result.output
    result = runner.invoke(["courses", "export", "files-course", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "files-course" / "01-start" / "02-handbook.pdf").read_bytes() == PDF
