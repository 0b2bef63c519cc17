#!/usr/bin/env bash
# Set up, then start the whole web system on one machine: the Django site, an inference worker, a training
# worker and celery beat. With no environment set they use the embedded defaults under var/ (SQLite,
# Celery's filesystem queue, local files); deploy/env.example lists the variables for real services.
# Ctrl-C stops all of it.  Usage: deploy/start.sh [PORT]   (default 8000)
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/setup.sh
PORT=${1:-${PORT:-8000}}
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=web.settings

$PY manage.py migrate --verbosity 0
LOG=${DIGITSCAN_VAR_DIR:-var}/log
mkdir -p "$LOG"
pids=()
stop() {
    trap - INT TERM EXIT
    echo "stopping DigitScan..." >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# Workers and beat log to $LOG; the site logs to this terminal.
$PY -m celery -A worker worker -Q inference --concurrency "${INFERENCE_PROCESSES:-2}" -n inference@%h \
    --loglevel INFO >"$LOG"/worker-inference.log 2>&1 &
pids+=($!)
$PY -m celery -A worker worker -Q training --concurrency 1 -n training@%h \
    --loglevel INFO >"$LOG"/worker-training.log 2>&1 &
pids+=($!)
$PY -m celery -A worker beat --loglevel INFO --pidfile= >"$LOG"/beat.log 2>&1 &
pids+=($!)
$PY -m gunicorn web.wsgi --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - &
pids+=($!)

echo "DigitScan is running: open http://127.0.0.1:$PORT/  (logs in $LOG; Ctrl-C stops everything)" >&2
wait -n "${pids[@]}"
