#!/usr/bin/env bash
# Stands up the `local` stack with one command: installs dependencies, keeps Pulumi state
# in a local file backend and secrets under a generated passphrase (unless you set your
# own), selects or creates the `local` stack and runs `pulumi up`.
#
#   npm run up:local            # stand the network up
#   npm run up:local -- destroy # tear it down (any pulumi sub-command works)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v pulumi >/dev/null || { echo "error: the Pulumi CLI is not installed: https://www.pulumi.com/docs/install/" >&2; exit 1; }
command -v docker >/dev/null || { echo "error: Docker is not installed: https://docs.docker.com/get-docker/" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "error: cannot reach your Docker engine (is it running, and may you use it?)" >&2; exit 1; }

home="${GETH_SWARM_HOME:-$HOME/.geth-swarm}"
mkdir -p "$home/state"
chmod 700 "$home"

# State: a local file backend unless one is configured.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$home/state}"

# Secrets: your passphrase if set, else one generated once and kept readable only by you.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    if [ ! -s "$home/passphrase" ]; then
        (umask 077 && head -c 32 /dev/urandom | base64 > "$home/passphrase")
        echo "Generated a Pulumi secrets passphrase in $home/passphrase (keep it: it decrypts the stack's keys)."
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$home/passphrase"
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
pulumi stack select local 2>/dev/null || pulumi stack init local
if [ "$#" -eq 0 ]; then
    pulumi up --yes
    pulumi stack output --json
else
    pulumi "$@"
fi
