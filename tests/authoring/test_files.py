"""File items in the trainer's editor: Add file and Edit file (issue 17,
point 3). A file is accepted by its content and stored once; a refused or too
large one changes nothing (no item, nothing on disk); a save based on an older
version gets the conflict page."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import csrf_token, login
from vle.audit import AuditEntry
from vle.authoring import editing, files
from vle.catalog.models import Item
from vle.uploads import stored_path

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.fixture
def instance(app, tmp_path) -> Path:
    """This test's own instance folder, so its uploads folder starts empty."""
    app.instance_path = str(tmp_path)
    return tmp_path


@pytest.fixture
def editor(session, make_user, make_course, client, instance):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer], lessons=2, status="draft", title="Safety")
    login(client, trainer.email)
    return trainer, course


def stored_files(instance: Path) -> list[Path]:
    folder = instance / "uploads"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def add_url(course, module=None):
    module = module or course.modules[0]
    return f"/trainer/courses/{course.slug}/modules/{module.id}/files/new"


def send(client, url, form):
    """Post `form` as multipart, the way the page's form would. Encoded in
    memory here: the test client would spool a large body to a temporary
    file it never closes."""
    form = {**form, "csrf_token": csrf_token(client, url)}
    files = {k: v for k, v in form.items() if isinstance(v, tuple)}
    values = {k: v for k, v in form.items() if k not in files}
    for key, (stream, filename) in files.items():
        values[key] = FileStorage(
            stream, filename=filename, content_type="application/octet-stream"
        )
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def add(client, course, data: bytes, name="handbook.pdf", title="Handbook", **fields):
    url = add_url(course)
    form = {"title": title, "required": "y", "description": "", **fields}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return send(client, url, form)


def download(client, course, item):
    """The item's file as a browser downloads it (the response closed: it streams a file)."""
    response = client.get(f"/courses/{course.slug}/items/{item.id}/file")
    response.get_data()
    response.close()
    return response


def fresh(session, item):
    """`item` as saved now (the test's session ends its read transaction first)."""
    session.rollback()
    session.refresh(item)


def file_items(session):
    session.rollback()
    return session.scalars(select(Item).where(Item.kind == "file")).all()


def test_the_add_file_form_uploads_as_multipart_and_names_the_limit(client, editor):
    _trainer, course = editor
    page = client.get(add_url(course)).get_data(as_text=True)
    assert "<h1>Add file</h1>" in page
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and "at most 50 MB" in page
    assert ">Save</button>" in page


def test_an_accepted_pdf_is_stored_added_at_the_end_audited_and_downloadable(
    client, session, editor, instance
):
    _trainer, course = editor
    response = add(
        client, course, PDF, name="../docs/Staff handbook.PDF", title="Įvadas: handbook",
        description="Read **chapter 2** first.",
    )  # fmt: skip
    assert response.status_code == 302
    [item] = file_items(session)
    assert item.title == "Įvadas: handbook" and item.required
    assert item.slug == "ivadas-handbook"
    assert (item.position, item.prefix) == (3, "03")  # after the module's two lessons
    assert "<strong>chapter 2</strong>" in item.body_html
    assert item.source == "Read **chapter 2** first."
    stored = item.settings["file"]
    assert stored["name"] == "Staff handbook.pdf"
    assert stored["type"] == "application/pdf" and stored["size"] == len(PDF)
    assert stored_path(instance, stored["sha256"]).read_bytes() == PDF
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "authoring.add_file"))
    assert entry is not None and entry.target_id == course.id

    response = download(client, course, item)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Staff handbook.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_second_file_of_the_same_title_gets_its_own_slug(client, session, editor):
    _trainer, course = editor
    assert add(client, course, PDF).status_code == 302
    assert add(client, course, PNG, name="map.png").status_code == 302
    slugs = sorted(item.slug for item in file_items(session))
    assert slugs == ["handbook", "handbook-2"]


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not accepted"),
        ("setup.exe", b"MZ\x90\x00" + bytes(200), "not accepted"),
        ("icon.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "not accepted"),
        ("handbook.pdf", b"only text, not a PDF", "not that kind of file"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_a_refused_file_is_a_field_error_and_changes_nothing(
    client, session, editor, instance, name, data, says
):
    _trainer, course = editor
    response = add(client, course, data, name=name)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert says in page and 'aria-invalid="true"' in page
    assert file_items(session) == []
    assert stored_files(instance) == []
    assert session.scalar(select(AuditEntry).where(AuditEntry.action.like("authoring.%"))) is None


def test_a_file_over_the_limit_is_refused_naming_the_limit(client, session, editor, app, instance):
    _trainer, course = editor
    app.config["UPLOAD_MAX_MB"] = 1
    response = add(client, course, PDF + bytes(1024 * 1024))
    assert response.status_code == 422
    assert "too large: at most 1 MB" in response.get_data(as_text=True)
    assert file_items(session) == [] and stored_files(instance) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client, editor, app, instance):
    _trainer, course = editor
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = add(client, course, PDF + bytes(200 * 1024))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "File too large" in page and "at most 50 MB" in page
    assert stored_files(instance) == []


def test_no_file_or_no_title_is_a_form_error(client, session, editor, instance):
    _trainer, course = editor
    no_file = add(client, course, None)
    assert no_file.status_code == 422 and "Choose a file to upload." in no_file.get_data(True)
    no_title = add(client, course, PDF, title="  ")
    assert no_title.status_code == 422
    assert file_items(session) == [] and stored_files(instance) == []


def test_only_the_course_editors_add_files(client, session, make_user, make_course, instance):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    theirs = make_course(trainers=[trainer])
    stranger = make_user("trainer")
    login(client, stranger.email)
    assert client.get(add_url(course)).status_code == 404
    client.get("/logout")
    learner = make_user()
    login(client, learner.email)
    assert client.get(add_url(course)).status_code == 404
    client.get("/logout")
    login(client, trainer.email)
    # A module of another course, under this course's address.
    assert client.get(add_url(course, theirs.modules[0])).status_code == 404
    assert file_items(session) == [] and stored_files(instance) == []


@pytest.fixture
def file_item(client, session, editor):
    _trainer, course = editor
    assert add(client, course, PDF, description="Old text").status_code == 302
    [item] = file_items(session)
    return course, item


def edit_url(course, item):
    return f"/trainer/courses/{course.slug}/files/{item.id}/edit"


def test_edit_shows_the_saved_values_and_the_current_file(client, file_item):
    course, item = file_item
    page = client.get(edit_url(course, item)).get_data(as_text=True)
    assert 'value="Handbook"' in page and "Old text" in page
    assert f'name="version" type="hidden" value="{item.version}"' in page
    assert "handbook.pdf" in page and "Replace the file" in page


def test_edit_saves_the_text_and_keeps_the_file_unless_one_is_sent(
    client, session, file_item, instance
):
    course, item = file_item
    url = edit_url(course, item)
    sha = item.settings["file"]["sha256"]
    response = send(
        client, url, {"title": "New handbook", "description": "New text", "version": "1"}
    )
    assert response.status_code == 302
    fresh(session, item)
    assert (item.title, item.required, item.source, item.version) == (
        "New handbook", False, "New text", 2,
    )  # fmt: skip
    assert item.settings["file"]["sha256"] == sha
    response = send(
        client, url,
        {"title": "New handbook", "required": "y", "version": "2",
         "file": (io.BytesIO(PNG), "map.png")},
    )  # fmt: skip
    assert response.status_code == 302
    fresh(session, item)
    assert item.settings["file"]["type"] == "image/png"
    assert item.settings["file"]["name"] == "map.png" and item.version == 3
    assert stored_path(instance, item.settings["file"]["sha256"]).read_bytes() == PNG
    assert download(client, course, item).data == PNG


def test_a_refused_replacement_changes_nothing(client, session, file_item):
    course, item = file_item
    url = edit_url(course, item)
    before = dict(item.settings["file"])
    response = send(
        client, url,
        {"title": "Changed", "version": "1", "file": (io.BytesIO(b"MZ" + bytes(99)), "a.exe")},
    )  # fmt: skip
    assert response.status_code == 422 and "not accepted" in response.get_data(True)
    fresh(session, item)
    assert item.title == "Handbook" and item.settings["file"] == before and item.version == 1


def test_a_save_based_on_an_older_version_gets_the_conflict_page(client, session, file_item):
    course, item = file_item
    url = edit_url(course, item)
    assert send(client, url, {"title": "Theirs", "version": "1"}).status_code == 302
    response = send(client, url, {"title": "Mine", "version": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this meanwhile" in page
    assert "Theirs" in page and "Mine" in page
    assert 'name="version" value="2"' in page
    fresh(session, item)
    assert item.title == "Theirs" and item.version == 2
    # Keep my version: the conflict page's form, based on the version it showed.
    kept = send(client, url, {"title": "Mine", "version": "2"})
    assert kept.status_code == 302
    fresh(session, item)
    assert item.title == "Mine" and item.version == 3


def test_edit_file_is_for_file_items_of_this_course_only(client, session, editor, make_course):
    trainer, course = editor
    lesson = course.items[0]
    response = client.get(edit_url(course, lesson))
    assert response.status_code in (302, 404)
    other = make_course(trainers=[trainer])
    assert client.get(edit_url(course, other.items[0])).status_code == 404


def test_a_racing_save_caught_at_flush_shows_the_saved_version(
    client, session, file_item, monkeypatch
):
    course, item = file_item
    url = edit_url(course, item)
    session.execute(
        Item.__table__.update().where(Item.id == item.id).values(title="Raced", version=2)
    )
    session.commit()

    def racing(*_args, **_kwargs):
        raise editing.EditConflict(None)

    monkeypatch.setattr(files, "edit_file", racing)
    response = send(client, url, {"title": "Mine", "version": "2"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Raced" in page and 'name="version" value="2"' in page
