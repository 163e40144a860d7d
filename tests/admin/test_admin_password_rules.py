"""A password an administrator sets follows the rules a person's own password
follows (accounts.services.check_password_strength): on the account form (new
and edit), in a users file (dry run and confirmation) and with `vle users
create`. A weak one is refused with the reason; nothing changes."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_token, login, post_form
from vle.accounts import bulk, passwords
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.audit import AuditEntry
from vle.cli import cli
from vle.errors import Invalid

COMMON = "This is one of the most common passwords"
NOT_EMAIL = "The password must not be your email address."
NOT_NAME = "The password must not be your name."


def _users(session) -> int:
    session.rollback()
    return session.scalar(select(func.count(User.id)))


def test_one_rule_for_everyone(session, world):
    # The same function answers the person's own forms and the administrator's paths.
    assert passwords.WeakPassword is accounts.WeakPassword
    with pytest.raises(accounts.WeakPassword, match=COMMON):
        passwords.check_new_password("Password123", world.pupil)
    with pytest.raises(accounts.WeakPassword, match=COMMON):
        accounts.check_password_strength("Password123", "x@example.org", "X")
    with pytest.raises(accounts.WeakPassword, match="email"):
        accounts.check_password_strength("Dana.Long@Example.org", "dana.long@example.org", "D")
    with pytest.raises(accounts.WeakPassword, match="name"):
        accounts.check_password_strength("Dana Longname", "d@example.org", "dana longname")
    accounts.check_password_strength("a long password", "d@example.org", "Dana")


@pytest.mark.parametrize(
    ("password", "reason"),
    [("qwerty12345", COMMON), ("newcomer@example.org", NOT_EMAIL), ("Nina Newcomer", NOT_NAME)],
)
def test_the_account_form_refuses_a_weak_password_for_a_new_account(
    client, session, world, password, reason
):
    login(client, "sch-admin@example.org")
    before = _users(session)
    response = post_form(
        client, "/admin/users/new",
        {"email": "newcomer@example.org", "name": "Nina Newcomer", "role": "learner",
         "organisation": "VLN-SCH", "password": password},
        page="/admin/users/new",
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert reason in page and 'role="alert"' in page
    # Shown beside the password field, not the e-mail.
    assert re.search(r'id="password-error">[^<]*' + re.escape(reason), page)
    assert 'id="email-error"' not in page
    assert _users(session) == before
    assert accounts.user_by_email(session, "newcomer@example.org") is None


def test_the_account_form_refuses_a_weak_password_for_an_existing_account(client, session, world):
    pupil_hash = world.pupil.password_hash
    login(client, "sch-admin@example.org")
    response = post_form(
        client, f"/admin/users/{world.pupil.id}",
        {"email": "ona@example.org", "name": "Ona Žemaitė", "role": "learner",
         "organisation": "VLN-SCH-1", "password": "ONA@example.org"},
        page=f"/admin/users/{world.pupil.id}",
    )  # fmt: skip
    assert response.status_code == 422
    assert NOT_EMAIL in response.get_data(as_text=True)
    session.rollback()
    session.expire_all()
    assert session.get(User, world.pupil.id).password_hash == pupil_hash
    assert accounts.authenticate(session, "ona@example.org", PASSWORD) is not None
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update")) is None


def test_the_services_refuse_it_too(session, world):
    with pytest.raises(Invalid, match=COMMON):
        accounts.add_user(
            session, world.school_admin, email="n@example.org", name="N", role="learner",
            organisation_code="VLN-SCH", password="1234567890",
        )  # fmt: skip
    session.rollback()
    with pytest.raises(Invalid, match=NOT_NAME):
        accounts.update_user(
            session, world.school_admin, world.pupil, email="ona@example.org",
            name="Ona Žemaitė", role="learner", organisation_code="VLN-SCH-1",
            password="ona žemaitė",
        )  # fmt: skip
    session.rollback()


FILE = (
    "email,name,role,organisation,password\n"
    "good@example.org,Gera,learner,VLN-SCH,a long password\n"
    "common@example.org,Bendra,learner,VLN-SCH,password123\n"
    "self@example.org,Savas,learner,VLN-SCH,self@example.org\n"
    "ona@example.org,Ona Žemaitė,learner,VLN-SCH-1,Ona Žemaitė\n"
)


def test_a_users_file_dry_run_gives_the_reason(session, world):
    plan = bulk.plan_import(session, world.school_admin, bulk.read_users_csv(FILE.encode()))
    outcomes = {row.email: row for row in plan.rows}
    assert outcomes["good@example.org"].action == "create"
    assert outcomes["common@example.org"].action == "refuse"
    assert any(COMMON in reason for reason in outcomes["common@example.org"].reasons)
    assert outcomes["self@example.org"].reasons == [NOT_EMAIL]
    assert outcomes["ona@example.org"].reasons == [NOT_NAME]


@pytest.fixture
def pending(app) -> Path:
    folder = Path(app.instance_path) / "imports"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def test_a_users_file_confirmed_on_the_web_still_refuses_them(client, session, world, pending):
    login(client, "sch-admin@example.org")
    ona_hash = world.pupil.password_hash
    response = client.post(
        "/admin/users/import",
        data={"csrf_token": csrf_token(client, "/admin/users/import"),
              "file": (io.BytesIO(FILE.encode()), "people.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert COMMON in page and NOT_EMAIL in page and NOT_NAME in page
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    stored = b"".join(path.read_bytes() for path in pending.iterdir())
    assert b"password123" not in stored  # a refused password does not wait on disk either
    response = client.post(
        "/admin/users/import/confirm",
        data={"csrf_token": csrf_token(client, "/admin/users/import"), "token": token},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "1 created, 0 updated, 0 unchanged, 3 refused" in text
    assert COMMON in text
    assert accounts.user_by_email(session, "good@example.org") is not None
    assert accounts.user_by_email(session, "common@example.org") is None
    assert accounts.user_by_email(session, "self@example.org") is None
    session.expire_all()
    assert session.get(User, world.pupil.id).password_hash == ona_hash


def test_the_cli_refuses_a_weak_password(app, session, world, tmp_path):
    runner = app.test_cli_runner()
    before = _users(session)
    result = runner.invoke(
        cli,
        ["users", "create", "cli@example.org", "--name", "Cli Person",
         "--role", "learner", "--organisation", "VLN", "--password", "welcome123"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert COMMON in result.output
    assert _users(session) == before

    path = tmp_path / "people.csv"
    path.write_text(FILE, encoding="utf-8")
    result = runner.invoke(cli, ["users", "import", str(path), "--commit"])
    assert re.search(r"line 3: refused common@example.org.*" + COMMON, result.output)
    assert "Imported: 1 created" in result.output
    assert accounts.user_by_email(session, "common@example.org") is None

    result = runner.invoke(
        cli,
        ["users", "create", "cli@example.org", "--name", "Cli Person",
         "--role", "learner", "--organisation", "VLN", "--password", "a long password"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
