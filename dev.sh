#!/usr/bin/env bash
# The two set-up commands of the README:
#   ./dev.sh demo [--port 5000]   install what is missing, then run the portal with demo data
#   ./dev.sh test [pytest args]   install what is missing, then run the whole test suite
# Also: ./dev.sh bench (benchmarks), ./dev.sh install (only install), ./dev.sh mutate [--fresh]
# [--show] (mutation testing of the benefits engine and the clocks; not part of CI, ~1 h on 2 cores).
# ./dev.sh check-venv says whether .venv is whole (exit 0) or what is missing (exit 1); every
# command that installs rebuilds a half-made .venv first (no bin/python, a python that does not
# run, no pip, or the portal package not installed).
#
# Run as root on a fresh Debian 12 machine, it installs the system packages too. As another user
# it installs only the Python environment and says which system packages are missing.
# `./dev.sh test` stops the PostgreSQL cluster and the Redis server it started when the tests end
# (KEEP_TEST_SERVICES=1 keeps them and prints how to stop them). Ports: PORTAL_TEST_PG_PORT
# (default 54329) for that cluster; a busy port is said in one line with the option to change it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)
# PORTAL_VENV: another place for the environment (tests of the check below use a scratch one)
VENV="${PORTAL_VENV:-$ROOT/.venv}"

RUNTIME_PACKAGES=(python3 python3-venv python3-pip libpango-1.0-0 libpangoft2-1.0-0
                  libharfbuzz-subset0 fonts-noto-cjk)
TEST_PACKAGES=(chromium poppler-utils postgresql redis-server)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_system_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing system packages (install them as root): sudo apt-get install ${missing[*]}"
  fi
}

# What is wrong with the environment in $VENV, in one line (nothing and exit 1 when it is whole
# enough to install into). A first run as non-root without python3-venv leaves a .venv without
# pip (ensurepip missing); an interrupted one, a .venv without bin/python or without packages.
venv_problem() {
  if [ ! -e "$VENV" ]; then echo "$VENV 不存在 (missing)"; return 0; fi
  if [ ! -x "$VENV/bin/python" ]; then echo "$VENV 缺少 bin/python (no interpreter)"; return 0; fi
  if ! "$VENV/bin/python" -c "import sys" >/dev/null 2>&1; then
    echo "$VENV/bin/python 无法运行 (interpreter does not run; Python upgraded or moved?)"; return 0
  fi
  if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    echo "$VENV 缺少 pip (created without ensurepip: apt-get install python3-venv)"; return 0
  fi
  return 1
}

# Whether the portal package is installed in a whole $VENV (the stamp alone can lie: an install
# interrupted after it, or a package removed by hand).
venv_has_portal() {
  [ -f "$VENV/.installed" ] && [ -x "$VENV/bin/portal" ] &&
    (cd / && "$VENV/bin/python" -c "import portal, flask, sqlalchemy") >/dev/null 2>&1  # not from the checkout
}

# Create $VENV, or rebuild it from scratch when half-made (see venv_problem).
ensure_venv() {
  local problem
  problem=$(venv_problem) || return 0
  if [ -e "$VENV" ]; then
    say "rebuilding the Python environment: $problem"
    rm -rf "$VENV"
  else
    say "creating the Python environment in $VENV"
  fi
  if ! python3 -m venv "$VENV" >&2; then
    rm -rf "$VENV"  # never leave a half-made one behind for the next run
    say "python3 -m venv failed: install python3-venv (as root: apt-get install python3-venv), then run this again"
    exit 1
  fi
  if problem=$(venv_problem); then
    rm -rf "$VENV"
    say "the new environment is incomplete ($problem): install python3-venv, then run this again"
    exit 1
  fi
}

install_python_env() {
  ensure_venv
  local stamp="$VENV/.installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || ! venv_has_portal; then
    say "installing Python packages"
    rm -f "$stamp"  # set again only once every package is in
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[test]"
    touch "$stamp"
  fi
}

# Whether something listens on 127.0.0.1:PORT (bash's /dev/tcp: no extra tool needed).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_busy_message() {  # PORT OPTION
  echo "端口 $1 已被占用：请先停止占用该端口的程序，或使用 $2 指定其他端口" >&2
}

# The throwaway services this run started, stopped when it ends (stop_test_services).
STARTED_PG_DATA="" STARTED_REDIS_PIDFILE=""

stop_test_services() {
  if [ "${KEEP_TEST_SERVICES:-}" = 1 ]; then
    [ -n "$STARTED_PG_DATA" ] && say "PostgreSQL keeps running; stop it with: $(pg_stop_command)"
    [ -n "$STARTED_REDIS_PIDFILE" ] && say "Redis keeps running; stop it with: kill \$(cat $STARTED_REDIS_PIDFILE)"
    return 0
  fi
  if [ -n "$STARTED_PG_DATA" ]; then
    say "stopping the throwaway PostgreSQL cluster ($STARTED_PG_DATA)"
    eval "$(pg_stop_command)" >/dev/null 2>&1 || say "could not stop it: run $(pg_stop_command)"
  fi
  if [ -n "$STARTED_REDIS_PIDFILE" ] && [ -s "$STARTED_REDIS_PIDFILE" ]; then
    say "stopping the Redis server started for the tests"
    kill "$(cat "$STARTED_REDIS_PIDFILE")" 2>/dev/null || true
  fi
}

pg_stop_command() {
  local bindir prefix=""
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ "$(id -u)" -eq 0 ] && prefix="runuser -u postgres -- "
  echo "${prefix}$bindir/pg_ctl -D $STARTED_PG_DATA -m fast stop"
}

# PostgreSQL for the tests: PORTAL_TEST_POSTGRES_URL if given; else a server on 127.0.0.1:5432
# that accepts postgres without a password (the CI machine has one); else a throwaway cluster of
# our own (trust auth, port 54329, data under /tmp) started from the installed binaries.
ensure_test_postgres() {
  [ -n "${PORTAL_TEST_POSTGRES_URL:-}" ] && return 0
  if "$VENV/bin/python" - <<'EOF' 2>/dev/null
import psycopg
psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=2").close()
EOF
  then
    export PORTAL_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:5432/test"
    return 0
  fi
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bindir" ]; then
    say "PostgreSQL is not installed: its tests will be skipped (apt-get install postgresql)"
    return 0
  fi
  local data=/tmp/portal-test-pg-$(id -u) port=${PORTAL_TEST_PG_PORT:-54329} runas=()
  if [ "$(id -u)" -eq 0 ]; then runas=(runuser -u postgres --); fi
  if [ ! -s "$data/PG_VERSION" ]; then
    say "creating a throwaway PostgreSQL cluster in $data"
    rm -rf "$data"; mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
    "${runas[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! "${runas[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if port_busy "$port"; then
      port_busy_message "$port" "PORTAL_TEST_PG_PORT=<端口>（或 PORTAL_TEST_POSTGRES_URL=postgresql://…）"
      exit 1
    fi
    "${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null
    STARTED_PG_DATA=$data
    say "started a throwaway PostgreSQL on 127.0.0.1:$port (stop: $(pg_stop_command))"
  fi
  "${runas[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
    "${runas[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres test
  export PORTAL_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/test"
}

# Redis for the queue tests: one on 127.0.0.1:6379, or start the installed server there.
ensure_test_redis() {
  [ -n "${PORTAL_TEST_REDIS_URL:-}" ] && return 0
  if ! redis_answers && command -v redis-server >/dev/null; then
    if port_busy 6379; then
      port_busy_message 6379 "PORTAL_TEST_REDIS_URL=redis://127.0.0.1:<端口>/15"
      exit 1
    fi
    say "starting redis-server on 127.0.0.1:6379"
    STARTED_REDIS_PIDFILE=/tmp/portal-test-redis-$(id -u).pid
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/portal-test-redis.log --pidfile "$STARTED_REDIS_PIDFILE"
    for _ in 1 2 3 4 5 6 7 8 9 10; do redis_answers && break; sleep 0.3; done
  fi
  if redis_answers; then
    export PORTAL_TEST_REDIS_URL="redis://127.0.0.1:6379/15"
  else
    say "Redis is not available: its tests will be skipped (apt-get install redis-server)"
  fi
}

redis_answers() {
  "$VENV/bin/python" -c "import redis; redis.Redis(host='127.0.0.1', port=6379, socket_timeout=1).ping()" \
    >/dev/null 2>&1
}

# `source dev.sh` (the tests of tests/ops/test_dev_sh.py) defines the functions and stops here.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
  check-venv)
    if problem=$(venv_problem); then echo "需要重建 / needs rebuilding: $problem"; exit 1; fi
    if ! venv_has_portal; then echo "需要安装依赖 / packages not installed: ./dev.sh install"; exit 1; fi
    echo "完好 / ok: $VENV"
    ;;
  install)
    install_system_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    install_python_env
    ;;
  demo)
    install_system_packages "${RUNTIME_PACKAGES[@]}"
    install_python_env
    exec "$VENV/bin/portal" demo "$@"
    ;;
  test)
    install_system_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    install_python_env
    ensure_test_postgres
    ensure_test_redis
    say "running the test suite (PostgreSQL: ${PORTAL_TEST_POSTGRES_URL:-none}; Redis: ${PORTAL_TEST_REDIS_URL:-none})"
    trap stop_test_services EXIT  # also after Ctrl-C
    "$VENV/bin/python" -m pytest "$@"
    ;;
  bench)
    install_system_packages "${RUNTIME_PACKAGES[@]}"
    install_python_env
    # the HTTP benchmark's load generator
    if [ $# -eq 0 ] || [[ " $* " == *" http "* ]]; then install_system_packages wrk; fi
    exec "$VENV/bin/python" -m benchmarks "$@"
    ;;
  mutate)
    install_system_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    install_python_env
    ensure_test_postgres
    [ -x "$VENV/bin/mutmut" ] || "$VENV/bin/pip" install -q "mutmut>=3.3,<4"
    say "mutation testing (results in mutants/, summary in mutants/summary.txt)"
    exec "$VENV/bin/python" tests/mutation.py "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo [portal demo options] | test [pytest args] | bench | mutate [--fresh] [--show] | install | check-venv" >&2
    exit 2
    ;;
esac
