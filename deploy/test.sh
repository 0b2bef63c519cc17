#!/usr/bin/env bash
# Set up, then run the whole test suite (extra arguments go to pytest). The suite uses the machine's
# PostgreSQL (127.0.0.1:5432, database test) and Redis (127.0.0.1:6379); set DATABASE_URL /
# CELERY_BROKER_URL to point it elsewhere. Browser tests drive Debian's Chromium, installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/setup.sh
./deploy/setup-test-tools.sh
# The suite trains and scores on MNIST, found through $MNIST_DIR or ../shared/datasets/mnist. A clone
# of a local checkout made elsewhere (a scratch folder) has no ../shared beside it: use the one beside
# the checkout it was cloned from, rather than failing on a download this machine cannot make.
# The real sets (orand-car-a-train, real-photos-dev) are found the same way, through $DIGITSCAN_DATASETS.
if [ ! -d ../shared/datasets ]; then
    origin=$(git config --get remote.origin.url 2>/dev/null || true)
    if [ -n "$origin" ] && [ -d "$origin/../shared/datasets" ]; then
        shared=$(cd "$origin/../shared/datasets" && pwd)
        export MNIST_DIR="${MNIST_DIR:-$shared/mnist}" DIGITSCAN_DATASETS="${DIGITSCAN_DATASETS:-$shared}"
        echo "datasets from $shared (beside the checkout this one was cloned from)" >&2
    fi
fi
exec .venv/bin/python -m pytest "$@"
