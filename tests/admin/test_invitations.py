"""Invitations (issue 15, point 2): an account made by an administrator (the
user form, a users CSV, `vle users create --invite`) gets a mail with a link
through which the person chooses their own password — nobody else ever knows
it. "Must change the password at the next sign-in" from the form and the CSV."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from tests.accounts.test_passwords import NEW, link_in, set_password
from tests.conftest import csrf_token, login, post_form
from vle.accounts import services as accounts
from vle.accounts.models import PasswordLink, User
from vle.audit import AuditEntry
from vle.db import utcnow

FIELDS = {"name": "Jonas Ąžuolas", "role": "learner", "organisation": "VLN-SCH-1", "language": ""}


def _new_user(client, email: str = "jonas@example.org", **extra):
    data = {"email": email, **FIELDS, "password": "", **extra}
    return post_form(client, "/admin/users/new", data, page="/admin/users/new")


def _fresh(session, email: str) -> User:
    session.rollback()
    session.expire_all()
    return accounts.user_by_email(session, email)


def _actions(session, user: User) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "user", AuditEntry.target_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


def test_the_new_user_form_invites_by_default(app, client, session, world, smtp_server):
    login(client, "sch-admin@example.org")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert re.search(r'<input aria-describedby="invite-help" checked id="invite"', page)
    assert 'for="invite">Send an invitation</label>' in page
    response = _new_user(client, invite="y")
    assert response.status_code == 302
    jonas = _fresh(session, "jonas@example.org")
    assert jonas.password_hash == ""  # nobody has chosen one yet
    [mail] = smtp_server.messages
    assert smtp_server.recipients == [["jonas@example.org"]]
    text = mail.get_body(("plain",)).get_content()
    assert "School Admin" in text and "Mokyklos skyrius" in text
    assert "for 14 days" in text
    path = link_in(mail)
    assert path.startswith("/password/invitation/")
    # The administrator's own pages never hold the link.
    admin_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert path not in admin_page and "An invitation to choose a password" in admin_page

    person = app.test_client()
    page = person.get(path).get_data(as_text=True)
    assert "New password" in page and "Repeat new password" in page and "Set password" in page
    assert set_password(person, path).status_code == 302
    assert login(person, "jonas@example.org", NEW).status_code == 302
    assert person.get("/my").status_code == 200
    jonas = _fresh(session, "jonas@example.org")
    assert _actions(session, jonas) == ["user.create", "user.invite", "user.invitation_accept"]
    # The link is spent.
    assert app.test_client().get(path).status_code == 410


def test_the_invitation_is_in_the_accounts_language(client, world, smtp_server):
    login(client, "sch-admin@example.org")
    assert _new_user(client, invite="y", language="nb").status_code == 302
    [mail] = smtp_server.messages
    assert mail["Content-Language"] == "nb"
    assert '<html lang="nb">' in mail.get_body(("html",)).get_content()


def test_a_typed_password_or_an_unticked_box_sends_no_invitation(
    client, session, world, smtp_server
):
    login(client, "sch-admin@example.org")
    assert _new_user(client, invite="y", password="a long password").status_code == 302
    assert _new_user(client, "other@example.org").status_code == 302  # box unticked
    assert smtp_server.messages == []
    assert session.scalar(select(PasswordLink)) is None


def test_an_invitation_expires_after_the_configured_days(app, client, session, world, smtp_server):
    app.config["INVITATION_DAYS"] = 3
    login(client, "sch-admin@example.org")
    _new_user(client, invite="y")
    link = session.scalar(select(PasswordLink))
    assert link.purpose == "invitation"
    assert timedelta(days=2, hours=23) < link.expires_at - utcnow() <= timedelta(days=3)
    path = link_in(smtp_server.messages[0])
    session.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    page = app.test_client().get(path)
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "This link has expired" in text and "send the invitation again" in text


def test_the_invitation_is_sent_again_from_the_users_page(app, client, session, world, smtp_server):
    login(client, "sch-admin@example.org")
    _new_user(client, invite="y")
    jonas = _fresh(session, "jonas@example.org")
    page = client.get(f"/admin/users/{jonas.id}").get_data(as_text=True)
    assert "Send the invitation again" in page and "its link works until" in page
    response = post_form(client, f"/admin/users/{jonas.id}/invite", page=f"/admin/users/{jonas.id}")
    assert response.status_code == 302
    assert "An invitation has been mailed to jonas@example.org" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    first, second = (link_in(mail) for mail in smtp_server.messages)
    person = app.test_client()
    assert person.get(first).status_code == 410  # only the newest link works
    assert set_password(person, second).status_code == 302
    assert login(person, "jonas@example.org", NEW).status_code == 302


def test_sending_an_invitation_needs_an_administrator_in_scope(app, session, world, smtp_server):
    path = f"/admin/users/{world.pupil.id}/invite"
    learner = app.test_client()
    login(learner, "lib@example.org")
    assert post_form(learner, path, page="/my").status_code == 403
    outsider = app.test_client()
    login(outsider, "kra-admin@example.org")
    assert post_form(outsider, path, page="/admin/").status_code == 404
    # A network administrator inside the school: the school's administrator
    # sees the account but only network administrators manage it.
    net_in_school = accounts.create_user(
        session, "net2@example.org", "Net Two", "admin", "VLN-SCH", network=True
    )
    session.commit()
    path_net = f"/admin/users/{net_in_school.id}/invite"
    scoped = app.test_client()
    login(scoped, "sch-admin@example.org")
    assert post_form(scoped, path_net, page="/admin/").status_code == 403
    assert smtp_server.messages == []
    network = app.test_client()
    login(network, "net@example.org")
    assert post_form(network, path_net, page="/admin/").status_code == 302
    assert len(smtp_server.messages) == 1
    # Without a CSRF token: refused, nothing sent.
    assert network.post(path).status_code == 400
    assert app.test_client().post(path).status_code in (302, 400)
    assert len(smtp_server.messages) == 1


def test_a_deactivated_account_is_not_invited(client, session, world, smtp_server):
    login(client, "sch-admin@example.org")
    world.pupil.active = False
    session.add(world.pupil)
    session.commit()
    page = f"/admin/users/{world.pupil.id}"
    post_form(client, f"{page}/invite", page=page)
    assert smtp_server.messages == []


def test_must_change_from_the_user_form(app, client, session, world):
    login(client, "sch-admin@example.org")
    assert (
        _new_user(client, password="a long password", must_change_password="y").status_code == 302
    )
    jonas = _fresh(session, "jonas@example.org")
    assert jonas.must_change_password is True
    person = app.test_client()
    login(person, "jonas@example.org", "a long password")
    assert person.get("/my").headers["Location"].startswith("/my/password")
    # Unticked on the edit page: cleared, and audited.
    data = {"email": jonas.email, **FIELDS, "password": ""}
    page = f"/admin/users/{jonas.id}"
    assert post_form(client, page, data, page=page).status_code == 302
    assert _fresh(session, "jonas@example.org").must_change_password is False
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "user.update"
    assert entry.details["must_change_password"] == [True, False]
    assert person.get("/my").status_code == 200


# --- Users CSV -------------------------------------------------------------------------------


CSV = (
    "email,name,role,organisation,password,must_change_password\n"
    "new1@example.org,Naujas Pirmas,learner,VLN-SCH,,\n"
    "new2@example.org,Naujas Antras,learner,VLN-SCH,a long password,yes\n"
    "new3@example.org,Naujas Trečias,learner,VLN-SCH,,no\n"
    "bad@example.org,Blogas,learner,VLN-SCH,,maybe\n"
)


def _dry_run(client, text: str = CSV):
    import io

    token = csrf_token(client, "/admin/users/import")
    data = {"file": (io.BytesIO(text.encode()), "users.csv"), "csrf_token": token}
    response = client.post("/admin/users/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    token = re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)
    return page, token


def test_a_users_file_invites_new_accounts_without_a_password(
    app, client, session, world, smtp_server
):
    login(client, "sch-admin@example.org")
    page, token = _dry_run(client)
    assert "Send invitations" in page and "2 new accounts have no password." in page
    assert "“must_change_password” must be yes or no, not “maybe”." in page
    response = post_form(
        client,
        "/admin/users/import/confirm",
        {"token": token, "invite": "y"},
        page="/admin/users/import",
    )
    assert response.status_code == 200
    assert "2 invitations have been mailed." in response.get_data(as_text=True)
    assert sorted(r[0] for r in smtp_server.recipients) == ["new1@example.org", "new3@example.org"]
    assert _fresh(session, "new2@example.org").must_change_password is True
    assert _fresh(session, "new3@example.org").must_change_password is False
    mail = next(m for m in smtp_server.messages if m["To"].endswith("<new1@example.org>"))
    person = app.test_client()
    assert set_password(person, link_in(mail)).status_code == 302
    assert login(person, "new1@example.org", NEW).status_code == 302
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "users.import")).one()
    assert entry.details["invited"] == 2


def test_a_users_file_sends_no_invitation_unless_asked(client, session, world, smtp_server):
    login(client, "sch-admin@example.org")
    _page, token = _dry_run(client)
    response = post_form(
        client, "/admin/users/import/confirm", {"token": token}, page="/admin/users/import"
    )
    assert response.status_code == 200
    assert smtp_server.messages == []
    assert _fresh(session, "new1@example.org").password_hash == ""


def test_must_change_in_a_users_file_updates_an_account(client, session, world):
    login(client, "sch-admin@example.org")
    text = "email,name,role,organisation,must_change_password\nona@example.org,Ona Žemaitė,learner,VLN-SCH-1,yes\n"
    page, token = _dry_run(client, text)
    assert "must_change_password" in page
    post_form(client, "/admin/users/import/confirm", {"token": token}, page="/admin/users/import")
    assert _fresh(session, "ona@example.org").must_change_password is True


# --- The command line ------------------------------------------------------------------------


def test_vle_users_create_invite_mails_the_link_and_prints_no_password(
    app, runner, session, world, smtp_server
):
    result = runner.invoke(
        ["users", "create", "Cli@Example.org", "--name", "Cli Person", "--role", "learner",
         "--organisation", "VLN-LIB", "--invite"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "invitation mailed to cli@example.org" in result.output
    assert "password" not in result.output
    [mail] = smtp_server.messages
    person = app.test_client()
    assert set_password(person, link_in(mail)).status_code == 302
    assert login(person, "cli@example.org", NEW).status_code == 302
    user = _fresh(session, "cli@example.org")
    assert _actions(session, user) == ["user.invite", "user.invitation_accept"]


def test_vle_users_create_refuses_password_and_invite_together(runner, session, world, smtp_server):
    result = runner.invoke(
        ["users", "create", "cli@example.org", "--name", "Cli", "--role", "learner",
         "--organisation", "VLN-LIB", "--invite", "--password", "a long password"]
    )  # fmt: skip
    assert result.exit_code == 2 and "--password or --invite, not both" in result.output
    assert _fresh(session, "cli@example.org") is None and smtp_server.messages == []


def test_vle_users_import_invite(runner, session, world, smtp_server, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(CSV.rsplit("bad@", 1)[0], "utf-8")
    result = runner.invoke(["users", "import", str(path), "--commit", "--invite"])
    assert result.exit_code == 0, result.output
    assert "2 invitation(s) mailed." in result.output
    assert len(smtp_server.messages) == 2
