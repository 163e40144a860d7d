"""Download as .zip and Upload .zip (issue 17, point 7): the courses/ layout in
a zip, refused zips and invalid courses change nothing, a new slug creates
the course, a known one updates it after a summary and a confirmation, and
the round trip gives the same files byte for byte."""

from __future__ import annotations

import io
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import _empty_tables, csrf_token, login
from vle.audit import AuditEntry
from vle.catalog.models import Course, Item
from vle.learning.models import ItemProgress
from vle.library import services as library

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
QUIZ = "::Q1::The sky is blue. {TRUE}\n\n::Q2::Two and two? {#4}\n"


def course_files(
    slug: str = "zip-course", trainer: str | None = None, issuer: str | None = None
) -> dict[str, str | bytes]:
    trainers = f"trainers: [{trainer}]\n" if trainer else ""
    # The certificate's fields: a length with a decimal, the issuing organisation, a key's hint.
    certificate = "hours: 1.5\nenrolment_key_hint: 'Ask your trainer: “Vilnius”'\n"
    certificate += f"issuer: {issuer}\n" if issuer else ""
    files: dict[str, str | bytes] = {
        "course.yaml": f"title: Zipped course\nlanguage: en\nstatus: published\n{certificate}{trainers}",
        "01-start/module.yaml": "title: Start here\n",
        "01-start/01-welcome.md": "---\ntitle: Welcome\nminutes: 3\n---\nHello **all**.\n",
        "01-start/02-check.gift": QUIZ,
        "01-start/02-check.yaml": "title: Check\npass_mark: 50\n",
        "02-more/01-handbook.pdf": PDF,
        "02-more/01-handbook.yaml": "title: Handbook\nfilename: Handbook.pdf\n",
        "02-more/02-site.yaml": "title: The site\nurl: https://example.org/guide\n",
    }
    return {f"{slug}/{name}": content for name, content in files.items()}


def make_zip(files: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def upload(client, data: bytes, name: str = "course.zip"):
    token = csrf_token(client, "/trainer/upload")
    return client.post(
        "/trainer/upload",
        data={"file": (io.BytesIO(data), name), "csrf_token": token},
        content_type="multipart/form-data",
    )


def confirm(client, page: str):
    import re

    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(
        "/trainer/upload/confirm", data={"token": token, "version": version, "csrf_token": csrf}
    )


def counts(session) -> tuple[int, int]:
    session.rollback()
    return (
        session.scalar(select(func.count()).select_from(Course)),
        session.scalar(select(func.count()).select_from(Item)),
    )


def zip_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


@pytest.fixture
def trainer(make_user):
    return make_user("trainer", email="trainer@example.org")


@pytest.fixture
def imported(session, app, trainer, tmp_path):
    """The course imported from files, its trainer `trainer`."""
    for name, content in course_files(
        trainer=trainer.email, issuer=trainer.organisation.code
    ).items():
        path = tmp_path / "lib" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    library.import_paths(session, [tmp_path / "lib"], instance_path=app.instance_path)
    session.commit()
    return session.scalar(select(Course).where(Course.slug == "zip-course"))


# --------------------------------------------------------------------------- download


def test_download_holds_what_the_cli_export_writes(
    client, runner, imported, trainer, session, tmp_path
):
    login(client, trainer.email)
    response = client.get("/trainer/courses/zip-course/course.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="zip-course.zip"'
    assert response.headers["Cache-Control"] == "no-store"
    entries = zip_entries(response.data)
    result = runner.invoke(["courses", "export", "zip-course", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "zip-course"
    exported = {
        f"zip-course/{p.relative_to(folder).as_posix()}": p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }
    assert entries == exported
    assert entries["zip-course/02-more/01-handbook.pdf"] == PDF
    assert not any("competencies/" in name for name in entries)
    session.rollback()
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "authoring.download_zip")
        )
        == 1
    )


def test_download_is_for_those_who_may_read_the_course(client, imported, make_user):
    learner = make_user("learner")
    login(client, learner.email)
    assert client.get("/trainer/courses/zip-course/course.zip").status_code == 404
    other = make_user("trainer")
    login(client, other.email)
    assert client.get("/trainer/courses/zip-course/course.zip").status_code == 404


# --------------------------------------------------------------------------- upload: a new course


def test_upload_creates_a_new_course_with_the_uploader_as_trainer(client, session, trainer):
    login(client, trainer.email)
    page = client.get("/trainer/upload").get_data(as_text=True)
    assert "Upload .zip" in page
    response = upload(client, make_zip(course_files()))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/trainer/courses/zip-course/contents")
    session.rollback()
    course = session.scalar(select(Course).where(Course.slug == "zip-course"))
    assert course.title == "Zipped course"
    assert [t.email for t in course.trainers] == [trainer.email]
    assert [i.kind for i in course.items] == ["lesson", "quiz", "file", "link"]
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "authoring.upload_zip")
        )
        == 1
    )


def test_course_yaml_at_the_root_takes_its_slug_from_the_file_name(client, session, trainer):
    login(client, trainer.email)
    files = {name.split("/", 1)[1]: content for name, content in course_files().items()}
    response = upload(client, make_zip(files), name="Etika 2026.zip")
    assert response.status_code == 302
    session.rollback()
    assert session.scalars(select(Course.slug)).all() == ["etika-2026"]


def test_learners_may_not_upload(client, make_user):
    learner = make_user("learner")
    login(client, learner.email)
    assert client.get("/trainer/upload").status_code == 403


# --------------------------------------------------------------------------- upload: refusals


def _symlink_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in course_files().items():
            archive.writestr(name, content)
        link = zipfile.ZipInfo("zip-course/01-start/03-passwd.md")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


def _encrypted_zip() -> bytes:
    data = bytearray(make_zip(course_files()))
    # Set the "encrypted" flag of every entry in the central directory.
    position = data.find(b"PK\x01\x02")
    while position != -1:
        data[position + 8] |= 0x1
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def _bomb_zip() -> bytes:
    files = course_files()
    files["zip-course/02-more/03-notes.txt"] = "a" * (8 * 1024 * 1024)
    return make_zip(files)


def _many_zip() -> bytes:
    # Short names keep the request small (the test client spools larger ones to a file it never closes).
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for n in range(5_001):
            archive.writestr(f"{n:x}", "x")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            lambda: make_zip({**course_files(), "zip-course/../evil.md": "# Evil\n"}),
            "“zip-course/../evil.md”: a path that leaves the folder (..).",
        ),
        (
            lambda: make_zip({**course_files(), "/etc/evil.md": "# Evil\n"}),
            "“/etc/evil.md”: an absolute path.",
        ),
        (
            lambda: make_zip({**course_files(), "C:/evil.md": "# Evil\n"}),
            "“C:/evil.md”: an absolute path.",
        ),
        (
            lambda: make_zip({**course_files(), "zip-course\\01-start\\evil.md": "# Evil\n"}),
            "a path with backslashes",
        ),
        (_symlink_zip, "“zip-course/01-start/03-passwd.md”: a symbolic link."),
        (_encrypted_zip, "encrypted"),
        (_many_zip, "a course zip may hold at most 5000"),
        (_bomb_zip, "“zip-course/02-more/03-notes.txt”: compressed"),
        (lambda: b"this is not a zip at all", "This is not a .zip file."),
        (
            lambda: make_zip(
                {**course_files(), "zip-course/03-x": "a file", "zip-course/03-x/01-a.md": "# A\n"}
            ),
            "a file and a folder of the same name",
        ),
        (lambda: make_zip({"notes/readme.md": "# Hi\n"}), "The zip holds no course"),
    ],
    ids=[
        "dotdot",
        "absolute",
        "drive",
        "backslash",
        "symlink",
        "encrypted",
        "many",
        "bomb",
        "not-a-zip",
        "file-and-folder",
        "no-course",
    ],
)
def test_refused_zips_change_nothing(client, session, trainer, imported, app, data, message):
    login(client, trainer.email)
    before = counts(session)
    response = upload(client, data())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message.replace("“", "&#8220;") in page or message in page, page[:3000]
    assert "Nothing was changed." in page
    assert counts(session) == before
    assert not (Path(app.instance_path) / "zip-uploads").exists() or not any(
        (Path(app.instance_path) / "zip-uploads").iterdir()
    )


def test_invalid_files_are_named_by_their_path_in_the_zip(client, session, trainer):
    login(client, trainer.email)
    files = course_files()
    files["zip-course/course.yaml"] = "title: Broken\nstatus: live\n"
    files["zip-course/01-start/03-untitled.md"] = "No title.\n"
    files["zip-course/02-more/02-site.yaml"] = "title: Bad\nurl: javascript:alert(1)\n"
    response = upload(client, make_zip(files))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "zip-course/course.yaml:2: “status” must be one of" in page.replace(
        "&#8220;", "“"
    ).replace("&#8221;", "”")
    assert "zip-course/01-start/03-untitled.md:1: a lesson needs a title" in page
    assert "zip-course/02-more/02-site.yaml:2:" in page
    assert tempfile.gettempdir() not in page and "vle-upload" not in page
    assert counts(session) == (0, 0)


def test_a_known_course_the_uploader_may_not_edit_is_refused(client, session, imported, make_user):
    other = make_user("trainer")
    login(client, other.email)
    before = counts(session)
    files = course_files()
    files["zip-course/course.yaml"] = "title: Taken over\n"
    response = upload(client, make_zip(files))
    assert response.status_code == 403
    assert "exists and you may not edit it" in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(Course.title)) == "Zipped course"
    assert counts(session) == before


# --------------------------------------------------------------------------- upload: an update


def test_a_known_course_is_updated_after_a_summary_and_a_confirmation(
    client, session, imported, trainer, make_user
):
    learner = make_user("learner")
    handbook = session.scalar(select(Item).where(Item.slug == "handbook"))
    session.add(ItemProgress(user_id=learner.id, item_id=handbook.id))
    session.commit()
    welcome_version = session.scalar(select(Item.version).where(Item.slug == "welcome"))
    files = course_files(trainer=trainer.email)
    del files["zip-course/02-more/01-handbook.pdf"], files["zip-course/02-more/01-handbook.yaml"]
    files["zip-course/01-start/01-welcome.md"] = (
        "---\ntitle: Welcome, all\nminutes: 3\n---\nHello.\n"
    )
    files["zip-course/02-more/03-more.md"] = "# More reading\n\nText.\n"
    login(client, trainer.email)
    response = upload(client, make_zip(files))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Added: More reading" in page
    assert "Changed: Welcome, all" in page
    assert "Removed: Handbook" in page and "1 learner has progress on it" in page
    session.rollback()
    assert session.scalar(select(Item.title).where(Item.slug == "welcome")) == "Welcome"  # not yet
    response = confirm(client, page)
    assert response.status_code == 302
    session.rollback()
    course = session.scalar(select(Course).where(Course.slug == "zip-course"))
    assert [i.title for i in course.items] == ["Welcome, all", "Check", "The site", "More reading"]
    # The changed item's version was raised: an editor open on the old one gets a conflict.
    assert course.items[0].version > welcome_version
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "authoring.upload_zip")
        )
        == 1
    )
    # The confirmation was used up.
    assert confirm(client, page).status_code == 410


def test_an_update_confirmed_after_someone_changed_the_course_shows_the_summary_again(
    client, session, imported, trainer
):
    login(client, trainer.email)
    files = course_files(trainer=trainer.email)
    files["zip-course/course.yaml"] = (
        f"title: Renamed\nlanguage: en\nstatus: published\ntrainers: [{trainer.email}]\n"
    )
    page = upload(client, make_zip(files)).get_data(as_text=True)
    session.rollback()  # a fresh snapshot, after the sign-in's writes
    course = session.scalar(select(Course).where(Course.slug == "zip-course"))
    course.summary = "Changed meanwhile"
    course.version += 1
    session.commit()
    response = confirm(client, page)
    assert response.status_code == 409
    assert "Someone changed the course since you uploaded the zip" in response.get_data(
        as_text=True
    )
    session.rollback()
    assert session.scalar(select(Course.title)) == "Zipped course"
    assert confirm(client, response.get_data(as_text=True)).status_code == 302
    session.rollback()
    assert session.scalar(select(Course.title)) == "Renamed"


# --------------------------------------------------------------------------- round trips


def test_zip_round_trip_into_a_fresh_database_gives_the_same_files(
    client, app, session, imported, trainer
):
    login(client, trainer.email)
    first = client.get("/trainer/courses/zip-course/course.zip").data
    code = trainer.organisation.code  # the course's issuer too
    # A fresh database and instance folder: nothing of the course is left.
    session.close()
    _empty_tables(app)
    shutil.rmtree(Path(app.instance_path) / "uploads")
    from vle.accounts import services as accounts

    accounts.create_organisation(session, code, "Organisation")
    accounts.create_user(
        session, trainer.email, "Trainer", "trainer", code, password="correct horse battery"
    )
    session.commit()
    client = app.test_client()
    login(client, trainer.email)
    assert upload(client, first, name="zip-course.zip").status_code == 302
    second = client.get("/trainer/courses/zip-course/course.zip").data
    assert zip_entries(second) == zip_entries(first)
    assert second == first  # the same bytes: fixed times, sorted entries
    course_yaml = zip_entries(first)["zip-course/course.yaml"].decode()
    assert "hours: 1.5\n" in course_yaml and f"issuer: {code}\n" in course_yaml
    assert "enrolment_key_hint: 'Ask your trainer: “Vilnius”'" in course_yaml
    # And upload again onto itself: nothing changes, the same files again.
    page = upload(client, second).get_data(as_text=True)
    assert "The zip changes nothing in the course." in page
    assert confirm(client, page).status_code == 302
    assert client.get("/trainer/courses/zip-course/course.zip").data == first


def test_cli_import_then_zip_download_then_cli_export_give_the_same_files(
    client, runner, session, trainer, tmp_path
):
    source = tmp_path / "lib"
    for name, content in course_files(trainer=trainer.email).items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = runner.invoke(["courses", "import", str(source)])
    assert result.exit_code == 0, result.output
    login(client, trainer.email)
    entries = zip_entries(client.get("/trainer/courses/zip-course/course.zip").data)
    result = runner.invoke(["courses", "export", "zip-course", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "zip-course"
    exported = {
        f"zip-course/{p.relative_to(folder).as_posix()}": p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }
    assert entries == exported
    # What was imported comes back: the lesson's text, the quiz, the file's bytes, the link.
    assert entries["zip-course/02-more/01-handbook.pdf"] == PDF
    assert b"Hello **all**." in entries["zip-course/01-start/01-welcome.md"]
    assert b"url: https://example.org/guide" in entries["zip-course/02-more/02-site.yaml"]
