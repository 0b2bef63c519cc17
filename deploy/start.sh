#!/usr/bin/env bash
# Set up, then start the whole web system on one machine: the Django site, an inference worker, a training
# worker and celery beat. With no environment set they use the embedded defaults under var/ (SQLite, a
# SQLite-file Celery queue, local files); deploy/env.example lists the variables for real services.
# deploy/supervise.py runs the processes and restarts any that dies (with a back-off), saying so here.
# Ctrl-C (or SIGTERM) stops all of it.  Usage: deploy/start.sh [--dev] [PORT]   (default 8000)
# It serves as in production: DEBUG off (errors are the site's own pages, never Django's debug pages with
# the site's URL list), static files served, its own secret key generated once into var/secret_key.
# --dev turns DEBUG on. DIGITSCAN_SKIP_SETUP=1 skips deploy/setup.sh (for an existing .venv, e.g. the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) start.sh: $*" >&2; }
if [ "${DIGITSCAN_SKIP_SETUP:-0}" != 1 ]; then
    ./deploy/setup.sh
fi
DEV=0
ARGS=()
for arg in "$@"; do
    case "$arg" in
        --dev) DEV=1 ;;
        *) ARGS+=("$arg") ;;
    esac
done
PORT=${ARGS[0]:-${PORT:-8000}}
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=web.settings
if [ "$DEV" = 1 ]; then
    export DJANGO_DEBUG=1
    say "--dev: DEBUG is on (Django's debug pages show the site's internals: never expose this)"
else
    export DJANGO_DEBUG=${DJANGO_DEBUG:-0}
    VAR=${DIGITSCAN_VAR_DIR:-var}
    mkdir -p "$VAR"
    if [ -z "${SECRET_KEY:-}" ]; then
        # Kept, so that sessions survive restarts; readable by this user only (it signs sessions).
        [ -s "$VAR/secret_key" ] || (umask 077 && $PY -c "import secrets; print(secrets.token_urlsafe(50))" \
            >"$VAR/secret_key")
        SECRET_KEY=$(cat "$VAR/secret_key")
        export SECRET_KEY
    fi
    # Plain HTTP on this machine: cookies cannot be HTTPS-only here (DJANGO_SECURE_COOKIES=1 behind TLS).
    export DJANGO_SECURE_COOKIES=${DJANGO_SECURE_COOKIES:-0}
fi

say "migrating the database"
$PY manage.py migrate --verbosity 0
LOG=${DIGITSCAN_VAR_DIR:-var}/log
mkdir -p "$LOG"
say "DigitScan is running: open http://127.0.0.1:$PORT/  (logs in $LOG; Ctrl-C stops everything)"
# Workers and beat log to $LOG; the site and the supervisor log to this terminal.
exec $PY deploy/supervise.py --port "$PORT" --log "$LOG" --inference-processes "${INFERENCE_PROCESSES:-2}"
