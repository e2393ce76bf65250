#!/usr/bin/env bash
# Stands up the `local` stack with one command: installs the project's dependencies, checks
# the tools it needs (saying how to get a missing one), keeps Pulumi state in a local file
# backend and secrets under a generated passphrase (unless you set your own), selects or
# creates the `local` stack and runs `pulumi up`.
#
#   npm run up:local            # stand the network up
#   npm run up:local -- destroy # tear it down (any pulumi sub-command works)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# 1. The project's own dependencies (needs only Node.js and npm).
command -v node >/dev/null || fail "Node.js is not installed: https://nodejs.org/ (version 20 or later)."
node test/tools/ensure-deps.cjs

# 2. The tools `pulumi up` needs, each with how to get it.
command -v pulumi >/dev/null ||
    fail "the Pulumi CLI is not installed. Install it with \`curl -fsSL https://get.pulumi.com | sh\` (or see https://www.pulumi.com/docs/install/), open a new shell, and run \`npm run up:local\` again."
command -v docker >/dev/null ||
    fail "Docker is not installed: install Docker Desktop or Docker Engine (https://docs.docker.com/get-docker/), start it, and run \`npm run up:local\` again."
docker info >/dev/null 2>&1 ||
    fail "cannot reach your Docker engine${DOCKER_HOST:+ at DOCKER_HOST=$DOCKER_HOST}: start Docker (Docker Desktop, or \`sudo systemctl start docker\`), or add yourself to the docker group (\`sudo usermod -aG docker \$USER\`, then log in again)."

# 3. State and secrets: a local file backend and a generated passphrase, unless you set your own.
# shellcheck source=examples/pulumi-env.sh
. examples/pulumi-env.sh

pulumi stack select local 2>/dev/null || pulumi stack init local
if [ "$#" -eq 0 ]; then
    pulumi up --yes
    pulumi stack output --json
else
    pulumi "$@"
fi
