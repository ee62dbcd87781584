#!/usr/bin/env bash
# Start the worker service: check the environment against the env spec, then exec a
# Celery worker so it is PID 1 and receives Render's SIGTERM itself (a warm shutdown:
# in-flight tasks finish, unstarted ones go back to Redis).
#
# Never runs Celery beat: a worker can have several instances, and each would run the
# schedule. A schedule gets its own single-instance service.
set -euo pipefail

# Stops with the list of every missing or malformed variable; otherwise exports the
# spec's defaults for the unset ones (CELERY_WORKER_POOL, CELERY_WORKER_CONCURRENCY...).
load_environment() {
  local defaults
  defaults=$(python -m servicespec.envspec defaults worker)
  eval "$defaults"
}

# Render gives each instance its own RENDER_INSTANCE_ID; elsewhere the PID (which exec
# keeps) tells side-by-side workers on one host apart.
node_name() {
  printf '%s@%%h' "${RENDER_INSTANCE_ID:-worker-$$}"
}

# --without-heartbeat: Celery's own event heartbeat publishes from the main loop and, in a
# network partition, retries without end, so neither the broker's health check nor the
# stall watchdog's restart came; the worker's liveness is its own heartbeat in Redis
# (operations/liveness.py), written from a thread of its own.
main() {
  load_environment
  exec celery --app remosphere worker \
    --loglevel "${LOG_LEVEL}" \
    --pool "${CELERY_WORKER_POOL}" \
    --concurrency "${CELERY_WORKER_CONCURRENCY}" \
    --hostname "$(node_name)" \
    --without-mingle \
    --without-gossip \
    --without-heartbeat \
    "$@"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
