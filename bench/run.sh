#!/usr/bin/env bash
# Seed a database and load-test vle against it, on SQLite and on PostgreSQL.
#
#   bench/run.sh              # both databases
#   bench/run.sh sqlite       # or only one: sqlite | postgres
#
# Settings (environment):
#   BENCH_WORKERS=2 BENCH_THREADS=4   gunicorn workers and threads (`vle serve`)
#   BENCH_USERS=32                    concurrent virtual users
#   BENCH_DURATION=15 BENCH_WARMUP=3  seconds measured / not measured per scenario
#   BENCH_SOURCE=worktree             the code measured: the working tree as it is, or a git
#                                     revision (HEAD, a tag, a commit) exported to a temporary folder
#   BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:5432   the PostgreSQL server; a fresh
#                                     database vle_bench_<pid> is created there and dropped at the end
#   BENCH_OUT=bench/results           where the JSON results go (one file per database)
#   BENCH_PACE=32                     then also a paced pass: users with think time, offering
#                                     this many requests/s in all (latency at a steady load)
#   BENCH_PROFILE=1                   also sample the workers with py-spy (must be on PATH)
#   BENCH_SEED_ARGS="--learners 1000 --enrolments 20000"   a smaller population (a quick try)
# Everything it makes (SQLite file, PostgreSQL database, exported source, server log) is
# removed at the end, whatever happens; the JSON results stay.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
WHICH=${1:-both}
case "$WHICH" in sqlite | postgres | both) ;; *)
  echo "usage: bench/run.sh [sqlite|postgres|both]" >&2
  exit 2
  ;;
esac
WORKERS=${BENCH_WORKERS:-2}
THREADS=${BENCH_THREADS:-4}
USERS=${BENCH_USERS:-32}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
SOURCE=${BENCH_SOURCE:-worktree}
PG=${BENCH_PG:-postgresql+psycopg://postgres@127.0.0.1:5432}
OUT=${BENCH_OUT:-$ROOT/bench/results}
STAMP=$(date -u +%Y%m%dT%H%MZ)

WORK=$(mktemp -d /tmp/vle-bench.XXXXXX)
PG_DB=""
cleanup() {
  if [ -n "$PG_DB" ]; then
    "$PYTHON" - "$PG" "$PG_DB" <<'EOF' || echo "could not drop $PG_DB" >&2
import sys, psycopg
url, name = sys.argv[1].replace("postgresql+psycopg://", "postgresql://"), sys.argv[2]
with psycopg.connect(url + "/postgres", autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
EOF
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$SOURCE" = worktree ]; then
  SRC=$ROOT
else
  SRC=$WORK/src
  mkdir -p "$SRC"
  git -C "$ROOT" archive "$SOURCE" | tar -x -C "$SRC"
  export PYTHONPATH=$SRC # ahead of the editable install in the virtualenv
fi
mkdir -p "$OUT"
echo "vle bench: source $SOURCE ($(git -C "$ROOT" rev-parse --short HEAD)$([ "$SOURCE" = worktree ] && [ -n "$(git -C "$ROOT" status --porcelain -- vle templates config.py)" ] && echo ", with uncommitted changes")), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # label database-url
  local label=$1 url=$2
  echo
  echo "== $label: seeding"
  # shellcheck disable=SC2086 # BENCH_SEED_ARGS is a list of options
  VLE_DATABASE_URL=$url "$PYTHON" "$SRC/bench/seed.py" ${BENCH_SEED_ARGS:-}
  echo "== $label: load ($USERS users, $WORKERS workers × $THREADS threads, ${DURATION}s per scenario)"
  local profile=()
  if [ -n "${BENCH_PROFILE:-}" ]; then profile=(--profile "$OUT/profile-$STAMP-$label"); fi
  (cd "$WORK" && "$PYTHON" "$SRC/bench/load.py" --database-url "$url" \
    --users "$USERS" --workers "$WORKERS" --threads "$THREADS" \
    --duration "$DURATION" --warmup "$WARMUP" --label "$label" \
    --server-log "$WORK/server-$label.log" --json "$OUT/$STAMP-$label.json" "${profile[@]}")
  echo "results: $OUT/$STAMP-$label.json"
  if [ -n "${BENCH_PACE:-}" ]; then
    echo "== $label: paced, $BENCH_PACE requests/s offered by $USERS users"
    (cd "$WORK" && "$PYTHON" "$SRC/bench/load.py" --database-url "$url" \
      --users "$USERS" --workers "$WORKERS" --threads "$THREADS" \
      --duration "$DURATION" --warmup "$WARMUP" --label "$label-paced" --pace "$BENCH_PACE" \
      --server-log "$WORK/server-$label-paced.log" --json "$OUT/$STAMP-$label-paced.json")
    echo "results: $OUT/$STAMP-$label-paced.json"
  fi
}

if [ "$WHICH" != postgres ]; then
  run sqlite "sqlite:///$WORK/bench.sqlite3"
fi
if [ "$WHICH" != sqlite ]; then
  PG_DB=vle_bench_$$
  "$PYTHON" - "$PG" "$PG_DB" <<'EOF'
import sys, psycopg
url, name = sys.argv[1].replace("postgresql+psycopg://", "postgresql://"), sys.argv[2]
with psycopg.connect(url + "/postgres", autocommit=True) as conn:
    conn.execute(f'CREATE DATABASE "{name}"')
EOF
  run postgres "$PG/$PG_DB"
fi
