"""A users file between its dry run and its confirmation: no password waits on
disk in plain text, and the file is gone once confirmed or after an hour."""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import pytest
from flask import get_flashed_messages

from tests.conftest import csrf_token, login
from vle.accounts import services as accounts

SECRET = "Sekretas-ąžuolas-42"
FILE = (
    "email,name,role,organisation,password\n"
    f"new@example.org,Nauja,learner,VLN-SCH,{SECRET}\n"
    "short@example.org,Trumpas,learner,VLN-SCH,tiny-pw\n"
)


@pytest.fixture
def pending(app) -> Path:
    """The folder of files waiting for confirmation, empty to begin with."""
    folder = Path(app.instance_path) / "imports"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def _dry_run(client) -> str:
    response = client.post(
        "/admin/users/import",
        data={"csrf_token": csrf_token(client, "/admin/users/import"),
              "file": (io.BytesIO(FILE.encode()), "people.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page.split('name="token" type="hidden" value="')[1].split('"')[0]


def _confirm(client, token: str):
    return client.post(
        "/admin/users/import/confirm",
        data={"csrf_token": csrf_token(client, "/admin/users/import"), "token": token},
    )


def test_the_pending_file_holds_no_password_and_goes_once_confirmed(
    client, session, world, pending
):
    login(client, "sch-admin@example.org")
    token = _dry_run(client)
    stored = b"".join(path.read_bytes() for path in pending.iterdir())
    assert stored  # the file waits for its confirmation
    assert SECRET.encode() not in stored and b"tiny-pw" not in stored
    response = _confirm(client, token)
    assert response.status_code == 200
    assert "1 created, 0 updated, 0 unchanged, 1 refused" in response.get_data(as_text=True)
    assert list(pending.iterdir()) == []
    new = accounts.user_by_email(session, "new@example.org")
    assert accounts.authenticate(session, "new@example.org", SECRET) == new
    assert accounts.user_by_email(session, "short@example.org") is None


def test_a_pending_file_older_than_an_hour_is_deleted_and_refused(client, session, world, pending):
    login(client, "sch-admin@example.org")
    token = _dry_run(client)
    (path,) = pending.iterdir()
    hour_ago = time.time() - 3601
    os.utime(path, (hour_ago, hour_ago))
    with client:
        response = _confirm(client, token)
        assert response.status_code == 302
        assert "This dry run has expired. Upload the file again." in get_flashed_messages()
    assert list(pending.iterdir()) == []
    assert accounts.user_by_email(session, "new@example.org") is None
