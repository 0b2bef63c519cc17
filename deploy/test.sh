#!/usr/bin/env bash
# Set up, then run the whole test suite (extra arguments go to pytest). The suite uses the machine's
# PostgreSQL (127.0.0.1:5432, database test) and Redis (127.0.0.1:6379); set DATABASE_URL /
# CELERY_BROKER_URL to point it elsewhere. Browser tests drive Debian's Chromium, installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/setup.sh
./deploy/setup-test-tools.sh
exec .venv/bin/python -m pytest "$@"
