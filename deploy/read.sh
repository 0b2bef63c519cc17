#!/usr/bin/env bash
# Set up, then read the digits in the shipped sample image (or the images given as arguments)
# with the shipped model, printing the digits and the path of each annotated image.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/setup.sh
if [ $# -eq 0 ]; then set -- docs/samples/digits.png; fi
exec .venv/bin/python -m ml read "$@" --annotate var/annotated
