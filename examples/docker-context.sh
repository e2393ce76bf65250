#!/usr/bin/env bash
# Writes a Docker context for the swarm manager's TLS API from the stack's outputs
# (`managerApi`, and the secret `managerTls`: CA, client certificate and key), so the
# docker CLI operates the swarm:
#
#   npm run docker-context                       # stack local, this project
#   npm run docker-context -- --stack dev        # another stack
#   npm run docker-context -- --cwd <dir>        # another Pulumi project that uses GethSwarm
#   docker --context geth-swarm-local service ls
#   docker --context geth-swarm-local service logs nodes_miner
#
# The docker CLI copies the TLS files into its own context store (~/.docker/contexts, or
# $DOCKER_CONFIG/contexts); nothing else is left on disk. Running it again updates the context.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
stack=local
cwd=$PWD
while [ "$#" -gt 0 ]; do
    case "$1" in
        --stack) stack=${2:?--stack needs a name}; shift 2 ;;
        --cwd) cwd=${2:?--cwd needs a directory}; shift 2 ;;
        *) fail "unknown argument $1 (usage: npm run docker-context -- [--stack <name>] [--cwd <project dir>])" ;;
    esac
done
command -v pulumi >/dev/null || fail "the Pulumi CLI is not installed: \`curl -fsSL https://get.pulumi.com | sh\`."
command -v docker >/dev/null || fail "the docker CLI is not installed: https://docs.docker.com/get-docker/."

# shellcheck source=examples/pulumi-env.sh
. examples/pulumi-env.sh

api=$(pulumi stack output managerApi --stack "$stack" --cwd "$cwd" --non-interactive) ||
    fail "no managerApi output in stack $stack: run \`pulumi up\` (npm run up:local) first."
tls=$(mktemp -d)
trap 'rm -rf "$tls"' EXIT
chmod 700 "$tls"
pulumi stack output managerTls --json --show-secrets --stack "$stack" --cwd "$cwd" --non-interactive |
    node -e '
        const fs = require("fs"), path = require("path");
        const t = JSON.parse(fs.readFileSync(0, "utf8"));
        if (!t || !t.caPem || !t.certPem || !t.keyPem) { console.error("the stack has no managerTls output with CA, certificate and key"); process.exit(1); }
        const dir = process.argv[1];
        fs.writeFileSync(path.join(dir, "ca.pem"), t.caPem, { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "cert.pem"), t.certPem, { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "key.pem"), t.keyPem, { mode: 0o600 });
    ' "$tls"

name="geth-swarm-$stack"
endpoint="host=$api,ca=$tls/ca.pem,cert=$tls/cert.pem,key=$tls/key.pem"
if docker context inspect "$name" >/dev/null 2>&1; then
    docker context update --description "geth-swarm stack $stack: the swarm manager" --docker "$endpoint" "$name" >/dev/null
else
    docker context create --description "geth-swarm stack $stack: the swarm manager" --docker "$endpoint" "$name" >/dev/null
fi
echo "Docker context $name: the swarm manager at $api. Try:"
echo "  docker --context $name service ls"
echo "  docker --context $name service logs nodes_miner"
echo "  docker --context $name stack ps nodes"
