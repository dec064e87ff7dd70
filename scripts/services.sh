#!/usr/bin/env bash
# Test services on 127.0.0.1 with free ports, for the archive tests and
# benchmarks (and later Redis users): PostgreSQL 15, an S3-protocol server
# (moto, in a venv) and Redis. Idempotent; works as root on a fresh Debian
# machine (installs what is missing with apt-get / pip).
#
#   scripts/services.sh start      start what is not running, write the env file
#   scripts/services.sh stop       stop everything, remove the env file
#   scripts/services.sh env        print the env file: eval "$(scripts/services.sh env)"
#   scripts/services.sh status     one line per service
#   scripts/services.sh pg-stop    stop PostgreSQL only (outage tests)
#   scripts/services.sh pg-start   start it again on the same port
#
# State lives in $ARCADE_SERVICES_DIR, default ${CARGO_TARGET_DIR:-target}/.services;
# the env file there exports ARCADE_TEST_PG_URL, ARCADE_TEST_S3_ENDPOINT,
# ARCADE_TEST_REDIS_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# ARCADE_SERVICES_DIR and ARCADE_TEST_COMPONENTIZE_PY (componentize-py, in the
# same venv as moto, for the Python plugins' tests).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ "$TARGET_DIR" = /* ]] || TARGET_DIR="$PWD/$TARGET_DIR"
SVC="${ARCADE_SERVICES_DIR:-$TARGET_DIR/.services}"
ENV_FILE="$SVC/env"
PGBIN=/usr/lib/postgresql/15/bin
VENV="$SVC/venv"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
    is_root || die "missing $*; install it (apt-get install $*) or run as root"
    log "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # port name
    for _ in $(seq 1 200); do
        port_open "$1" && return 0
        sleep 0.1
    done
    die "$2 did not open port $1 (see $SVC/$2.log)"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(head -1 "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- PostgreSQL
# The data directory must be reachable by the postgres user.
pg_dir() {
    if is_root && ! runuser -u postgres -- test -x "$SVC" 2>/dev/null; then
        echo "${TMPDIR:-/tmp}/arcade-pg-$(echo "$SVC" | md5sum | cut -c1-12)"
    else
        echo "$SVC/pg"
    fi
}
PG_DIR="$(mkdir -p "$SVC" && pg_dir)"

as_postgres() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_running() { [ -f "$PG_DIR/data/PG_VERSION" ] && as_postgres "$PGBIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; }

pg_start_on() { # port
    as_postgres "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $1 -k $PG_DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null 9>&-
    echo "$1" >"$SVC/pg.port"
}

start_postgres() {
    [ -x "$PGBIN/initdb" ] || apt_install postgresql-15
    pg_running && return 0
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        rm -rf "$PG_DIR" && mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
        is_root && chown -R postgres:postgres "$PG_DIR"
        as_postgres "$PGBIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log"
    fi
    pg_start_on "$(free_port)"
}

pg_stop() { pg_running && as_postgres "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true; }

pg_restart_same_port() {
    [ -f "$SVC/pg.port" ] || die "PostgreSQL was never started here; run: scripts/services.sh start"
    pg_running || pg_start_on "$(cat "$SVC/pg.port")"
}

# ------------------------------------------------------------- S3 (moto)
# The same venv holds componentize-py, which builds the Python plugins, and
# pytest, which runs their rules tests (sdk-py, plugins/python).
PYTHON_TOOLS=(componentize-py==0.25.1 pytest==9.2.0)
ensure_moto() {
    if [ -x "$VENV/bin/moto_server" ]; then
        [ -x "$VENV/bin/componentize-py" ] && [ -x "$VENV/bin/pytest" ] && return 0
        log "installing ${PYTHON_TOOLS[*]} into $VENV"
        "$VENV/bin/pip" install -q "${PYTHON_TOOLS[@]}" >"$SVC/pip.log" 2>&1 || die "pip install ${PYTHON_TOOLS[*]} failed (see $SVC/pip.log)"
        return 0
    fi
    command -v python3 >/dev/null || apt_install python3
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    log "installing moto[server] and ${PYTHON_TOOLS[*]} into $VENV"
    "$VENV/bin/pip" install -q "moto[server]" "${PYTHON_TOOLS[@]}" >"$SVC/pip.log" 2>&1 || {
        tail -5 "$SVC/pip.log" >&2
        rm -rf "$VENV"
        die "pip install moto[server] failed (see $SVC/pip.log; df: $(df -h "$SVC" | tail -1))"
    }
}

start_s3() {
    ensure_moto
    pid_alive "$SVC/moto.pid" && return 0
    local port
    port="$(free_port)"
    setsid nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$SVC/moto.log" 2>&1 </dev/null 9>&- &
    echo $! >"$SVC/moto.pid"
    echo "$port" >"$SVC/moto.port"
    wait_for_port "$port" moto
}

# ------------------------------------------------------------------- Redis
start_redis() {
    command -v redis-server >/dev/null || apt_install redis-server
    pid_alive "$SVC/redis/redis.pid" && return 0
    local port
    port="$(free_port)"
    mkdir -p "$SVC/redis"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
        --dir "$SVC/redis" --pidfile "$SVC/redis/redis.pid" --logfile "$SVC/redis/redis.log" 9>&-
    echo "$port" >"$SVC/redis.port"
    wait_for_port "$port" redis
}

stop_pidfile() { # pidfile
    if pid_alive "$1"; then
        local pid
        pid="$(head -1 "$1")"
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$1"
}

write_env() {
    cat >"$ENV_FILE.tmp" <<EOF
export ARCADE_SERVICES_DIR='$SVC'
export ARCADE_TEST_PG_URL='postgres://postgres@127.0.0.1:$(cat "$SVC/pg.port")/postgres'
export ARCADE_TEST_S3_ENDPOINT='http://127.0.0.1:$(cat "$SVC/moto.port")'
export ARCADE_TEST_REDIS_URL='redis://127.0.0.1:$(cat "$SVC/redis.port")/'
export AWS_ACCESS_KEY_ID='testing'
export AWS_SECRET_ACCESS_KEY='testing'
export AWS_REGION='us-east-1'
export ARCADE_TEST_COMPONENTIZE_PY='$VENV/bin/componentize-py'
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

status_line() { # name running? port-file
    if $2; then echo "$1: running on 127.0.0.1:$(cat "$3")"; else echo "$1: stopped"; fi
}

# One invocation at a time per services directory (daemons get `9>&-` so
# they do not inherit the lock).
exec 9>"$SVC/lock"
flock 9

case "${1:-}" in
start)
    start_postgres
    start_s3
    start_redis
    write_env
    log "up; env file: $ENV_FILE"
    ;;
stop)
    pg_stop
    stop_pidfile "$SVC/moto.pid"
    stop_pidfile "$SVC/redis/redis.pid"
    rm -f "$ENV_FILE"
    log "stopped"
    ;;
env)
    [ -f "$ENV_FILE" ] || die "services are not started; run: scripts/services.sh start"
    cat "$ENV_FILE"
    ;;
status)
    status_line postgres pg_running "$SVC/pg.port"
    status_line s3 "pid_alive $SVC/moto.pid" "$SVC/moto.port"
    status_line redis "pid_alive $SVC/redis/redis.pid" "$SVC/redis.port"
    ;;
pg-stop) pg_stop ;;
pg-start) pg_restart_same_port ;;
*)
    echo "usage: $0 start|stop|env|status|pg-stop|pg-start" >&2
    exit 2
    ;;
esac
