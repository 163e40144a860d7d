"""Upload .zip benchmark (issue 17): a 1,000-lesson course (40 modules × 25 lessons
of a few paragraphs each, and a quiz per module) as a zip, through the upload's
services: the zip's checks and extraction and the import's validation
(`zips.prepare`), then the import itself (`zips.apply`, committed). Then the same
zip again onto the course it made (the update: the summary of what changes, and
the import that changes nothing), and a Download as .zip of it.

    # SQLite (a fresh file in a temporary folder)
    .venv/bin/python bench/authoring_zip.py
    # PostgreSQL (an empty database)
    createdb -h 127.0.0.1 -U postgres vle_bench_zip
    VLE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vle_bench_zip \\
        .venv/bin/python bench/authoring_zip.py

Target: the 1,000-lesson zip imported in under 10 s (validation + import).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "Cooperation between municipalities, schools and care homes works when each "
    "partner knows **who decides what**, and when. This paragraph is here to give "
    "the lesson the length of a real one: a few sentences, a [link](https://example.org), "
    "and a list below.\n"
)
QUIZ = (
    "::Q1::Cooperation needs a clear owner. {TRUE}\n\n"
    "::Q2::Which of these is a conflict of interest? {=A gift from a bidder ~A colleague's advice}\n\n"
    "::Q3::How many days to answer? {#7:1}\n"
)


def course_zip(modules: int, lessons: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "bench-course/course.yaml",
            "title: A very long course\nlanguage: en\nstatus: published\n",
        )
        for m in range(1, modules + 1):
            folder = f"bench-course/{m:02d}-module-{m}"
            archive.writestr(f"{folder}/module.yaml", f"title: Module {m}\n")
            for n in range(1, lessons + 1):
                body = "\n".join([PARAGRAPH] * 4) + "\n- one\n- two\n- three\n"
                archive.writestr(
                    f"{folder}/{n:02d}-lesson-{m}-{n}.md",
                    f"---\ntitle: Lesson {m}.{n}\nminutes: 5\n---\n## Part {n}\n\n{body}",
                )
            archive.writestr(f"{folder}/{lessons + 1:02d}-check-{m}.gift", QUIZ)
    return out.getvalue()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=40)
    parser.add_argument("--lessons", type=int, default=25)
    parser.add_argument("--profile", action="store_true", help="cProfile the first upload")
    args = parser.parse_args()

    from vle import create_app, db
    from vle.accounts import services as accounts
    from vle.authoring import zips
    from vle.migrations import upgrade

    work = Path(tempfile.mkdtemp(prefix="vle-bench-zip-"))
    url = os.environ.get("VLE_DATABASE_URL") or f"sqlite:///{work / 'bench.sqlite3'}"
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench"},
        env="development",
    )
    data = course_zip(args.modules, args.lessons)
    zip_path = work / "bench-course.zip"
    zip_path.write_bytes(data)
    max_bytes = int(app.config["UPLOAD_MAX_MB"]) * 1024 * 1024
    print(f"database: {url.split('://')[0]}")
    print(
        f"zip: {args.modules} modules × {args.lessons} lessons + {args.modules} quizzes, "
        f"{len(data) / 1024:.0f} KB"
    )
    with app.app_context():
        upgrade(app)
        with db.transaction() as s:
            accounts.create_organisation(s, "BENCH", "Bench")
            accounts.create_user(s, "zip-trainer@example.org", "Trainer", "trainer", "BENCH",
                                 password="correct horse battery")  # fmt: skip
    for run in ("create", "update (nothing changes)"):
        with app.app_context():
            from sqlalchemy import select

            from vle.accounts.models import User

            user = db.session().scalar(select(User).where(User.email == "zip-trainer@example.org"))
            assert user is not None
            profiler = None
            if args.profile and run == "create":
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            wall, cpu0 = time.perf_counter(), cpu()
            with zips.workspace() as folder:
                prepared = zips.prepare(
                    db.session(), user, zip_path, "bench-course.zip", max_bytes, folder
                )
                checked = time.perf_counter()
                with db.transaction() as s:
                    zips.apply(s, user, prepared, app.instance_path, "127.0.0.1")
            done = time.perf_counter()
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            print(
                f"{run}: {done - wall:.2f} s in all (checks and validation {checked - wall:.2f} s, "
                f"import {done - checked:.2f} s), CPU {cpu() - cpu0:.2f} s"
            )
    with app.app_context():
        from vle.authoring import editing

        user = db.session().scalar(select(User).where(User.email == "zip-trainer@example.org"))
        wall = time.perf_counter()
        course = editing.readable_course(db.session(), "bench-course", user)
        archive = zips.course_zip(db.session(), course, app.instance_path)
        size = archive.seek(0, 2)
        archive.close()
        print(f"download: {time.perf_counter() - wall:.2f} s, {size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
