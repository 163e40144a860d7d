"""Users from a CSV file: strict UTF-8, a dry run line by line, nothing written
until confirmed, and export → import changes nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login
from vle.accounts import bulk
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.audit import AuditEntry
from vle.cli import cli

LETTERS = "ą č ę ė į š ų ū ž ł ń ó ś ź ż æ ø å Ą Č Ę Ė Į Š Ų Ū Ž Ł Ń Ó Ś Ź Ż Æ Ø Å"


def _plan(session, actor, text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return bulk.plan_import(session, actor, bulk.read_users_csv(data))


def _users(session) -> int:
    session.rollback()
    return session.scalar(select(func.count(User.id)))


def test_a_dry_run_gives_every_line_its_outcome_and_writes_nothing(session, world):
    text = (
        "email,name,role,organisation\n"
        "new@example.org,Nauja Ąžuolienė,learner,VLN-SCH\n"  # line 2: create
        "ona@example.org,Ona Žemaitė,trainer,VLN-SCH-1\n"  # line 3: update (role)
        "ona2@example.org,Dup One,learner,VLN-SCH\n"  # line 4: duplicate of line 6
        "not-an-email,X,learner,VLN-SCH\n"  # line 5: invalid email
        "ONA2@example.org,Dup Two,learner,VLN-SCH\n"  # line 6: duplicate (case-insensitive)
        "far@example.org,Far,learner,KRA\n"  # line 7: organisation outside scope
        "ghost@example.org,Ghost,learner,NOPE\n"  # line 8: unknown organisation
        "zofia@example.org,Zofia Łącka,learner,VLN-SCH\n"  # line 9: account outside scope
        "short@example.org,Short,learner\n"  # line 10: wrong number of cells
        "boss@example.org,Boss,king,VLN-SCH\n"  # line 11: unknown role
        "\n"
        "same@example.org,,learner,VLN-SCH\n"  # line 13: no name
    )
    before = _users(session)
    plan = _plan(session, world.school_admin, text)
    outcomes = {row.line: row for row in plan.rows}
    assert outcomes[2].action == "create"
    assert outcomes[3].action == "update" and outcomes[3].changes == ["role"]
    for line, words in {
        4: "lines 4, 6",
        5: "not a valid email",
        6: "lines 4, 6",
        7: "outside your scope",
        8: "no organisation with the code “NOPE”",
        9: "outside your scope",
        10: "3 cells; the header names 4 columns",
        11: "is not learner, trainer or admin",
        13: "name is missing",
    }.items():
        assert outcomes[line].action == "refuse", line
        assert any(words in reason for reason in outcomes[line].reasons), (
            line,
            outcomes[line].reasons,
        )
    assert sorted(outcomes) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert _users(session) == before
    assert accounts.user_by_email(session, "ona@example.org").role == "learner"


def test_applying_writes_the_valid_lines_only_with_an_audit_entry_each(session, world):
    text = (
        "email,name,role,organisation,active,language,password\n"
        f"new@example.org,{LETTERS},learner,VLN-SCH,yes,lt,a long password\n"
        "ona@example.org,Ona Žemaitė,learner,VLN-SCH-1,no,,\n"
        "bad@example.org,Bad,learner,KRA,,,\n"
    )
    plan = _plan(session, world.school_admin, text)
    result = bulk.apply_import(session, world.school_admin, plan, "192.0.2.7")
    session.commit()
    assert (result.created, result.updated, result.refused) == (1, 1, 1)
    new = accounts.user_by_email(session, "new@example.org")
    assert new.name == LETTERS and new.locale == "lt" and new.organisation.code == "VLN-SCH"
    assert accounts.authenticate(session, "new@example.org", "a long password") is not None
    assert not accounts.user_by_email(session, "ona@example.org").active
    assert accounts.user_by_email(session, "bad@example.org") is None
    actions = sorted(session.scalars(select(AuditEntry.action)))
    assert actions == ["user.create", "user.deactivate", "users.import"]
    assert all(e.address == "192.0.2.7" for e in session.scalars(select(AuditEntry)))


@pytest.mark.parametrize(
    "data, message",
    [
        (
            "email,name,role,organisation\nx@example.org,Žemaitė,learner,VLN\n".encode("cp1257"),
            "line 2",
        ),
        (
            "email,name,role,organisation\nx@example.org,Łącka,learner,VLN\n".encode("iso-8859-2"),
            "not UTF-8",
        ),
        (
            "email,name,role,organisation\nx@example.org,Øye,learner,VLN\n".encode("latin-1"),
            "CSV UTF-8",
        ),
        ("email,name,role,organisation\n".encode("utf-16"), "UTF-16"),
        (b"", "empty"),
        (b"email,name,role,organisation\nx@example.org,A\x00B,learner,VLN\n", "NUL"),
        (b"e-mail,name,role\nx@example.org,X,learner\n", "unknown columns: e-mail"),
        (b"email,name,role\nx@example.org,X,learner\n", "missing columns: organisation"),
        (b"email,name,email,role,organisation\n", "columns named twice: email"),
        (
            b'email,name,role,organisation\nx@example.org,"unclosed,learner,VLN\n',
            "cannot be read as CSV",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole_with_a_clear_message(
    session, world, data, message
):
    with pytest.raises(bulk.FileInvalid) as error:
        _plan(session, world.network, data)
    assert message in str(error.value.message)


def test_utf8_with_bom_and_semicolons_as_excel_writes_them(session, world):
    text = "\ufeffEmail;Name;Role;Organisation\nnew@example.org;Żaneta Ćwik;learner;VLN\n"
    plan = _plan(session, world.network, text.encode("utf-8"))
    assert [(r.action, r.values["name"]) for r in plan.rows] == [("create", "Żaneta Ćwik")]


def test_export_then_import_changes_nothing_and_letters_round_trip(session, world, make_user):
    make_user(org=world.lib, email="letters@example.org", name=LETTERS)
    make_user(org=world.lib, email="formula@example.org", name='=HYPERLINK("x")')
    make_user(org=world.lib, email="quote@example.org", name="'=not a formula")
    accounts.set_active(session, None, world.librarian, False)
    world.pupil.locale = "nb"
    session.commit()
    exported = "".join(bulk.export_csv_lines(bulk.users_for_export(session, None)))
    assert exported.startswith("\ufeffemail,name,role,organisation,active,language\r\n")
    assert "'=HYPERLINK" in exported  # neutralised for spreadsheets
    plan = _plan(session, None, exported.encode("utf-8"))
    assert {row.action for row in plan.rows} == {"unchanged"}, [
        bulk.describe(r) for r in plan.rows if r.action != "unchanged"
    ]
    assert len(plan.rows) == _users(session)
    result = bulk.apply_import(session, None, plan)
    assert (result.created, result.updated) == (0, 0)


def test_a_scoped_export_holds_only_the_subtree_and_imports_unchanged(session, world):
    exported = "".join(bulk.export_csv_lines(bulk.users_for_export(session, world.school_admin)))
    assert "ona@example.org" in exported and "sch-admin@example.org" in exported
    assert "zofia@example.org" not in exported and "lib@example.org" not in exported
    plan = _plan(session, world.school_admin, exported.encode("utf-8"))
    assert {row.action for row in plan.rows} == {"unchanged"}


def test_web_dry_run_then_confirm(client, session, world):
    login(client, "sch-admin@example.org")
    page = client.get("/admin/users/import").get_data(as_text=True)
    assert 'for="file"' in page and "organisation" in page
    text = (
        "email,name,role,organisation\n"
        "new@example.org,Nauja Ąžuolienė,learner,VLN-SCH\n"
        "far@example.org,Far,learner,KRA\n"
    )
    before = _users(session)
    response = client.post(
        "/admin/users/import",
        data={"csrf_token": csrf_token(client, "/admin/users/import"),
              "file": (io.BytesIO(text.encode()), "people.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Nothing has been imported yet" in page
    assert "new@example.org" in page and "Create" in page
    assert "far@example.org" in page and "outside your scope" in page
    assert "Confirm: import 1 valid line" in page
    assert _users(session) == before
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    # Another administrator cannot confirm this file.
    other = client.application.test_client()
    login(other, "net@example.org")
    response = other.post(
        "/admin/users/import/confirm",
        data={"csrf_token": csrf_token(other, "/admin/users/import"), "token": token},
    )
    assert response.status_code == 302 and _users(session) == before
    assert "expired" in other.get("/admin/users/import").get_data(as_text=True)
    response = client.post(
        "/admin/users/import/confirm",
        data={"csrf_token": csrf_token(client, "/admin/users/import"), "token": token},
    )
    assert response.status_code == 200
    assert "1 created, 0 updated, 0 unchanged, 1 refused" in response.get_data(as_text=True)
    assert _users(session) == before + 1
    assert accounts.user_by_email(session, "new@example.org").name == "Nauja Ąžuolienė"
    # Confirming twice imports nothing more: the file is gone.
    response = client.post(
        "/admin/users/import/confirm",
        data={"csrf_token": csrf_token(client, "/admin/users/import"), "token": token},
    )
    assert response.status_code == 302 and _users(session) == before + 1
    # Tampered tokens are refused the same way, and never read a file outside the folder.
    response = client.post(
        "/admin/users/import/confirm",
        data={"csrf_token": csrf_token(client, "/admin/users/import"), "token": "../../secret_key"},
    )
    assert response.status_code == 302


def test_web_upload_errors_are_announced(client, session, world):
    login(client, "net@example.org")
    token = csrf_token(client, "/admin/users/import")
    response = client.post(
        "/admin/users/import",
        data={
            "csrf_token": token,
            "file": (io.BytesIO("email,name\nž,x\n".encode("cp1257")), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "not UTF-8" in page
    response = client.post("/admin/users/import", data={"csrf_token": token})
    assert response.status_code == 422 and "Choose a CSV file" in response.get_data(as_text=True)


def test_web_export_downloads_the_scoped_users_file(client, session, world):
    login(client, "sch-admin@example.org")
    response = client.get("/admin/users/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbfemail,name,role,organisation,active,language\r\n")
    text = body.decode("utf-8-sig")
    assert "Ona Žemaitė" in text and "zofia@example.org" not in text
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "users.export"))
    assert entry.actor_id == world.school_admin.id and entry.organisation_id == world.sch.id


def test_cli_dry_run_commit_and_bad_input(app, session, world, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "people.csv"
    path.write_text(
        "email,name,role,organisation\n"
        "new@example.org,Øystein Ås,learner,KRA-LIB\n"
        "broken,Broken,learner,KRA\n",
        encoding="utf-8",
    )
    before = _users(session)
    result = runner.invoke(cli, ["users", "import", str(path)])
    assert result.exit_code == 1
    assert "line 2: create new@example.org" in result.output
    assert "line 3: refused broken" in result.output
    assert "Nothing was written" in result.output
    assert _users(session) == before
    result = runner.invoke(cli, ["users", "import", str(path), "--commit"])
    assert "Imported: 1 created" in result.output and result.exit_code == 1
    assert _users(session) == before + 1
    assert accounts.user_by_email(session, "new@example.org").name == "Øystein Ås"
    # Export → import again: every line unchanged, exit 0.
    out = tmp_path / "export.csv"
    result = runner.invoke(cli, ["users", "export", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["users", "import", str(out), "--commit"])
    assert result.exit_code == 0, result.output
    assert "created" not in result.output.split("Imported:")[0]
    assert "0 created, 0 updated" in result.output
    # Bad input: one clear line, exit 1, no traceback.
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "email,name,role,organisation\nx@example.org,Ø,learner,KRA\n".encode("latin-1")
    )
    for args, words in (
        (["users", "import", str(latin)], "not UTF-8"),
        (["users", "import", str(tmp_path / "missing.csv")], "Cannot read"),
        (["users", "export", str(out), "--organisation", "NOPE"], "no organisation"),
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 1 and words in result.output, (args, result.output)
        assert "Traceback" not in result.output
