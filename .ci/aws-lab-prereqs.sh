#!/usr/bin/env bash
# Installs what the lab's AWS bootstrap suite (test/lab/awsBootstrap.test.ts) needs, as root,
# outside the clone under $GETH_SWARM_LAB_CACHE (default /var/cache/geth-swarm-lab)/aws-tools:
#
#   moto/     venv: moto in server mode, the SSM API   (test/lab/fixtures/aws-tools/requirements-moto.txt)
#   awscli/   venv: the AWS CLI v1 the bootstrap runs  (test/lab/fixtures/aws-tools/requirements-awscli.txt)
#   ec2-metadata-mock-<version>/ec2-metadata-mock      AWS's EC2 metadata mock, `go install` (versions.env)
#
# Every Python package is pinned. A venv records the requirements it was built from (its
# .requirements file, written last) and is built again when they differ. Idempotent: with
# everything in place it installs nothing. The three installs run at once. Called by
# .ci/lab-prereqs.sh; GO names the Go binary when `go` is not on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "aws-lab-prereqs: $*" >&2; }
die() { echo "aws-lab-prereqs: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = "0" ] || die "must run as root"
fixtures="$PWD/test/lab/fixtures/aws-tools"
# shellcheck disable=SC1091 # KEY=VALUE lines: the mock's package and version
. "$fixtures/versions.env"
dir="${GETH_SWARM_LAB_CACHE:-/var/cache/geth-swarm-lab}/aws-tools"
mkdir -p "$dir"

# Debian packages: python3-venv for the venvs; curl (the bootstrap script and the lab's
# stand-in systemctl use it) and openssl (the suite makes the Docker API's TLS material).
missing=()
python=$(command -v python3 || true)
if [ -z "$python" ] || ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3 python3-venv); fi
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    python=$(command -v python3)
fi

go=${GO:-$(command -v go || true)}
[ -n "$go" ] || { [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; } || true
[ -n "$go" ] || die "go not found (PATH, GO or /usr/local/go/bin/go); it builds the EC2 metadata mock"

# venv NAME CHECK...: $dir/NAME from requirements-NAME.txt, unless built from it already and
# CHECK (a command in the venv's bin) passes.
venv() {
    local name=$1 req="$fixtures/requirements-$1.txt" v="$dir/$1"
    shift
    if cmp -s "$req" "$v/.requirements" && "$v/bin/$1" "${@:2}" >/dev/null 2>&1; then
        log "$name: up to date"
        return 0
    fi
    log "$name: pip install -r $req into $v"
    rm -rf "$v"
    "$python" -m venv "$v"
    "$v/bin/pip" install -q --disable-pip-version-check --no-input -r "$req" >"$dir/$name-install.log" 2>&1 ||
        { tail -20 "$dir/$name-install.log" >&2; die "$name: pip install -r $req failed (log: $dir/$name-install.log)"; }
    "$v/bin/$1" "${@:2}" >/dev/null || die "$name: \`$*\` fails after the install"
    cp "$req" "$v/.requirements"
}

mock() {
    local out="$dir/ec2-metadata-mock-$EC2_METADATA_MOCK_VERSION" cache="${GETH_SWARM_LAB_CACHE:-/var/cache/geth-swarm-lab}/go"
    if [ -x "$out/ec2-metadata-mock" ]; then
        log "ec2-metadata-mock $EC2_METADATA_MOCK_VERSION: up to date"
        return 0
    fi
    log "ec2-metadata-mock: go install $EC2_METADATA_MOCK_PACKAGE@$EC2_METADATA_MOCK_VERSION"
    rm -rf "$out.tmp" && mkdir -p "$out.tmp"
    (cd /tmp && GOBIN="$out.tmp" GOMODCACHE="$cache/mod" GOCACHE="$cache/build" GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOTOOLCHAIN=local \
        "$go" install -trimpath "$EC2_METADATA_MOCK_PACKAGE@$EC2_METADATA_MOCK_VERSION") >"$dir/ec2-metadata-mock-install.log" 2>&1 ||
        { tail -20 "$dir/ec2-metadata-mock-install.log" >&2; die "go install of the EC2 metadata mock failed (log: $dir/ec2-metadata-mock-install.log)"; }
    "$out.tmp/ec2-metadata-mock" --version >/dev/null || die "the EC2 metadata mock does not run"
    rm -rf "$out" && mv "$out.tmp" "$out"
}

t0=$SECONDS
venv moto moto_server --help &
p_moto=$!
venv awscli aws --version &
p_aws=$!
mock &
p_mock=$!
fail=0
wait $p_moto || fail=1
wait $p_aws || fail=1
wait $p_mock || fail=1
[ "$fail" = 0 ] || die "see the lines above"
log "ok in $((SECONDS - t0)) s: $("$dir/awscli/bin/aws" --version 2>&1), moto $("$dir/moto/bin/python" -c 'import moto; print(moto.__version__)'), ec2-metadata-mock $EC2_METADATA_MOCK_VERSION"
