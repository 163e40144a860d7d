"""Saving a lesson and reordering items in a course of 40 modules × 25 items
(issue 17, performance: p99 under 100 ms on SQLite and PostgreSQL).

Each request goes the whole way a trainer's does — the session cookie, the
permission check, the form, the version check, the audit entry, the commit —
through Flask's test client (no network, no gunicorn: what is measured is
vle's own time per request).

    .venv/bin/python bench/authoring_edit.py --database-url sqlite:////tmp/authoring.sqlite3
    createdb -h 127.0.0.1 -U postgres vle_bench_authoring
    .venv/bin/python bench/authoring_edit.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/vle_bench_authoring

The database is made by the migrations and the course written on the first
run; later runs reuse it."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# The vle next to this script (an exported tree measures its own code).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODULES, ITEMS = 40, 25
SLUG = "bench-authoring"
EMAIL = "bench-trainer@example.org"
PASSWORD = "bench-password-123"
BODY = (
    "## A heading\n\nA paragraph of a lesson, with **bold** text and a [link](https://example.org).\n\n"
    * 6
)


def _seed(session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from vle.accounts import services as accounts
    from vle.accounts.models import User
    from vle.catalog.models import Course, Item, Module
    from vle.sanitize import markdown_to_html

    if session.scalar(select(Course.id).where(Course.slug == SLUG)) is not None:
        return
    user = session.scalar(select(User).where(User.email == EMAIL))
    if user is None:
        org = accounts.create_organisation(session, "BENCH-AUTH", "Bench authoring", None)
        user = accounts.create_user(
            session, EMAIL, "Bench Trainer", "trainer", org.code, password=PASSWORD
        )
    html = markdown_to_html(BODY)
    course = Course(slug=SLUG, title="Bench authoring", summary="", status="draft", trainers=[user])
    for m in range(1, MODULES + 1):
        module = Module(slug=f"module-{m}", position=m, title=f"Module {m}", prefix=f"{m:02d}")
        for i in range(1, ITEMS + 1):
            module.items.append(
                Item(slug=f"lesson-{m}-{i}", position=i, prefix=f"{i:02d}", kind="lesson",
                     title=f"Lesson {m}.{i}", required=True, minutes=5, source=BODY,
                     body_html=html)
            )  # fmt: skip
        course.modules.append(module)
    session.add(course)
    session.commit()


def _percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()

    from sqlalchemy import select

    from vle import create_app, db
    from vle.catalog.models import Course, Item, Module
    from vle.migrations import upgrade

    app = create_app(
        {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": "bench",
            "QUEUE_URL": "memory://",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    upgrade(app)
    with app.app_context():
        session = db.session()
        _seed(session)
        course = session.scalar(select(Course).where(Course.slug == SLUG))
        middle = session.scalar(
            select(Module).where(Module.course_id == course.id, Module.position == MODULES // 2)
        )
        lesson = session.scalar(
            select(Item).where(Item.module_id == middle.id).order_by(Item.position).offset(12)
        )
        lesson_id = lesson.id
        session.commit()

    client = app.test_client()
    answer = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code

    def version() -> int:
        with app.app_context():
            value = db.session().scalar(select(Item.version).where(Item.id == lesson_id))
            db.session().rollback()
            return int(value)

    saves: list[float] = []
    current = version()
    for n in range(args.requests):
        data = {
            "title": f"Lesson (saved {n})",
            "required": "y",
            "minutes": "5",
            "source": BODY + f"\nSaved {n}.\n",
            "version": str(current),
        }
        start = time.perf_counter()
        answer = client.post(f"/trainer/courses/{SLUG}/items/{lesson_id}/edit", data=data)
        saves.append(time.perf_counter() - start)
        assert answer.status_code in (200, 302), (answer.status_code, answer.get_data()[:300])
        current += 1
    assert version() == current, "every save was stored"

    moves: list[float] = []
    for n in range(args.requests):
        direction = "up" if n % 2 == 0 else "down"
        start = time.perf_counter()
        answer = client.post(
            f"/trainer/courses/{SLUG}/items/{lesson_id}/move", data={"direction": direction}
        )
        moves.append(time.perf_counter() - start)
        assert answer.status_code == 302, answer.status_code

    figures = {
        "database": args.database_url.split(":", 1)[0],
        "course": f"{MODULES} modules × {ITEMS} items",
        "save_lesson": _percentiles(saves),
        "move_item": _percentiles(moves),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
