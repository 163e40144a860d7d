"""Forum posts by mail at scale (issue 19, point 3: 100,000 subscribers under
5 minutes on the worker): one post in a network forum whose every member chose
the daily digest, then what the worker does with it — `forum_mail.notify_post`
(a digest notification for each subscriber) and `mail.queue_digests` (one
digest mail each) — with the wall time of each.

    .venv/bin/python bench/forum_digest.py --database-url sqlite:////tmp/forum.sqlite3
    .venv/bin/python bench/forum_digest.py --database-url sqlite:////tmp/f.sqlite3 --subscribers 1000

The database must be empty (it is migrated here). The queue is huey's
in-memory storage, not immediate: nothing is sent.

Measured on 2026-12-07 (SQLite, a machine shared with other test runs):
100,000 subscribers — notify_post 22.9 s, queue_digests 33.9 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args(argv)

    from sqlalchemy import insert, select, update

    from vle import create_app, db
    from vle.migrations import upgrade

    settings = {
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="vle-bench-"),
        "DATABASE_URL": args.database_url,
        "QUEUE_URL": "memory://",
        "QUEUE_IMMEDIATE": False,
    }
    app = create_app(settings, env="test")
    with app.app_context():
        upgrade(app)
        from vle.accounts import services as accounts
        from vle.accounts.models import User
        from vle.community import forum_mail, forums
        from vle.community.models import Forum, Post, Subscription
        from vle.db import utcnow
        from vle.mail import services as mail

        s = db.session()
        org = accounts.create_organisation(s, "BENCH", "Bench", None)
        s.flush()
        now = utcnow()
        people = [
            {"email": f"u{n}@bench.test", "name": f"User {n}", "role": "learner",
             "organisation_id": org.id, "network": False, "active": True, "created_at": now,
             "password_hash": "", "must_change_password": False}
            for n in range(args.subscribers + 1)
        ]  # fmt: skip
        s.execute(insert(User), people)
        forum = Forum(title="Network forum")
        s.add(forum)
        s.flush()
        ids = s.scalars(select(User.id).order_by(User.id)).all()
        s.execute(
            insert(Subscription),
            [{"user_id": i, "forum_id": forum.id, "delivery": "digest", "created_at": now}
             for i in ids],
        )  # fmt: skip
        s.commit()
        forums.start_thread(s, s.get_one(User, ids[0]), forum, "Hello", "First **post**")
        s.execute(update(Post).values(notify_at=now - timedelta(minutes=1)))
        s.commit()

        start = time.monotonic()
        told = sum(forum_mail.notify_post(s, post_id) for post_id in forum_mail.due_posts(s))
        s.commit()
        print(f"notify_post: {told} subscribers told in {time.monotonic() - start:.1f} s")
        start = time.monotonic()
        digests = mail.queue_digests(s)
        s.commit()
        print(f"queue_digests: {digests} digest mails in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
