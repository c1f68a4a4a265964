#!/usr/bin/env bash
# The two set-up commands of the README:
#   ./dev.sh demo [--port 5000]   install what is missing, then run the portal with demo data
#   ./dev.sh test [pytest args]   install what is missing, then run the whole test suite
# Also: ./dev.sh bench (benchmarks), ./dev.sh install (only install).
#
# Run as root on a fresh Debian 12 machine, it installs the system packages too. As another user
# it installs only the Python environment and says which system packages are missing.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"

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

install_python_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the Python environment in .venv"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "installing Python packages"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[test]"
    touch "$stamp"
  fi
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
  local data=/tmp/portal-test-pg-$(id -u) port=54329 runas=()
  if [ "$(id -u)" -eq 0 ]; then runas=(runuser -u postgres --); fi
  if [ ! -s "$data/PG_VERSION" ]; then
    say "creating a throwaway PostgreSQL cluster in $data"
    rm -rf "$data"; mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
    "${runas[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! "${runas[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    "${runas[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1" start >/dev/null
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
    say "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/portal-test-redis.log
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

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
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
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  bench)
    install_system_packages "${RUNTIME_PACKAGES[@]}"
    install_python_env
    exec "$VENV/bin/python" -m benchmarks "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo [--port N] | test [pytest args] | bench | install" >&2
    exit 2
    ;;
esac
