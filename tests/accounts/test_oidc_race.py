"""Two first sign-ins of the same new address at once: both find no account,
and the second's insert meets the first's row. The second must sign in that
one account, not fail with a server error (accounts.sso._new_account). The
race is made by hand: the other sign-in's account appears between the
look-up and the insert."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.accounts import test_oidc
from tests.accounts.test_oidc import actions, counts, through
from vle.accounts import services as accounts
from vle.accounts import sso
from vle.accounts.models import Organisation, Role, User, UserSession
from vle.audit import AuditEntry
from vle.errors import Conflict

provider = test_oidc.provider  # the real provider these tests sign in through
configure = test_oidc.configure

pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config.*:DeprecationWarning")


def _the_other_sign_in_wins(monkeypatch, *, before_insert_check: bool):
    """sso's look-up finds nothing, and just after it the other sign-in's
    account is there. `before_insert_check`: it is there for create_user's own
    look-up too (the other committed already); otherwise only the unique
    index sees it (the other committed while this insert waited)."""
    real = sso.user_by_email
    calls = {"n": 0}

    def lookup(db_session, email):
        calls["n"] += 1
        if calls["n"] == 1:
            org = db_session.scalar(select(Organisation).where(Organisation.code == "VLN"))
            db_session.add(
                User(email=accounts.fold_email(email), name="First Tab", role=Role.LEARNER,
                     organisation=org, password_hash="")
            )  # fmt: skip
            db_session.flush()
            return None
        return real(db_session, email)

    monkeypatch.setattr(sso, "user_by_email", lookup)
    if not before_insert_check:
        monkeypatch.setattr(accounts, "user_by_email", lambda db_session, email: None)
    return calls


@pytest.mark.parametrize("before_insert_check", [True, False])
def test_the_second_first_sign_in_signs_in_the_one_account(
    client, session, provider, configure, monkeypatch, before_insert_check
):
    configure(provider.url, "vilnius.lt")
    provider.person("ona", email="ona@vilnius.lt", email_verified=True, name="Ona")
    calls = _the_other_sign_in_wins(monkeypatch, before_insert_check=before_insert_check)

    response = through(client, provider, "ona@vilnius.lt", "ona")

    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/courses"
    assert calls["n"] >= 2  # the race happened, and the account was read again
    monkeypatch.undo()
    assert "First Tab" in client.get("/my").get_data(as_text=True)  # signed in as that one
    [user] = session.scalars(select(User).where(User.email == "ona@vilnius.lt")).all()
    assert counts(session) == (1, 1)
    assert session.scalar(select(UserSession.user_id)) == user.id
    # This sign-in made no account: it signed in the one the other made.
    assert "user.create" not in actions(session)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.sign_in_oidc"))
    assert entry.details["created"] is False and entry.target_id == user.id


def test_a_look_alike_of_another_account_is_still_refused(session, configure, provider):
    """The savepoint catches the race only: a Conflict for another address
    (a look-alike in another script) still refuses the sign-in."""
    configured = configure(provider.url, "vilnius.lt")
    org = session.scalar(select(Organisation).where(Organisation.code == "VLN"))
    session.add(User(email="ona@vilnius.lt", name="Ona", role="learner", organisation=org,
                     password_hash=""))  # fmt: skip
    session.commit()
    look_alike = "оna@vilnius.lt"  # a Cyrillic "о"
    with pytest.raises(Conflict, match="looks like the address of another account"):
        sso.account_for(session, configured, {"email": look_alike, "email_verified": True})
    session.rollback()
    assert [u.email for u in session.scalars(select(User))] == ["ona@vilnius.lt"]
