"""Two servers of one worker each behind nginx against one server of two workers,
on the signed-in course page (issue 20: the pair serves at least 85 % of what the
one server serves, in the same run), on a database seeded by bench/seed.py.

    VLE_DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/two_servers.py

nginx runs with deploy/nginx/vle.conf, filled in as tests/operations/test_two_servers.py
does (Debian's nginx: `apt-get install nginx-light`). All the servers run
throughout, idle but for the one measured; the two set-ups take turns in short
runs (one server first), so that the machine's drift enters both alike, and the
ratio is that of their mean requests/s. The virtual users, the client and the
runs are load.py's; every user signs in once, and its session works on every
server (one database, one secret key). Only 127.0.0.1; everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from client import HOST, Connection
from load import (
    VirtualUser,
    choose_users,
    free_port,
    run_scenario,
    sign_in,
    start_server,
    stop_server,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.85


async def bench(args: argparse.Namespace, folder: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    from seed import PASSWORD

    from tests.operations.test_two_servers import nginx_command

    # One secret for every server: a session signed in on one works on the others.
    os.environ.setdefault("VLE_SECRET_KEY", "bench-" + os.urandom(16).hex())
    users = choose_users(args.database_url, args.users, args.seed)
    ports = {name: free_port() for name in ("one", "a", "b", "nginx")}
    servers: list[subprocess.Popen] = []
    try:
        # One server of two workers (load.py's set-up), and two of one worker each.
        for name, workers, connections in (("one", 2, 16), ("a", 1, 0), ("b", 1, 0)):
            log = folder / f"{name}.log"
            servers.append(
                start_server(
                    args.database_url, ports[name], workers, args.threads, connections, log
                )
            )
        command = nginx_command(
            folder / "nginx",
            f"{HOST}:{ports['a']}",
            f"{HOST}:{ports['b']}",
            f"{HOST}:{ports['nginx']}",
        )
        with (folder / "nginx.log").open("wb") as out:
            servers.append(
                subprocess.Popen(
                    command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        wait_for_port(servers[-1], ports["nginx"], folder / "nginx.log", "nginx")

        semaphore = asyncio.Semaphore(4)  # sign-in hashes passwords: a few at a time

        async def signed_in(user: VirtualUser) -> None:
            async with semaphore:
                await sign_in(user, ports["one"], PASSWORD)

        await asyncio.gather(*(signed_in(user) for user in users))
        cookies = [dict(user.connection.cookies) for user in users if user.connection]
        print(f"{len(users)} learners signed in", flush=True)

        # The measured server's gunicorn (for load.py's CPU figures: server A's alone
        # behind nginx, so those are not compared).
        masters = {"one": servers[0].pid, "nginx": servers[1].pid}
        runs: dict[str, list[float]] = {"one": [], "nginx": []}
        errors = 0
        for turn in range(args.rounds):
            for target in ("one", "nginx"):
                for user, jar in zip(users, cookies, strict=True):
                    assert user.connection is not None
                    await user.connection.close()
                    user.connection = Connection(ports[target])
                    user.connection.cookies = dict(jar)
                result = await run_scenario(
                    "course", users, args.warmup, args.duration, 50_000, masters[target]
                )
                runs[target].append(result.rps)
                errors += result.errors
                print(
                    f"  round {turn + 1} {target:<5} {result.rps:7.0f} req/s  "
                    f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                    f"errors {result.errors}",
                    flush=True,
                )
        for user in users:
            assert user.connection is not None
            await user.connection.close()
    finally:
        for process in reversed(servers):
            stop_server(process)
    ratio = statistics.mean(runs["nginx"]) / statistics.mean(runs["one"])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "database": args.database_url.split("://")[0],
        "users": args.users,
        "threads": args.threads,
        "duration_s": args.duration,
        "cpus": os.cpu_count(),
        "one_server_two_workers_rps": runs["one"],
        "two_servers_behind_nginx_rps": runs["nginx"],
        "errors": errors,
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO and errors == 0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("VLE_DATABASE_URL"))
    parser.add_argument("--users", type=int, default=32, help="concurrent virtual users")
    parser.add_argument("--threads", type=int, default=4, help="per gunicorn worker")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each set-up, in turn")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds a run")
    parser.add_argument("--seed", type=int, default=1, help="which learners")
    parser.add_argument("--json", help="write the results here (JSON)")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set VLE_DATABASE_URL or --database-url (a database seeded by seed.py)")
    with tempfile.TemporaryDirectory(prefix="vle-two-servers-") as folder:
        result = asyncio.run(bench(args, Path(folder)))
    verdict = "met" if result["met"] else "NOT met"
    print(
        f"two servers behind nginx / one server of two workers: {result['ratio']:.0%} "
        f"(at least {TARGET_RATIO:.0%}: {verdict}; {result['errors']} errors)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
