#!/usr/bin/env bash
# Set up, then start the whole web system on one machine: the Django site, an inference worker, a training
# worker and celery beat. With no environment set they use the embedded defaults under var/ (SQLite, a
# SQLite-file Celery queue, local files); deploy/env.example lists the variables for real services.
# deploy/supervise.py runs the processes and restarts any that dies (with a back-off), saying so here.
# Ctrl-C (or SIGTERM) stops all of it.  Usage: deploy/start.sh [PORT]   (default 8000)
# DIGITSCAN_SKIP_SETUP=1 skips deploy/setup.sh (for an existing .venv, e.g. the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) start.sh: $*" >&2; }
if [ "${DIGITSCAN_SKIP_SETUP:-0}" != 1 ]; then
    ./deploy/setup.sh
fi
PORT=${1:-${PORT:-8000}}
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=web.settings

say "migrating the database"
$PY manage.py migrate --verbosity 0
LOG=${DIGITSCAN_VAR_DIR:-var}/log
mkdir -p "$LOG"
say "DigitScan is running: open http://127.0.0.1:$PORT/  (logs in $LOG; Ctrl-C stops everything)"
# Workers and beat log to $LOG; the site and the supervisor log to this terminal.
exec $PY deploy/supervise.py --port "$PORT" --log "$LOG" --inference-processes "${INFERENCE_PROCESSES:-2}"
