#!/usr/bin/env bash
# Runs a command while N CPU-bound processes compete with it (default 2), the way a busy
# CI machine would, and stops them afterwards whatever the command did:
#
#   bash test/tools/under-load.sh 2 npm test
#   bash test/tools/under-load.sh 2 npm run test:lab
set -euo pipefail
n=${1:?usage: under-load.sh <processes> <command...>}
shift
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in $(seq "$n"); do
    sh -c 'while :; do :; done' &
    pids+=("$!")
done
echo "under-load: $n CPU-bound processes (${pids[*]}) while running: $*" >&2
"$@"
