"""Look-alike e-mails: full-width and case variants are the same address, and an
address written with Cyrillic or Greek letters that read as an existing account's
is refused, on every path that creates or renames an account."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from vle.accounts import bulk
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.errors import Conflict

# "jonas@example.org" with a Cyrillic "о" (U+043E) and a Cyrillic "а" (U+0430).
CYRILLIC = "j\u043en\u0430s@example.org"
FULL_WIDTH = "ＪＯＮＡＳ＠ＥＸＡＭＰＬＥ．ＯＲＧ"


@pytest.fixture
def jonas(make_user):
    return make_user(email="jonas@example.org", name="Jonas Jonaitis")


def _count(session) -> int:
    session.rollback()
    return session.scalar(select(func.count(User.id)))


def test_full_width_and_case_variants_are_the_same_account(session, jonas, make_org):
    org = make_org()
    with pytest.raises(Conflict):
        accounts.create_user(session, FULL_WIDTH, "Another", "learner", org.code)
    session.rollback()
    assert accounts.user_by_email(session, FULL_WIDTH) == jonas


def test_a_look_alike_of_an_existing_address_is_refused(session, jonas, make_user):
    with pytest.raises(Conflict, match="looks like the address of another account"):
        accounts.create_user(session, CYRILLIC, "Impostor", "learner", jonas.organisation.code)
    session.rollback()
    # Renaming an account to it is refused the same way.
    other = make_user(email="petras@example.org")
    with pytest.raises(Conflict, match="looks like the address of another account"):
        accounts.update_user(
            session, None, other, email=CYRILLIC, name=other.name, role=other.role,
            organisation_code=other.organisation.code,
        )  # fmt: skip
    session.rollback()
    assert _count(session) == 2
    # Other alphabets and Latin letters with accents are welcome when they copy nobody.
    for email in ("иван@example.org", "jonė.ąžuolė@example.org"):
        accounts.create_user(session, email, "Someone", "learner", jonas.organisation.code)
    session.commit()
    assert _count(session) == 4


def test_the_users_file_refuses_look_alikes_of_accounts_and_of_its_own_rows(session, jonas):
    code = jonas.organisation.code
    text = (
        "email,name,role,organisation\n"
        f"{CYRILLIC},Impostor,learner,{code}\n"
        f"petras@example.org,Petras,learner,{code}\n"
        f"p\u0435tras@example.org,Petras Too,learner,{code}\n"  # Cyrillic "е"
        f"{FULL_WIDTH},Jonas Jonaitis,learner,{code}\n"
    )
    plan = bulk.plan_import(session, None, bulk.read_users_csv(text.encode()))
    outcomes = {row.line: (row.action, " ".join(row.reasons)) for row in plan.rows}
    assert outcomes[2][0] == "refuse" and "looks like the address of another" in outcomes[2][1]
    assert outcomes[3] == ("create", "")
    assert outcomes[4][0] == "refuse" and "looks like the address of another" in outcomes[4][1]
    assert outcomes[5][0] == "unchanged"  # the full-width address is Jonas's own


def test_the_command_line_refuses_a_look_alike(runner, session, jonas):
    result = runner.invoke(
        ["users", "create", CYRILLIC, "--name", "Impostor", "--role", "learner",
         "--organisation", jonas.organisation.code, "--password", "a long password"]
    )  # fmt: skip
    assert result.exit_code != 0
    assert "looks like the address of another account" in result.output
    assert "Traceback" not in result.output
    assert _count(session) == 1


def test_sign_in_finds_the_account_whatever_width_or_case_is_typed(client, jonas):
    response = login(client, FULL_WIDTH)
    assert response.status_code == 302 and response.headers["Location"] == "/my"
