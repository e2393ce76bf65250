#!/usr/bin/env bash
# Installs what the lab (test/lab, `npm run test:lab`) needs on a Debian 12
# machine, as root. Idempotent: a second run installs nothing and exits 0.
#
# The lab runs one dockerd per network namespace (started by the harness
# itself), so this script installs the engine but never starts a dockerd in
# the root namespace.
set -euo pipefail

log() { echo "lab-prereqs: $*" >&2; }
die() { echo "lab-prereqs: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = "0" ] || die "must run as root (the lab creates network namespaces, bridges and daemons)"
command -v apt-get >/dev/null || die "apt-get not found: the lab expects a Debian-based machine"

# Debian packages the lab uses:
#   docker.io        dockerd + containerd + runc + the docker CLI (engine 20.10, swarm mode)
#   iptables         dockerd and the lab's FORWARD rule on the bridge
#   iproute2         ip netns / ip link (namespaces, veths, bridge)
#   util-linux       nsenter, unshare, mount/umount
#   busybox-static   the root filesystem of the locally built geth images
#   procps           ps/pkill-free process inspection helpers (pgrep used in diagnostics)
#   kmod             modprobe for bridge/vxlan/overlay where modules are not built in
#   ca-certificates  the Go module proxy is reached over https
#   debootstrap      the engine tier's docker-in-docker host image (a Debian root filesystem)
PKGS=(docker.io iptables iproute2 util-linux busybox-static procps kmod ca-certificates debootstrap)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    # Keep package scripts from starting dockerd/containerd in the root namespace.
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    # On a systemd machine the units may be enabled; the lab does not want them.
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        systemctl disable --now docker.socket docker.service containerd.service >/dev/null 2>&1 || true
    fi
else
    log "all Debian packages already installed"
fi

# The lab itself never uses the legacy/nft choice beyond what dockerd does; make
# sure the iptables binary works at all (a kernel without nf_tables or
# ip_tables support fails here, early, with a clear message).
iptables -w -S FORWARD >/dev/null 2>&1 || die "iptables cannot list the FORWARD chain (kernel netfilter support missing?)"

for cmd in dockerd containerd runc nsenter ip iptables busybox debootstrap; do
    command -v "$cmd" >/dev/null || die "$cmd not found after install"
done

# Go builds geth and bootnode from the Go module proxy (not a Debian package:
# Debian 12's Go is too old for go-ethereum v1.13.15's go.mod).
GO_BIN="${GO:-}"
if [ -z "$GO_BIN" ]; then
    if command -v go >/dev/null; then GO_BIN=$(command -v go)
    elif [ -x /usr/local/go/bin/go ]; then GO_BIN=/usr/local/go/bin/go
    fi
fi
[ -n "$GO_BIN" ] || die "go not found (PATH or /usr/local/go/bin/go); the lab builds geth v1.13.15 with it"
gover=$("$GO_BIN" env GOVERSION)
case "$gover" in
    go1.2[1-9]*|go1.[3-9][0-9]*) ;;
    *) die "go >= 1.21 is needed to build geth v1.13.15, found $gover" ;;
esac

log "ok: $(dockerd --version), $gover, $(busybox | head -1)"

# The AWS bootstrap suite's parts: moto (SSM), the AWS CLI, AWS's EC2 metadata mock.
GO="$GO_BIN" bash "$(dirname "$0")/aws-lab-prereqs.sh"
