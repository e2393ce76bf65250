/**
 * The files the nodes stack hands its containers as swarm configs: the start script,
 * the host-address map and the signer map. Pure renderers; snapshot-tested.
 */
import { createHash } from "node:crypto";

/** Where the nodes stack mounts its configs inside the geth containers. */
export const CONFIG_DIR = "/geth-swarm";
/** Path of the start script inside the container. */
export const START_SCRIPT_PATH = `${CONFIG_DIR}/start.sh`;
export const GENESIS_PATH = `${CONFIG_DIR}/genesis.json`;
export const HOSTS_PATH = `${CONFIG_DIR}/hosts`;
export const SIGNERS_PATH = `${CONFIG_DIR}/signers`;
/** The geth data directory (a named volume) inside the container. */
export const DATA_DIR = "/data";
/** Where swarm mounts secrets inside a container. */
export const SECRETS_DIR = "/run/secrets";

/** Directories the start script uses; the defaults are the container's. Tests point them elsewhere. */
export interface StartScriptPaths {
    /** Default {@link CONFIG_DIR}. */
    readonly configDir?: string;
    /** Default {@link DATA_DIR}. */
    readonly dataDir?: string;
    /** Default {@link SECRETS_DIR}. */
    readonly secretsDir?: string;
}

/** File names under `/run/secrets/` of signer `i`'s key and password. */
export function signerKeyFile(index: number): string {
    return `signer-${index}-key`;
}
export function signerPasswordFile(index: number): string {
    return `signer-${index}-password`;
}

/**
 * Digest that suffixes a swarm secret or config name: the first 12 hex digits of the
 * SHA-256 of the content. Swarm secrets and configs cannot change, so new content must
 * get a new name. For a secret, the digest is of a 256-bit random key or a long random
 * password: it reveals nothing about the value.
 */
export function contentDigest(content: string): string {
    return createHash("sha256").update(content, "utf8").digest("hex").slice(0, 12);
}

/** A host as the `hosts` config lists it. */
export interface HostAddress {
    readonly name: string;
    readonly privateIp: string;
}

/** A miner host and the signer it seals with, as the `signers` config lists it. */
export interface HostSigner {
    readonly host: string;
    readonly index: number;
    readonly address: string;
}

/** `hosts` config: one `<host name> <private IP>` line per host, sorted by name. */
export function renderHostsFile(hosts: readonly HostAddress[]): string {
    const lines = [...hosts].sort((a, b) => cmp(a.name, b.name)).map((h) => `${h.name} ${h.privateIp}`);
    return "# host-name private-ip (geth-swarm: the address each host's geth advertises)\n" + lines.join("\n") + "\n";
}

/** `signers` config: one `<host name> <signer index> <address, lower case>` line per miner host. */
export function renderSignersFile(signers: readonly HostSigner[]): string {
    const lines = [...signers].sort((a, b) => cmp(a.host, b.host)).map((s) => `${s.host} ${s.index} ${s.address.toLowerCase()}`);
    return "# host-name signer-index signer-address (geth-swarm: the key each miner host seals with)\n" + lines.join("\n") + "\n";
}

function cmp(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The POSIX `sh` entrypoint of the `node` and `miner` services, run as
 * `/bin/sh /geth-swarm/start.sh <node|miner> <geth flags...>`. It
 *
 * 1. initialises the data directory from the genesis config on first start only
 *    (when `<datadir>/geth/chaindata` does not exist yet);
 * 2. looks the container's host name up in the `hosts` config and advertises that
 *    address with `--nat extip:<ip>`. The services run on the swarm's `host` network,
 *    where the container's host name is its swarm node's own hostname; geth listens on all
 *    the host's interfaces, so it must be told which address is the one peers reach. A
 *    host missing from the map falls back to `--nat any`, with a log line;
 * 3. for `miner`: picks this host's signer from the `signers` config, imports its key
 *    into the keystore once, and seals with it (`--mine --unlock`); a miner host without
 *    a signer refuses to start;
 * 4. `exec`s geth with the flags it was given, so geth is the container's main process.
 */
export function renderStartScript(paths: StartScriptPaths = {}): string {
    const configDir = paths.configDir ?? CONFIG_DIR;
    const dataDir = paths.dataDir ?? DATA_DIR;
    const secretsDir = paths.secretsDir ?? SECRETS_DIR;
    return `#!/bin/sh
# geth-swarm start script for the node and miner services.
# Usage: start.sh node|miner [geth flags...]
set -eu

role="\${1:-}"
case "$role" in
    node|miner) shift ;;
    *) echo "geth-swarm: usage: start.sh node|miner [geth flags...]" >&2; exit 2 ;;
esac

datadir="${dataDir}"
genesis="${configDir}/genesis.json"
hosts="${configDir}/hosts"
signers="${configDir}/signers"
secrets="${secretsDir}"

log() {
    printf 'geth-swarm: %s\\n' "$*" >&2
}

self="$(hostname 2>/dev/null || cat /etc/hostname)"

# 1. First start only: create the genesis block.
if [ ! -d "$datadir/geth/chaindata" ]; then
    log "initialising $datadir from $genesis"
    geth init --datadir "$datadir" "$genesis"
fi

# 2. The address peers reach this host at (the container is on the host network:
#    its host name is the host's).
extip=""
while read -r name ip; do
    if [ "$name" = "$self" ]; then
        extip="$ip"
        break
    fi
done < "$hosts"
if [ -z "$extip" ]; then
    # A host added after the stack was deployed: the source address of its route to the
    # bootnode is the address the other hosts reach it at.
    bootip=""
    previous=""
    for arg in "$@"; do
        if [ "$previous" = "--bootnodes" ]; then
            bootip="$(printf '%s\\n' "$arg" | sed -n 's/^enode:\\/\\/[0-9a-f]*@\\([0-9.]*\\):.*/\\1/p')"
        fi
        previous="$arg"
    done
    if [ -n "$bootip" ]; then
        extip="$(ip route get "$bootip" 2>/dev/null | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p')"
    fi
    if [ -n "$extip" ]; then
        log "host $self is not listed in $hosts; advertising $extip (its route to the bootnode)"
    fi
fi
if [ -n "$extip" ]; then
    nat="extip:$extip"
else
    log "host $self is not listed in $hosts and has no route to the bootnode; advertising with --nat any"
    nat="any"
fi

if [ "$role" = "node" ]; then
    exec geth --datadir "$datadir" --nat "$nat" "$@"
fi

# 3. Signer: this host's key, imported into the keystore once.
index=""
address=""
while read -r name i a; do
    if [ "$name" = "$self" ]; then
        index="$i"
        address="$a"
        break
    fi
done < "$signers"
if [ -z "$index" ] || [ -z "$address" ]; then
    log "host $self has no signer in $signers; a miner runs only on hosts planned as miners"
    exit 1
fi
key="$secrets/signer-$index-key"
password="$secrets/signer-$index-password"
imported=""
for f in "$datadir"/keystore/*--"\${address#0x}"; do
    if [ -e "$f" ]; then
        imported="yes"
    fi
done
if [ -z "$imported" ]; then
    log "importing signer $index ($address) into the keystore"
    geth account import --datadir "$datadir" --password "$password" "$key"
fi

exec geth --datadir "$datadir" --nat "$nat" "$@" \\
    --mine --miner.etherbase "$address" --unlock "$address" --password "$password"
`;
}
