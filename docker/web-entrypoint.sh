#!/usr/bin/env bash
# Start the web service: check the environment against the env spec, run migrations if
# asked (plans without a pre-deploy command), then exec Gunicorn so it is PID 1 and
# receives Render's SIGTERM itself.
set -euo pipefail

# The access log shows the path without its query string, and no referrer: links from
# emails carry their token in the query (?token=...), and no token may reach a log line.
readonly ACCESS_LOG_FORMAT='%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

log() { printf 'web-entrypoint: %s\n' "$*" >&2; }

# Stops with the list of every missing or malformed variable; otherwise exports the
# spec's defaults for the unset ones (PORT, WEB_BIND_HOST, WEB_CONCURRENCY, GUNICORN_*...).
load_environment() {
  local defaults
  defaults=$(python -m servicespec.envspec defaults web)
  eval "$defaults"
}

migrate_if_asked() {
  case "${MIGRATE_ON_START,,}" in
    1 | true | yes | on)
      log "MIGRATE_ON_START is set: applying migrations"
      python manage.py migrate --noinput
      ;;
  esac
}

# Gunicorn's processes share the request metrics through files in this directory
# (prometheus-client's multiprocess mode); it must start empty, so metrics restart at zero
# with the instance as they would with one process. One made here is marked, and Gunicorn
# removes it when it exits (remosphere/gunicorn_hooks.py).
prepare_metrics_dir() {
  if [[ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]]; then
    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d -t remosphere-metrics.XXXXXX)
    export PROMETHEUS_MULTIPROC_DIR
    : >"${PROMETHEUS_MULTIPROC_DIR}/.made-by-web-entrypoint"
  else
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
    find "${PROMETHEUS_MULTIPROC_DIR}" -maxdepth 1 -name '*.db' -delete
  fi
}

# Each login or registration hashes with Argon2id in 19 MiB, several threads at once. With
# glibc's defaults a thread's arena keeps such blocks once freed (the mmap threshold grows
# after the first free), and each Gunicorn process stays at threads x 19 MiB. A fixed
# threshold makes every such block a mapping of its own, returned when freed; the
# semaphore then bounds the memory (docs/SECURITY.md). The image sets it too.
bound_the_allocator() {
  export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
}

main() {
  load_environment
  bound_the_allocator
  prepare_metrics_dir
  migrate_if_asked
  exec gunicorn remosphere.wsgi:application \
    --config python:remosphere.gunicorn_hooks \
    --bind "${WEB_BIND_HOST}:${PORT}" \
    --workers "${WEB_CONCURRENCY}" \
    --threads "${GUNICORN_THREADS}" \
    --timeout "${GUNICORN_TIMEOUT}" \
    --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT}" \
    --forwarded-allow-ips '*' \
    --access-logfile - \
    --access-logformat "${ACCESS_LOG_FORMAT}" \
    --error-logfile - \
    "$@"
}

# Only when executed, not when sourced (tests source this file to call its functions).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
