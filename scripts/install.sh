#!/usr/bin/env bash
# Installs everything webmap needs on a Debian 12 machine, idempotently; sourced by start.sh and
# test.sh. Runs as root (or with sudo available). Each step is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WEBMAP_VENV:-$ROOT/.venv}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

say() { printf '\n==> %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  say "Starting PostgreSQL"
  local version
  version="$(ls /etc/postgresql | sort -n | tail -1)"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return; sleep 1; done
  echo "PostgreSQL did not start" >&2; exit 1
}

start_redis() {
  # The shared tile cache and rate limits (WEBMAP_REDIS_URL). A throwaway in-memory instance
  # when none is running; a real deployment runs Debian's redis-server service instead.
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  say "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 120); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 0.5; done
  echo "Redis did not start" >&2; exit 1
}

pip_install() {
  # Quiet, but a failed install stops the script with pip's own output.
  local log
  log="$(mktemp)"
  if ! "$VENV/bin/pip" install -q "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "pip install $* failed" >&2
    exit 1
  fi
  grep -vE "^(WARNING: Location|  )" "$log" >&2 || true
  rm -f "$log"
}

python_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the Python environment in $VENV"
    python3 -m venv "$VENV"
  fi
  say "Installing Python packages (the pinned versions in requirements.lock)"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
  # The lock pins every package, the test and dev extras included (scripts/lock.sh writes it
  # from setup.cfg); webmap itself is then installed without letting pip resolve anything else.
  pip_install -r "$ROOT/requirements.lock"
  pip_install --no-deps -e "$ROOT"
  "$VENV/bin/python" -c "import webmap, tiles, layers" # fails loudly if the install did not work
}

frontend_build() {
  if [ ! -f "$ROOT/frontend/package.json" ]; then return; fi
  say "Building the frontend"
  (cd "$ROOT/frontend" && { [ -f package-lock.json ] && npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; } && npm run --silent build)
}

install_all() {
  # PostGIS for the database, gdal-bin for ogr2ogr in the ingest benchmark, Chromium for browser
  # tests, DejaVu for the å, ä and ö of static map attributions, nginx in front of the app server
  # (docs/deploy.md), Redis for the shared tile cache and rate limits.
  apt_install postgresql-15-postgis-3 gdal-bin chromium fonts-dejavu-core nginx redis-server
  start_postgres
  start_redis
  python_env
  frontend_build
}
