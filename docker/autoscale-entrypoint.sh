#!/usr/bin/env bash
# Make one autoscaling decision for the worker (Render runs this as a cron job every
# minute): check the environment against the env spec, then exec the management command
# that reads the queue's backlog from Redis and scales the worker through Render's API.
# A decision that cannot be made (Redis or Render's API unreachable, the key refused)
# fails the run, visibly, and changes nothing. See docs/SCALING.md.
set -euo pipefail

# Stops with the list of every missing or malformed variable; otherwise exports the
# spec's defaults for the unset ones (AUTOSCALE_TARGET_LATENCY_SECONDS...).
load_environment() {
  local defaults
  defaults=$(python -m servicespec.envspec defaults autoscale)
  eval "$defaults"
}

main() {
  load_environment
  exec python manage.py autoscale "$@"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
