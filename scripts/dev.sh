#!/usr/bin/env bash
# Development helper: one command to set up, run and test the tracker on one machine.
#
#   bash scripts/dev.sh setup      # venv + dependencies, local PostgreSQL/Redis, migrate, collectstatic
#   bash scripts/dev.sh run        # setup, demo data, admin user, Celery worker + beat, gunicorn
#   bash scripts/dev.sh test [pytest args]   # setup, ruff, mypy, migrations check, pytest
#   bash scripts/dev.sh stop       # stop the local PostgreSQL/Redis this script started
#
# PostgreSQL and Redis: DATABASE_URL / REDIS_URL are used as given when set. Otherwise the script
# runs its own PostgreSQL cluster (.data/postgres, 127.0.0.1:${LOCAL_PG_PORT:-55432}) and its own
# Redis (.data/redis, 127.0.0.1:${LOCAL_REDIS_PORT:-56379}). It never touches the machine's own
# servers on 5432/6379, and only stops what it started itself.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT_DIR"

VENV_DIR="$ROOT_DIR/.venv"
DATA_DIR="$ROOT_DIR/.data"
STATE_DIR="$DATA_DIR/state"
LOG_DIR="$DATA_DIR/log"
LOCK_FILE="$ROOT_DIR/requirements/dev.txt"
STAMP_FILE="$VENV_DIR/.dev-requirements.sha256"

PG_PORT="${LOCAL_PG_PORT:-55432}"
REDIS_PORT="${LOCAL_REDIS_PORT:-56379}"
PG_DB="tracker"

PG_MARKER="$STATE_DIR/postgres.started-by-dev-sh"
REDIS_MARKER="$STATE_DIR/redis.started-by-dev-sh"
REDIS_DIR="$DATA_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"

# What this invocation started (stopped again on exit by `run` and `test`).
STARTED_PG=0
STARTED_REDIS=0
REDIS_AVAILABLE=0
APP_PIDS=()

IS_ROOT=0
if [[ "$(id -u)" -eq 0 ]]; then
    IS_ROOT=1
fi

# `|| true`: a closed terminal or pipe (`... | tee`) must not stop the cleanup on exit.
log() { printf '[dev] %s\n' "$*" >&2 || true; }
die() { printf '[dev] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    cat <<'EOF'
Usage: bash scripts/dev.sh <command> [args]

  setup            create .venv, install requirements/dev.txt, start local PostgreSQL/Redis,
                   migrate, collectstatic
  run              setup, load demo data, create the `admin` user, start Celery worker and beat,
                   serve on http://${HOST:-127.0.0.1}:${PORT:-8000}/ until Ctrl-C
  test [ARGS...]   setup, ruff check, ruff format --check, mypy, makemigrations --check,
                   pytest ARGS (default: -n 2)
  stop             stop the local PostgreSQL/Redis that this script started

Environment: DATABASE_URL, REDIS_URL, LOCAL_PG_PORT (55432), LOCAL_REDIS_PORT (56379),
LOCAL_PG_SHARED_BUFFERS (a quarter of the memory, at most 8GB), HOST (127.0.0.1), PORT (8000), PYTHON (python3.11 or python3), CI.
EOF
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when $1 is a live process whose command line contains $2.
pid_matches() {
    local pid="$1" pattern="$2" args
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    args="$(ps -o args= -p "$pid" 2>/dev/null)" || return 1
    [[ "$args" == *"$pattern"* ]]
}

short_hash() {
    printf '%s' "$1" | sha256sum | cut -c1-12
}

# --------------------------------------------------------------------------------------------
# Python environment
# --------------------------------------------------------------------------------------------

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        printf '%s' "$PYTHON"
    elif command -v python3.11 >/dev/null 2>&1; then
        printf 'python3.11'
    else
        printf 'python3'
    fi
}

ensure_venv() {
    if [[ ! -x "$VENV_DIR/bin/python" ]]; then
        local python
        python="$(pick_python)"
        command -v "$python" >/dev/null 2>&1 || die "$python not found (set PYTHON=/path/to/python3.11)"
        "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
            || die "$python is not Python 3.11 (the lock files are for 3.11); set PYTHON=..."
        log "creating .venv with $python"
        "$python" -m venv "$VENV_DIR"
    fi

    local want have=""
    want="$(sha256sum "$LOCK_FILE" | cut -d' ' -f1) $("$VENV_DIR/bin/python" -c 'import sys; print(sys.version.split()[0])')"
    if [[ -f "$STAMP_FILE" ]]; then
        have="$(cat "$STAMP_FILE")"
    fi
    if [[ "$want" == "$have" ]]; then
        log "dependencies unchanged since last install (requirements/dev.txt)"
    else
        local pip_opts=(--disable-pip-version-check)
        if [[ "${CI:-}" == "true" ]]; then
            pip_opts+=(--progress-bar off)
        fi
        log "upgrading pip (a fresh 3.11 venv has pip 23.2, which mishandles some extras)"
        "$VENV_DIR/bin/python" -m pip install "${pip_opts[@]}" --upgrade pip
        log "installing requirements/dev.txt (hashes required)"
        "$VENV_DIR/bin/python" -m pip install "${pip_opts[@]}" --require-hashes -r "$LOCK_FILE"
        printf '%s\n' "$want" >"$STAMP_FILE"
    fi

    export VIRTUAL_ENV="$VENV_DIR"
    export PATH="$VENV_DIR/bin:$PATH"
}

manage() {
    "$VENV_DIR/bin/python" "$ROOT_DIR/manage.py" "$@"
}

# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------

find_pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            printf '%s' "$dir"
            return 0
        fi
    fi
    # Newest version first.
    while IFS= read -r dir; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            printf '%s' "$dir"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4 -rn)
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

# Run a server-side PostgreSQL program as the cluster's owner (initdb/pg_ctl refuse root).
as_pg_owner() {
    if [[ "$IS_ROOT" -eq 1 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Sets PG_BIN, PG_BASE, PGDATA_DIR, PG_SOCKET_DIR, PG_LOG (once).
pg_paths() {
    if [[ -n "${PGDATA_DIR:-}" ]]; then
        return 0
    fi
    PG_BIN="$(find_pg_bindir)" || die "PostgreSQL server binaries not found (apt-get install postgresql), or set DATABASE_URL"
    PG_BASE="$DATA_DIR"
    if [[ "$IS_ROOT" -eq 1 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to own the cluster"
        mkdir -p "$DATA_DIR"
        if ! runuser -u postgres -- test -x "$DATA_DIR"; then
            # The postgres user cannot reach the checkout (e.g. under /root): keep the cluster
            # in a folder of its own, one per checkout.
            PG_BASE="/var/tmp/tracker-postgres-$(short_hash "$ROOT_DIR")"
            log "the postgres user cannot reach $DATA_DIR; the cluster lives in $PG_BASE"
        fi
    fi
    PGDATA_DIR="$PG_BASE/postgres"
    PG_SOCKET_DIR="$PG_BASE/run"
    local socket="$PG_SOCKET_DIR/.s.PGSQL.$PG_PORT"
    if ((${#socket} > 100)); then
        PG_SOCKET_DIR="/tmp/tracker-pg-$(short_hash "$ROOT_DIR")"
    fi
    PG_LOG="$LOG_DIR/postgres.log"
    if [[ "$PG_BASE" != "$DATA_DIR" ]]; then
        PG_LOG="$PG_BASE/postgres.log"
    fi
}

pg_running() {
    [[ -f "$PGDATA_DIR/PG_VERSION" ]] && as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

pg_prepare_dirs() {
    mkdir -p "$DATA_DIR" "$LOG_DIR" "$STATE_DIR" "$PG_BASE" "$PGDATA_DIR" "$PG_SOCKET_DIR"
    mkdir -p "$(dirname "$PG_LOG")"
    touch "$PG_LOG"
    if [[ "$IS_ROOT" -eq 1 ]]; then
        chown postgres: "$PGDATA_DIR" "$PG_SOCKET_DIR" "$PG_LOG"
    fi
    chmod 700 "$PGDATA_DIR"
}

pg_initdb() {
    log "creating a PostgreSQL cluster in $PGDATA_DIR"
    local locale_opts=(--locale=C.UTF-8)
    if ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale_opts=(--no-locale)
    fi
    as_pg_owner "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust \
        --encoding=UTF8 "${locale_opts[@]}" >>"$PG_LOG" 2>&1 \
        || { tail -n 20 "$PG_LOG" >&2; die "initdb failed (log: $PG_LOG)"; }
    printf "\ninclude_if_exists = 'dev-sh.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
}

# shared_buffers of the local cluster: LOCAL_PG_SHARED_BUFFERS, or a quarter of the memory
# (at least 128 MB, at most 8 GB); effective_cache_size: three quarters.
pg_memory() {
    local total_kb
    total_kb="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || true)"
    if [[ -z "$total_kb" ]]; then
        total_kb=$((4 * 1024 * 1024))
    fi
    local quarter_mb=$((total_kb / 4 / 1024))
    if ((quarter_mb < 128)); then
        quarter_mb=128
    elif ((quarter_mb > 8192)); then
        quarter_mb=8192
    fi
    PG_SHARED_BUFFERS="${LOCAL_PG_SHARED_BUFFERS:-${quarter_mb}MB}"
    PG_EFFECTIVE_CACHE="$((total_kb * 3 / 4 / 1024))MB"
}

pg_write_conf() {
    # Rewritten at each start so that LOCAL_PG_PORT and the checkout path may change.
    pg_memory
    # A throw-away development cluster: durability traded for speed.
    cat >"$PGDATA_DIR/dev-sh.conf" <<EOF
# Written by scripts/dev.sh at every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
# Memory as a production server would have it (a quarter of the machine, at most 8 GB): the
# pages read often stay in PostgreSQL's own buffers, which the kernel does not reclaim while
# they are idle, as it may reclaim its file cache.
shared_buffers = '$PG_SHARED_BUFFERS'
effective_cache_size = '$PG_EFFECTIVE_CACHE'
EOF
    if [[ "$IS_ROOT" -eq 1 ]]; then
        chown postgres: "$PGDATA_DIR/dev-sh.conf"
    fi
}

pg_start() {
    pg_paths
    pg_prepare_dirs
    if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
        pg_initdb
    fi
    if pg_running; then
        log "local PostgreSQL already running (127.0.0.1:$PG_PORT, $PGDATA_DIR)"
    else
        if port_in_use "$PG_PORT"; then
            die "port $PG_PORT is taken by another server; set LOCAL_PG_PORT to a free port (or DATABASE_URL)"
        fi
        pg_write_conf
        log "starting local PostgreSQL on 127.0.0.1:$PG_PORT"
        if ! as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null; then
            tail -n 20 "$PG_LOG" >&2
            die "PostgreSQL did not start (log: $PG_LOG)"
        fi
        STARTED_PG=1
        printf '%s\n' "$PGDATA_DIR" >"$PG_MARKER"
    fi
    local i
    for ((i = 0; i < 60; i++)); do
        if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres; then
            break
        fi
        sleep 0.5
    done
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres || die "PostgreSQL on $PG_PORT is not ready"

    local exists
    exists="$("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -XtAq \
        -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")"
    if [[ "$exists" != "1" ]]; then
        log "creating database $PG_DB"
        "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres -E UTF8 -T template0 "$PG_DB"
    fi
    export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
}

pg_stop() {
    pg_paths
    if pg_running; then
        log "stopping local PostgreSQL (127.0.0.1:$PG_PORT)"
        as_pg_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null \
            || log "pg_ctl stop failed (log: $PG_LOG)"
    fi
    rm -f "$PG_MARKER"
}

ensure_database() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        log "database: DATABASE_URL from the environment"
    else
        pg_start
        log "database: $DATABASE_URL"
    fi
}

# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------

redis_running() {
    [[ -f "$REDIS_PIDFILE" ]] && pid_matches "$(cat "$REDIS_PIDFILE")" redis-server
}

redis_start() {
    mkdir -p "$REDIS_DIR" "$STATE_DIR"
    if redis_running; then
        log "local Redis already running (127.0.0.1:$REDIS_PORT)"
    else
        if port_in_use "$REDIS_PORT"; then
            die "port $REDIS_PORT is taken by another server; set LOCAL_REDIS_PORT to a free port (or REDIS_URL)"
        fi
        log "starting local Redis on 127.0.0.1:$REDIS_PORT"
        rm -f "$REDIS_PIDFILE"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
            --dir "$REDIS_DIR" --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_DIR/redis.log" \
            --daemonize yes
        STARTED_REDIS=1
        local i
        for ((i = 0; i < 50; i++)); do
            if [[ -s "$REDIS_PIDFILE" ]] && port_in_use "$REDIS_PORT"; then
                break
            fi
            sleep 0.2
        done
        redis_running || { tail -n 20 "$REDIS_DIR/redis.log" >&2 || true; die "Redis did not start"; }
        cat "$REDIS_PIDFILE" >"$REDIS_MARKER"
    fi
    export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

redis_stop() {
    if redis_running; then
        local pid i
        pid="$(cat "$REDIS_PIDFILE")"
        log "stopping local Redis (127.0.0.1:$REDIS_PORT)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            pid_matches "$pid" redis-server || break
            sleep 0.2
        done
        if pid_matches "$pid" redis-server; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$REDIS_MARKER" "$REDIS_PIDFILE"
}

ensure_redis() {
    if [[ -n "${REDIS_URL:-}" ]]; then
        REDIS_AVAILABLE=1
        log "redis: REDIS_URL from the environment"
    elif command -v redis-server >/dev/null 2>&1; then
        redis_start
        REDIS_AVAILABLE=1
        log "redis: $REDIS_URL"
    else
        REDIS_AVAILABLE=0
        echo "Redis not found: tasks run in-process, cache is in memory" >&2
        export CELERY_TASK_ALWAYS_EAGER=true
        export USE_REDIS_CACHE=false
    fi
}

# --------------------------------------------------------------------------------------------
# Application processes (run)
# --------------------------------------------------------------------------------------------

# Start "$@" in a session of its own (so that it and its children can be stopped together),
# output to the log file $2, pid recorded in .data/state/$1.pid.
start_app_process() {
    local name="$1" logfile="$2"
    shift 2
    setsid "$@" >>"$logfile" 2>&1 </dev/null &
    local pid=$!
    APP_PIDS+=("$pid")
    printf '%s\n' "$pid" >"$STATE_DIR/$name.pid"
    log "$name started (pid $pid, log ${logfile#"$ROOT_DIR"/})"
}

stop_process_group() {
    local pid="$1" pattern="$2" i
    pid_matches "$pid" "$pattern" || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        pid_matches "$pid" "$pattern" || return 0
        sleep 0.2
    done
    log "pid $pid did not stop in 20 s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# Stop gunicorn/worker/beat recorded in .data/state (also leftovers of a killed `run`).
stop_app_processes() {
    local name pid pattern
    for name in gunicorn beat worker; do
        [[ -f "$STATE_DIR/$name.pid" ]] || continue
        pid="$(cat "$STATE_DIR/$name.pid")"
        case "$name" in
            gunicorn) pattern="gunicorn" ;;
            *) pattern="celery" ;;
        esac
        if pid_matches "$pid" "$pattern"; then
            log "stopping $name (pid $pid)"
            stop_process_group "$pid" "$pattern"
        fi
        rm -f "$STATE_DIR/$name.pid"
    done
    APP_PIDS=()
}

# Stop only the servers that THIS invocation started.
stop_started_services() {
    if [[ "$STARTED_REDIS" -eq 1 ]]; then
        redis_stop
        STARTED_REDIS=0
    fi
    if [[ "$STARTED_PG" -eq 1 ]]; then
        pg_stop
        STARTED_PG=0
    fi
}

on_exit() {
    local rc=$?
    trap - EXIT HUP INT TERM
    # Best effort from here on: stop everything even if one step fails or the output is gone.
    trap '' PIPE HUP
    set +e
    if ((${#APP_PIDS[@]} > 0)); then
        stop_app_processes
    fi
    stop_started_services
    exit "$rc"
}

install_traps() {
    trap on_exit EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------

# $1 = "strict" (collectstatic must succeed) or "lenient".
do_setup() {
    local mode="${1:-strict}" t0=$SECONDS
    mkdir -p "$DATA_DIR" "$STATE_DIR" "$LOG_DIR"
    ensure_venv
    log "python environment ready ($((SECONDS - t0)) s)"
    ensure_database
    ensure_redis
    log "services ready ($((SECONDS - t0)) s)"
    manage migrate --noinput
    if [[ "$mode" == "strict" ]]; then
        manage collectstatic --noinput >/dev/null
    elif ! manage collectstatic --noinput >/dev/null; then
        log "collectstatic failed (ignored by 'test')"
    fi
    log "setup done in $((SECONDS - t0)) s"
}

ensure_admin_password() {
    local file="$DATA_DIR/admin-password"
    if [[ ! -s "$file" ]]; then
        (umask 077 && "$VENV_DIR/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$file")
    fi
    ADMIN_PASSWORD="$(cat "$file")"
}

ensure_admin_user() {
    ensure_admin_password
    DEV_ADMIN_PASSWORD="$ADMIN_PASSWORD" manage shell --verbosity 0 -c '
import os
from django.contrib.auth import get_user_model

password = os.environ["DEV_ADMIN_PASSWORD"]
user, created = get_user_model().objects.get_or_create(
    username="admin", defaults={"email": "admin@example.org"}
)
user.is_active = user.is_staff = user.is_superuser = True
if created or not user.check_password(password):
    user.set_password(password)
user.save()
print("admin user", "created" if created else "ready")
'
}

wait_for_http() {
    local host="$1" port="$2" pid="$3" i
    [[ "$host" == "0.0.0.0" || "$host" == "::" ]] && host="127.0.0.1"
    for ((i = 0; i < 120; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.25
    done
    return 1
}

cmd_setup() {
    do_setup strict
}

cmd_run() {
    install_traps
    do_setup strict
    stop_app_processes # leftovers of an earlier `run` that was killed
    manage load_demo
    ensure_admin_user

    local host="${HOST:-127.0.0.1}" port="${PORT:-8000}"
    if [[ "$REDIS_AVAILABLE" -eq 1 ]]; then
        start_app_process worker "$LOG_DIR/celery-worker.log" \
            celery -A config worker -l info --concurrency 2
        start_app_process beat "$LOG_DIR/celery-beat.log" \
            celery -A config beat -l info --pidfile "$STATE_DIR/celerybeat.pid" \
            --schedule "$STATE_DIR/celerybeat-schedule"
    else
        log "no Redis: no Celery worker or beat; tasks run in-process"
    fi

    # gunicorn's own output goes to the terminal; the script waits on it so that Ctrl-C or
    # SIGTERM reach the trap at once.
    setsid gunicorn config.wsgi:application --bind "$host:$port" --workers 2 \
        --access-logfile - --error-logfile - --no-control-socket </dev/null &
    local gunicorn_pid=$!
    APP_PIDS+=("$gunicorn_pid")
    printf '%s\n' "$gunicorn_pid" >"$STATE_DIR/gunicorn.pid"
    if ! wait_for_http "$host" "$port" "$gunicorn_pid"; then
        die "gunicorn did not start on $host:$port"
    fi
    echo
    echo "Tracker is running at http://$host:$port/ (admin: http://$host:$port/admin/, user admin, password $ADMIN_PASSWORD)"
    echo "Press Ctrl-C to stop."
    echo
    local rc=0
    wait "$gunicorn_pid" || rc=$?
    log "gunicorn exited with status $rc"
    exit "$rc"
}

# The browser tests (tests/browser) drive Debian chromium; install it when missing and root.
ensure_chromium() {
    local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
    if [[ -x "$chromium" ]]; then
        log "chromium: $chromium"
    elif [[ "$IS_ROOT" -eq 1 ]] && command -v apt-get >/dev/null 2>&1; then
        log "chromium not found: installing Debian chromium (apt-get update -qq && apt-get install -y -qq chromium)"
        if apt-get update -qq && apt-get install -y -qq chromium; then
            log "chromium installed: $(command -v chromium)"
        else
            log "could not install chromium: browser tests skip (they fail when CI=true)"
        fi
    else
        log "chromium not found at $chromium and not root: browser tests skip (they fail when CI=true)"
    fi
}

cmd_test() {
    install_traps
    local t0=$SECONDS
    do_setup lenient
    ensure_chromium
    # pyproject.toml chooses config.settings.test; an exported module would override it.
    unset DJANGO_SETTINGS_MODULE

    local failed=()
    local step
    run_check() {
        step="$1"
        shift
        log "== $step"
        if ! "$@"; then
            failed+=("$step")
            log "FAILED: $step"
        fi
    }
    run_check "ruff check" ruff check .
    run_check "ruff format --check" ruff format --check .
    run_check "mypy" mypy .
    run_check "makemigrations --check" manage makemigrations --check --dry-run

    local args=("$@")
    if ((${#args[@]} == 0)); then
        args=(-n 2)
    fi
    log "== pytest ${args[*]}"
    local status=0
    pytest "${args[@]}" || status=$?
    if [[ "$status" -eq 5 ]]; then
        log "pytest collected no tests: counted as a failure"
    fi
    log "test finished in $((SECONDS - t0)) s"
    if ((${#failed[@]} > 0)); then
        local joined
        joined="$(printf '%s, ' "${failed[@]}")"
        log "failed checks: ${joined%, }"
    fi
    if [[ "$status" -ne 0 ]]; then
        exit "$status"
    fi
    if ((${#failed[@]} > 0)); then
        exit 1
    fi
    log "all checks passed"
    exit 0
}

cmd_stop() {
    mkdir -p "$STATE_DIR"
    stop_app_processes
    if [[ -f "$REDIS_MARKER" ]]; then
        redis_stop
    else
        log "Redis: nothing started by this script"
    fi
    if [[ -f "$PG_MARKER" ]]; then
        pg_stop
    else
        log "PostgreSQL: nothing started by this script"
    fi
}

main() {
    local cmd="${1:-}"
    if [[ $# -gt 0 ]]; then
        shift
    fi
    case "$cmd" in
        setup) cmd_setup ;;
        run) cmd_run ;;
        test) cmd_test "$@" ;;
        stop) cmd_stop ;;
        -h | --help | help) usage ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
