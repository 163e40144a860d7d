"""Sign-in limits that hold (issue 14, point 5; PRODUCT.md §3): 5 attempts a
minute per account, whatever case, spacing or width it is typed in; 50 a minute
per client address, so that an office behind one address is never locked out
by a colleague's typos; counted before the password is checked, so parallel
tries cannot slip through between a check and its count."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from tests.conftest import PASSWORD, csrf_token
from vle import create_app, db
from vle.accounts import services as accounts


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch):
    """The counters' clock stands still at the start of a minute, so that a slow
    test never straddles two minutes (the sliding window would then let older
    attempts weigh less, and a count that should be refused pass)."""
    monkeypatch.setattr(accounts, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))


def _try(client, email: str, password: str, address: str = "192.0.2.10") -> int:
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def test_the_limits_are_five_per_account_and_fifty_per_address(app):
    assert app.config["SIGN_IN_LIMIT_PER_ACCOUNT"] == 5
    assert app.config["SIGN_IN_LIMIT_PER_ADDRESS"] == 50


def test_case_spacing_and_width_variants_are_one_account(client, make_user):
    make_user(email="ona@example.org")
    variants = [
        "ona@example.org",
        "ONA@example.org",
        "  Ona@Example.ORG ",
        "ｏｎａ@example.org",  # full-width letters
        "ona@EXAMPLE.org",
    ]
    for n, email in enumerate(variants):
        assert _try(client, email, "wrong password", f"10.0.0.{n}") == 200
    assert _try(client, "ona@example.org", PASSWORD, "10.0.1.1") == 429


def test_colleagues_typos_never_lock_an_office_out(client, make_user):
    # Ten colleagues behind one public address each mistype four times...
    for n in range(10):
        make_user(email=f"colleague{n}@example.org")
        for _ in range(4):
            assert _try(client, f"colleague{n}@example.org", "typo") == 200
    # ...and the eleventh still signs in.
    make_user(email="ona@example.org")
    assert _try(client, "ona@example.org", PASSWORD) == 302


def test_the_fifty_first_attempt_from_one_address_is_refused(client):
    for n in range(50):
        assert _try(client, f"guess{n}@example.org", "x") == 200
    assert _try(client, "guess-last@example.org", "x") == 429
    assert _try(client, "guess-last@example.org", "x", address="192.0.2.99") == 200


def test_a_training_room_signing_in_together_is_never_refused(_database, make_user):
    # Successful sign-ins give their address its attempt back (a low limit here
    # stands for 50, to keep the test quick).
    app = create_app({**_database, "SIGN_IN_LIMIT_PER_ADDRESS": 3}, env="test")
    for n in range(6):
        make_user(email=f"learner{n}@example.org")
        assert _try(app.test_client(), f"learner{n}@example.org", PASSWORD) == 302
    db.get_database(app).engine.dispose()


def test_a_successful_sign_in_clears_its_accounts_count(client, make_user):
    make_user(email="ona@example.org")
    for _ in range(4):
        assert _try(client, "ona@example.org", "typo") == 200
    assert _try(client, "ona@example.org", PASSWORD) == 302
    client.get("/my")
    for _ in range(4):  # a fresh allowance, not one left
        assert _try(client, "ona@example.org", "typo") == 200


def test_the_count_slides_with_the_minute(session, make_user):
    # The previous minute's attempts weigh as much as they still overlap the last 60 s.
    start = 1_800_000_000.0  # a whole minute
    bind = dict(per_account=5, per_address=50)
    for n in range(5):
        assert accounts.reserve_sign_in(session, "ona@example.org", "a", now=start + n, **bind)
    # 10 s into the next minute: 5 × 50/60 of the last minute still counts: refused.
    assert not accounts.reserve_sign_in(session, "ona@example.org", "a", now=start + 70, **bind)
    # Two minutes on, nothing of it is left.
    assert accounts.reserve_sign_in(session, "ona@example.org", "a", now=start + 185, **bind)
    session.rollback()


@pytest.mark.parametrize("threads", [20])
def test_parallel_tries_for_one_account_get_five_checked(app, make_user, monkeypatch, threads):
    make_user(email="ona@example.org")
    checks = []
    lock = threading.Lock()
    real_check = accounts.check_password_hash

    def counting_check(stored: str, password: str) -> bool:
        with lock:
            checks.append(password)
        return real_check(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting_check)
    clients = [app.test_client() for _ in range(threads)]
    tokens = [csrf_token(c) for c in clients]
    barrier = threading.Barrier(threads)

    def attempt(n: int) -> int:
        barrier.wait()
        return (
            clients[n]
            .post(
                "/login",
                data={
                    "email": "ona@example.org",
                    "password": f"guess {n}",
                    "csrf_token": tokens[n],
                },
                environ_base={"REMOTE_ADDR": f"10.1.{n}.1"},
            )
            .status_code
        )

    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(attempt, range(threads)))
    assert statuses.count(200) == 5
    assert statuses.count(429) == threads - 5
    assert len(checks) == 5
