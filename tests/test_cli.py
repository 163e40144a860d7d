"""The `vle` command: clear one-line errors, non-zero exits, and the demo."""

from __future__ import annotations

from sqlalchemy import func, select

from vle.accounts.models import ApiToken, Organisation, User
from vle.catalog.models import Course


def _users_create(
    email: str,
    *,
    name: str = "A",
    role: str = "learner",
    organisation: str = "CITY",
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The arguments of `vle users create`: a learner of CITY unless told."""
    return [
        "users",
        "create",
        email,
        "--name",
        name,
        "--role",
        role,
        "--organisation",
        organisation,
        *extra,
    ]


def test_organisations_and_users(runner, session):
    assert (
        runner.invoke(
            args=["organisations", "create", "CITY", "--name", "Vilniaus miesto savivaldybė"]
        ).exit_code
        == 0
    )
    result = runner.invoke(
        args=["organisations", "create", "LIB", "--name", "Library", "--parent", "CITY"]
    )
    assert result.exit_code == 0, result.output
    lib = session.scalar(select(Organisation).where(Organisation.code == "LIB"))
    assert lib.parent.code == "CITY" and lib.path == f"/{lib.parent.id}/{lib.id}/"
    result = runner.invoke(
        args=_users_create("Ona@Example.org", name="Ona", role="admin", extra=("--network",))
    )
    assert result.exit_code == 0, result.output
    assert "password: " in result.output  # generated and printed
    session.rollback()
    user = session.scalar(select(User))
    assert user.email == "ona@example.org" and user.is_network_admin


def test_bad_input_is_one_clear_line_and_exit_1(runner, session):
    cases = [
        (
            ["organisations", "create", "X", "--name", "X", "--parent", "NOPE"],
            "no organisation with the code “NOPE”",
        ),
        (
            _users_create("a@example.org", organisation="NOPE"),
            "NOPE",
        ),
        (
            _users_create("not-an-email", organisation="NOPE"),
            "not a valid email",
        ),
        (["users", "token", "nobody@example.org"], "no user with the email"),
        (["courses", "import", "/nonexistent/path"], "no such file or folder"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    runner.invoke(args=["organisations", "create", "CITY", "--name", "City"])
    result = runner.invoke(args=["organisations", "create", "CITY", "--name", "City"])
    assert result.exit_code == 1 and "already taken" in result.output
    result = runner.invoke(args=_users_create("a@example.org", extra=("--network",)))
    assert result.exit_code == 1 and "Only administrators" in result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_token_prints_only_the_token(runner, session):
    runner.invoke(args=["organisations", "create", "CITY", "--name", "City"])
    runner.invoke(args=_users_create("a@example.org", extra=("--password", "long enough password")))
    result = runner.invoke(args=["users", "token", "a@example.org"])
    assert result.exit_code == 0
    assert result.output.strip().startswith("vle_") and len(result.output.strip().split()) == 1
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_demo_is_idempotent(runner, session):
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.vle.lt" in first.output and "demo-learner-2026" in first.output
    counts = (
        session.scalar(select(func.count()).select_from(User)),
        session.scalar(select(func.count()).select_from(Course)),
        session.scalar(select(func.count()).select_from(Organisation)),
    )
    assert counts[0] == 5 and counts[1] >= 3 and counts[2] == 4
    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    session.rollback()
    assert counts == (
        session.scalar(select(func.count()).select_from(User)),
        session.scalar(select(func.count()).select_from(Course)),
        session.scalar(select(func.count()).select_from(Organisation)),
    )
