/**
 * The files the nodes stack hands its containers as swarm configs: the start script and
 * the signer map. Pure renderers; snapshot-tested.
 */
import { createHash } from "node:crypto";

/** Where the nodes stack mounts its configs inside the geth containers. */
export const CONFIG_DIR = "/geth-swarm";
/** Path of the start script inside the container. */
export const START_SCRIPT_PATH = `${CONFIG_DIR}/start.sh`;
export const GENESIS_PATH = `${CONFIG_DIR}/genesis.json`;
export const SIGNERS_PATH = `${CONFIG_DIR}/signers`;
/** The geth data directory (a named volume) inside the container. */
export const DATA_DIR = "/data";
/** Where swarm mounts secrets inside a container. */
export const SECRETS_DIR = "/run/secrets";

/**
 * How long a geth may have no peer before the start script's watchdog stops it, so that
 * swarm restarts the task and geth bootstraps its discovery again (see
 * {@link renderStartScript}). After {@link PEERLESS_RESTARTS_BEFORE_BACKOFF} such restarts
 * in a row the wait doubles each time, up to {@link PEERLESS_LIMIT_MAX_SECONDS}.
 */
export const PEERLESS_LIMIT_SECONDS = 60;
export const PEERLESS_RESTARTS_BEFORE_BACKOFF = 3;
export const PEERLESS_LIMIT_MAX_SECONDS = 960;
/** How often the watchdog asks geth for its peer count (`net.peerCount` over IPC). */
export const PEER_CHECK_SECONDS = 10;
/** File in a geth datadir with the count of peerless restarts in a row. */
export const PEERLESS_FILE = "geth-swarm-peerless";

/**
 * How long a miner's geth may stay on one head while it has peers before the watchdog stops
 * it (at least; {@link stallLimitSeconds} scales it with the block period). Backs off as
 * the peerless limit does, up to {@link PEERLESS_LIMIT_MAX_SECONDS} or the limit itself.
 */
export const STALL_LIMIT_SECONDS = 60;
/** Block periods a miner's head may stay unchanged, with peers, before the watchdog stops geth. */
export const STALL_LIMIT_PERIODS = 6;
/** File in a geth datadir with the count of stalled-head restarts in a row. */
export const STALLED_FILE = "geth-swarm-stalled";

/** The stalled-head limit for a block period: {@link STALL_LIMIT_PERIODS} periods, at least {@link STALL_LIMIT_SECONDS}. */
export function stallLimitSeconds(blockPeriodSeconds: number): number {
    return Math.max(STALL_LIMIT_SECONDS, STALL_LIMIT_PERIODS * blockPeriodSeconds);
}

/**
 * The unprivileged user geth and the bootnode run as inside their containers (uid and gid
 * alike). Not 0, and above the ids images and hosts hand out, so it owns nothing else.
 */
export const GETH_UID = 10001;
/** Name of {@link GETH_UID} in the geth containers' `/etc/passwd` (the start script adds it). */
export const GETH_USER = "gethswarm";
/** Where the container's `/etc/passwd` and `/etc/group` are. */
export const ETC_DIR = "/etc";

/** Directories and timings the start script uses; the defaults are the container's. Tests change them. */
export interface StartScriptOptions {
    /** Default {@link CONFIG_DIR}. */
    readonly configDir?: string;
    /** Default {@link DATA_DIR}. */
    readonly dataDir?: string;
    /** Default {@link SECRETS_DIR}. */
    readonly secretsDir?: string;
    /** Default {@link ETC_DIR}. */
    readonly etcDir?: string;
    /** Default {@link PEER_CHECK_SECONDS}; may be fractional. */
    readonly peerCheckSeconds?: number;
    /** Default {@link PEERLESS_LIMIT_SECONDS}. */
    readonly peerlessLimitSeconds?: number;
    /** Default {@link STALL_LIMIT_SECONDS}; the nodes stack passes {@link stallLimitSeconds} of the block period. */
    readonly stallLimitSeconds?: number;
}
/** @deprecated Renamed {@link StartScriptOptions}. */
export type StartScriptPaths = StartScriptOptions;

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

/** A miner host and the signer it seals with, as the `signers` config lists it. */
export interface HostSigner {
    readonly host: string;
    readonly index: number;
    readonly address: string;
}

/** `signers` config: one `<host name> <signer index> <address, lower case>` line per miner host. */
export function renderSignersFile(signers: readonly HostSigner[]): string {
    const lines = [...signers].sort((a, b) => cmp(a.host, b.host)).map((s) => `${s.host} ${s.index} ${s.address.toLowerCase()}`);
    return "# host-name signer-index signer-address (geth-swarm: the key each miner host seals with)\n" + lines.join("\n") + "\n";
}

function cmp(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** File in a geth datadir with one line per `geth init` of it (when, from which genesis). */
export const INITS_FILE = "geth-swarm-inits";

/**
 * The POSIX `sh` entrypoint of the `node` and `miner` services, run as
 * `/bin/sh /geth-swarm/start.sh <node|miner> <geth flags...>`. It
 *
 * 1. initialises the data directory from the genesis config on first start only
 *    (when `<datadir>/geth/chaindata` does not exist yet);
 * 2. advertises the source address of the host's route to the bootnode (the first
 *    `--bootnodes` enode) with `--nat extip:<ip>`. The services run on the swarm's `host`
 *    network, so these are the host's own routes, and the address a host uses to reach
 *    the bootnode is the one the other hosts reach it at. No per-host list is involved,
 *    so a host that joins later needs no change to the stack. Without such a route it
 *    falls back to `--nat any`, with a log line;
 * 3. for `miner`: picks this host's signer from the `signers` config, imports its key
 *    into the keystore once, and seals with it (`--mine --unlock`); a miner host without
 *    a signer refuses to start;
 * 4. for `miner`: proposes every other signer of the `signers` config
 *    (`clique.propose(<address>, true)` over geth's IPC, from a background job once geth
 *    answers). A signer that is not in the genesis (a miner host added to a running
 *    chain) is authorised once a majority of the current signers proposed it; geth
 *    ignores a proposal for an address that already signs. Proposals live in geth's
 *    memory, so every start makes them again;
 * 5. starts a peer watchdog in the background: every {@link PEER_CHECK_SECONDS} it asks geth
 *    for `net.peerCount` over IPC, and when geth has answered 0 for
 *    {@link PEERLESS_LIMIT_SECONDS} it stops geth (SIGTERM), so swarm restarts the task.
 *    Every deployment has at least two geths (a manager and a miner), so a geth with no
 *    peer for that long is cut off. geth v1.13 fills an empty discovery table only at
 *    start and on its refresh every 15-30 minutes: a geth whose first bonding failed (it
 *    started while the bootnode was down, or under load the replies missed discv4's
 *    500 ms timeout) stays alone until then, and a restart bootstraps it again from the
 *    bootnode and its node database. The restarts in a row are counted in the datadir
 *    ({@link PEERLESS_FILE}); after {@link PEERLESS_RESTARTS_BEFORE_BACKOFF} the wait doubles
 *    each time, up to {@link PEERLESS_LIMIT_MAX_SECONDS}, and a peer resets the count. A
 *    check geth does not answer counts as neither.
 *    On a `miner` it also watches the head (`eth.blockNumber`): when geth has peers but
 *    its head has not moved for the stall limit ({@link stallLimitSeconds}), it stops geth
 *    too. geth v1.13 drops a propagated block while it is not synced (a signer until it
 *    starts sealing, a node until its first sync), and learns a peer's chain only from
 *    the handshake or from a later block. Several signers that started a moment apart can
 *    each seal their own block #1 while the others still drop it; each then has signed
 *    recently, so none seals #2 and the chain stands still with every node peered (the
 *    nodes at #0). A restart gives its peers a fresh handshake, and they sync to the
 *    heaviest chain. The restarts in a row are counted in {@link STALLED_FILE} and back
 *    off as above; a head that moves resets the count;
 * 6. runs geth as the unprivileged {@link GETH_USER} ({@link GETH_UID}): the script itself
 *    runs as root (the image's user) only to add that user to `/etc/passwd` when missing,
 *    to initialise and import as above, and to give the data directory to that user
 *    (`chown -R`, on every start, so a datadir of an earlier release is handed over too).
 *    A miner's keystore password secret is mounted for that user (mode 0400); the raw
 *    signer key stays root's (mode 0400), read only by the import;
 * 7. `exec`s geth (through busybox `su`, which execs in place) with the flags it was
 *    given, so geth is the container's main process.
 *    (The finished proposal job stays a zombie under geth, which does not reap it: one
 *    process-table entry per start. Docker's `init` would reap it, but `docker-init` is
 *    not on every engine the hosts may run, and a service that asks for it where it is
 *    missing does not start.)
 */
export function renderStartScript(options: StartScriptOptions = {}): string {
    const configDir = options.configDir ?? CONFIG_DIR;
    const dataDir = options.dataDir ?? DATA_DIR;
    const secretsDir = options.secretsDir ?? SECRETS_DIR;
    const etcDir = options.etcDir ?? ETC_DIR;
    const check = options.peerCheckSeconds ?? PEER_CHECK_SECONDS;
    const limit = options.peerlessLimitSeconds ?? PEERLESS_LIMIT_SECONDS;
    const stall = options.stallLimitSeconds ?? STALL_LIMIT_SECONDS;
    if (!(check > 0) || !Number.isInteger(limit) || limit < 1 || limit > PEERLESS_LIMIT_MAX_SECONDS || !Number.isInteger(stall) || stall < 1) {
        throw new Error(
            `start script: peerCheckSeconds must be > 0, peerlessLimitSeconds an integer in 1..${PEERLESS_LIMIT_MAX_SECONDS} and stallLimitSeconds a positive integer`,
        );
    }
    const stallMax = Math.max(stall, PEERLESS_LIMIT_MAX_SECONDS);
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
signers="${configDir}/signers"
secrets="${secretsDir}"

log() {
    printf 'geth-swarm: %s\\n' "$*" >&2
}

self="$(hostname 2>/dev/null || cat /etc/hostname)"

# 1. First start only: create the genesis block, and note it in the datadir (each line an
#    init: a datadir that is not lost has exactly one).
if [ ! -d "$datadir/geth/chaindata" ]; then
    log "initialising $datadir from $genesis"
    geth init --datadir "$datadir" "$genesis"
    printf '%s initialised from %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$genesis" >> "$datadir/${INITS_FILE}"
fi

# 2. The address peers reach this host at: the source address of its route to the
#    bootnode (the container is on the host network: these are the host's routes).
bootip=""
previous=""
for arg in "$@"; do
    if [ "$previous" = "--bootnodes" ]; then
        bootip="$(printf '%s\\n' "$arg" | sed -n 's/^enode:\\/\\/[0-9a-f]*@\\([0-9.]*\\):.*/\\1/p')"
    fi
    previous="$arg"
done
extip=""
if [ -n "$bootip" ]; then
    extip="$(ip route get "$bootip" 2>/dev/null | sed -n 's/.* src \\([0-9.]*\\).*/\\1/p')"
fi
if [ -n "$extip" ]; then
    log "host $self advertises $extip (its route to the bootnode $bootip)"
    nat="extip:$extip"
else
    log "host $self has no route to the bootnode (\${bootip:-no --bootnodes enode}); advertising with --nat any"
    nat="any"
fi

# 5. The watchdog (started just before geth): stops geth after a long time alone and, on a
#    miner, after a long time on one head while it has peers.
peerless_file="$datadir/${PEERLESS_FILE}"
stalled_file="$datadir/${STALLED_FILE}"
count_in() {
    c="$(cat "$1" 2>/dev/null || true)"
    case "$c" in
        ''|*[!0-9]*) c=0 ;;
    esac
    echo "$c"
}
# The wait before a restart: $1, doubled for each restart in a row ($2) past the first ${PEERLESS_RESTARTS_BEFORE_BACKOFF}, at most $3.
backoff() {
    b="$1"
    k=${PEERLESS_RESTARTS_BEFORE_BACKOFF}
    while [ "$k" -lt "$2" ] && [ "$b" -lt "$3" ]; do
        b=$((b * 2))
        k=$((k + 1))
    done
    if [ "$b" -gt "$3" ]; then
        b="$3"
    fi
    echo "$b"
}
watch_peers() {
    gethpid="$1"
    watch_head="$2"
    ipc="$datadir/geth.ipc"
    restarts="$(count_in "$peerless_file")"
    limit="$(backoff ${limit} "$restarts" ${PEERLESS_LIMIT_MAX_SECONDS})"
    log "peer watchdog: geth is stopped after $limit s with no peer (peerless restarts in a row: $restarts)"
    stalls="$(count_in "$stalled_file")"
    stall_limit="$(backoff ${stall} "$stalls" ${stallMax})"
    if [ "$watch_head" = "head" ]; then
        log "head watchdog: geth is stopped after $stall_limit s on one head with peers (stalled restarts in a row: $stalls)"
    fi
    alone_since=""
    head=""
    head_since=""
    while sleep ${check} && kill -0 "$gethpid" 2>/dev/null; do
        peers="$(geth attach --exec net.peerCount "$ipc" 2>/dev/null || true)"
        case "$peers" in
            ''|*[!0-9]*) continue ;;
            0) ;;
            *)
                alone_since=""
                if [ "$restarts" -ne 0 ]; then
                    restarts=0
                    echo 0 > "$peerless_file" || true
                fi
                if [ "$watch_head" != "head" ]; then
                    continue
                fi
                number="$(geth attach --exec eth.blockNumber "$ipc" 2>/dev/null || true)"
                now="$(date +%s)"
                case "$number" in
                    ''|*[!0-9]*) ;;
                    "$head")
                        if [ $((now - head_since)) -ge "$stall_limit" ]; then
                            stalls=$((stalls + 1))
                            echo "$stalls" > "$stalled_file" || true
                            log "head #$head for $((now - head_since)) s with $peers peer(s) (limit $stall_limit s): stopping geth, so that the swarm restarts it and its peers sync to the heaviest chain (stalled restart $stalls in a row)"
                            kill -TERM "$gethpid" 2>/dev/null || true
                            return 0
                        fi
                        ;;
                    *)
                        if [ -n "$head" ] && [ "$stalls" -ne 0 ]; then
                            stalls=0
                            echo 0 > "$stalled_file" || true
                        fi
                        head="$number"
                        head_since="$now"
                        ;;
                esac
                continue
                ;;
        esac
        # Alone: the head is not watched meanwhile.
        head=""
        now="$(date +%s)"
        if [ -z "$alone_since" ]; then
            alone_since="$now"
        fi
        if [ $((now - alone_since)) -ge "$limit" ]; then
            restarts=$((restarts + 1))
            echo "$restarts" > "$peerless_file" || true
            log "no peer for $((now - alone_since)) s (limit $limit s): stopping geth, so that the swarm restarts it and it bootstraps its discovery again (peerless restart $restarts in a row)"
            kill -TERM "$gethpid" 2>/dev/null || true
            return 0
        fi
    done
}

# 6. The unprivileged user geth runs as; it gets the data directory just before geth starts.
user="${GETH_USER}"
uid="${GETH_UID}"
if ! grep -q "^$user:" "${etcDir}/passwd"; then
    printf '%s:x:%s:%s:geth-swarm:%s:/sbin/nologin\n' "$user" "$uid" "$uid" "$datadir" >> "${etcDir}/passwd"
fi
if ! grep -q "^$user:" "${etcDir}/group"; then
    printf '%s:x:%s:\n' "$user" "$uid" >> "${etcDir}/group"
fi
handover() {
    chown -R "$uid:$uid" "$datadir"
}

# 7. geth, as that user, in place of this shell: su execs the shell, which execs geth.
if [ "$role" = "node" ]; then
    handover
    watch_peers "$$" peers &
    exec su -s /bin/sh -c 'exec geth "$@"' -- "$user" geth --datadir "$datadir" --nat "$nat" "$@"
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

# 4. Vote the other planned signers in, once geth answers on its IPC socket.
others=""
while read -r _ _ a; do
    case "$a" in
        0x*[!0-9a-f]*) ;;
        0x*) if [ "\${#a}" -eq 42 ] && [ "$a" != "$address" ]; then others="$others $a"; fi ;;
        *) ;;
    esac
done < "$signers"

propose() {
    ipc="$datadir/geth.ipc"
    for candidate in "$@"; do
        waited=0
        until geth attach --exec "clique.propose('$candidate', true)" "$ipc" >/dev/null 2>&1; do
            waited=$((waited + 1))
            if [ "$waited" -ge 300 ]; then
                log "could not propose signer $candidate: no answer on $ipc for 300 s"
                return 1
            fi
            sleep 1
        done
        log "proposed signer $candidate (clique.propose)"
    done
}

if [ -n "$others" ]; then
    # shellcheck disable=SC2086 # one word per address
    propose $others &
fi

handover
watch_peers "$$" head &
exec su -s /bin/sh -c 'exec geth "$@"' -- "$user" geth --datadir "$datadir" --nat "$nat" "$@" \\
    --mine --miner.etherbase "$address" --unlock "$address" --password "$password"
`;
}
