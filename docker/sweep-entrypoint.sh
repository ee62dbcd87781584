#!/usr/bin/env bash
# Run the outbox sweep once (Render runs it as a cron job): check the environment against
# the env spec, then exec the management command that enqueues every verification email
# no task is looking after. A broker that is down fails the run, visibly, and loses
# nothing: the emails stay pending for the next run.
set -euo pipefail

# Stops with the list of every missing or malformed variable; otherwise exports the
# spec's defaults for the unset ones (EMAIL_SWEEP_AFTER_SECONDS, LOG_LEVEL...).
load_environment() {
  local defaults
  defaults=$(python -m servicespec.envspec defaults sweep)
  eval "$defaults"
}

main() {
  load_environment
  exec python manage.py sweep_emails --stale-after "${EMAIL_SWEEP_AFTER_SECONDS}" "$@"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
