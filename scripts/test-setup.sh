#!/usr/bin/env bash
# What the README's test command needs on this machine, made ready: Debian's buildah,
# podman and debootstrap (the image test), chromium (the browser test), and the real Redis
# and PostgreSQL the tests use, installed and started when missing. `make test` runs it
# first; `.ci/run` runs `make test`.
#
# As root it installs with apt and starts services itself. Otherwise it changes nothing
# and stops with the one command to run.
#
# TEST_SETUP=skip leaves the machine alone (for a machine set up another way); services
# given by TEST_REDIS_URL or TEST_DATABASE_URL are left to whoever runs them.
set -euo pipefail

cd "$(dirname "$0")/.."

# The image test: buildah, podman, debootstrap. The browser test: chromium, and a font so
# its screenshots show text.
readonly PACKAGES=(buildah podman debootstrap chromium fonts-dejavu-core)
readonly REDIS_START='redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'

log() { printf 'test-setup: %s\n' "$*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Stops the run, naming the one command that fixes it.
needs_root() {
  log "$1"
  log "run this once as root, then make test again:"
  log "  sudo $2"
  exit 1
}

apt_install() {
  if ! is_root; then
    needs_root "missing: $*" "apt-get install -y $*"
  fi
  log "installing $* from Debian's packages"
  if [ -z "${APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing_packages() {
  local package
  for package in "${PACKAGES[@]}"; do
    installed "$package" || printf '%s\n' "$package"
  done
}

ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
}

redis_answers() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server redis-tools
  if ! redis_answers; then
    is_root || needs_root "Redis does not answer on 127.0.0.1:6379" "$REDIS_START"
    log "starting Redis on 127.0.0.1:6379"
    eval "$REDIS_START"
    for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  fi
  redis_answers || { log "Redis did not start"; exit 1; }
}

postgres_answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version
  version=$(ls /etc/postgresql)
  if ! postgres_answers; then
    is_root || needs_root "PostgreSQL does not answer on 127.0.0.1:5432" \
      "pg_ctlcluster --skip-systemctl-redirect $version main start"
    log "starting PostgreSQL $version on 127.0.0.1:5432"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 100); do postgres_answers && break; sleep 0.1; done
  fi
  if ! psql -h 127.0.0.1 -U postgres -d test -c 'SELECT 1' >/dev/null 2>&1; then
    is_root || needs_root "PostgreSQL lacks trust auth on 127.0.0.1 or the database test" \
      "scripts/test-setup.sh"
    log "configuring PostgreSQL: trust auth on 127.0.0.1, database test, roles root and postgres"
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    su postgres -c "psql -q -c \"DO \\\$\\\$ BEGIN CREATE ROLE root SUPERUSER LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \\\$\\\$\"" || true
    su postgres -c "createdb test" 2>/dev/null || true
  fi
  psql -h 127.0.0.1 -U postgres -d test -c 'SELECT 1' >/dev/null
}

main() {
  if [ "${TEST_SETUP:-}" = skip ]; then
    return
  fi
  ensure_packages
  # Services given elsewhere (TEST_REDIS_URL, TEST_DATABASE_URL) are theirs to run.
  [ -n "${TEST_REDIS_URL:-}" ] || ensure_redis
  [ -n "${TEST_DATABASE_URL:-}" ] || ensure_postgres
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
