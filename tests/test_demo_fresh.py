"""`vle demo --fresh`: the demo starts again from nothing (its own files only)."""

from __future__ import annotations

from sqlalchemy import func, select

from vle import create_app, db
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.cli import cli


def _users(app) -> list[str]:
    with db.get_database(app).sessionmaker() as session:
        return sorted(session.scalars(select(User.email)))


def test_fresh_removes_the_old_demo_and_builds_it_again(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)}, env="test")  # the instance's own SQLite
    runner = app.test_cli_runner()
    first = runner.invoke(cli, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    demo_users = _users(app)
    with db.get_database(app).sessionmaker() as session:
        accounts.create_user(session, "made-later@example.org", "Made later", "learner", "ALY")
        session.commit()
    stray = tmp_path / "uploads" / "ab" / "stray"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left over")
    kept = runner.invoke(cli, ["demo", "--no-serve"])  # without --fresh: what exists is kept
    assert kept.exit_code == 0 and "made-later@example.org" in _users(app)
    fresh = runner.invoke(cli, ["demo", "--no-serve", "--fresh"])
    assert fresh.exit_code == 0, fresh.output
    assert "Started afresh" in fresh.output and "admin@demo.vle.lt" in fresh.output
    assert _users(app) == demo_users  # only the demo's accounts, made again
    assert not stray.exists()
    db.get_database(app).engine.dispose()


def test_fresh_never_removes_a_database_it_was_pointed_at(runner, session):
    result = runner.invoke(["demo", "--no-serve", "--fresh"])
    assert result.exit_code == 1
    assert "VLE_DATABASE_URL is set" in result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0  # nothing built either
