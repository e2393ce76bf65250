#!/bin/sh
# geth-swarm start script for the node and miner services.
# Usage: start.sh node|miner [geth flags...]
set -eu

role="${1:-}"
case "$role" in
    node|miner) shift ;;
    *) echo "geth-swarm: usage: start.sh node|miner [geth flags...]" >&2; exit 2 ;;
esac

datadir="/data"
genesis="/geth-swarm/genesis.json"
signers="/geth-swarm/signers"
secrets="/run/secrets"

log() {
    printf 'geth-swarm: %s\n' "$*" >&2
}

self="$(hostname 2>/dev/null || cat /etc/hostname)"

# 1. First start only: create the genesis block, and note it in the datadir (each line an
#    init: a datadir that is not lost has exactly one).
if [ ! -d "$datadir/geth/chaindata" ]; then
    log "initialising $datadir from $genesis"
    geth init --datadir "$datadir" "$genesis"
    printf '%s initialised from %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$genesis" >> "$datadir/geth-swarm-inits"
fi

# 2. The address peers reach this host at: the source address of its route to the
#    bootnode (the container is on the host network: these are the host's routes).
bootip=""
previous=""
for arg in "$@"; do
    if [ "$previous" = "--bootnodes" ]; then
        bootip="$(printf '%s\n' "$arg" | sed -n 's/^enode:\/\/[0-9a-f]*@\([0-9.]*\):.*/\1/p')"
    fi
    previous="$arg"
done
extip=""
if [ -n "$bootip" ]; then
    extip="$(ip route get "$bootip" 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')"
fi
if [ -n "$extip" ]; then
    log "host $self advertises $extip (its route to the bootnode $bootip)"
    nat="extip:$extip"
else
    log "host $self has no route to the bootnode (${bootip:-no --bootnodes enode}); advertising with --nat any"
    nat="any"
fi

# 5. The watchdog (started just before geth): stops geth after a long time alone and, on a
#    miner, after a long time on one head while it has peers.
peerless_file="$datadir/geth-swarm-peerless"
stalled_file="$datadir/geth-swarm-stalled"
count_in() {
    c="$(cat "$1" 2>/dev/null || true)"
    case "$c" in
        ''|*[!0-9]*) c=0 ;;
    esac
    echo "$c"
}
# The wait before a restart: $1, doubled for each restart in a row ($2) past the first 3, at most $3.
backoff() {
    b="$1"
    k=3
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
    limit="$(backoff 60 "$restarts" 960)"
    log "peer watchdog: geth is stopped after $limit s with no peer (peerless restarts in a row: $restarts)"
    stalls="$(count_in "$stalled_file")"
    stall_limit="$(backoff 60 "$stalls" 960)"
    if [ "$watch_head" = "head" ]; then
        log "head watchdog: geth is stopped after $stall_limit s on one head with peers (stalled restarts in a row: $stalls)"
    fi
    alone_since=""
    head=""
    head_since=""
    while sleep 10 && kill -0 "$gethpid" 2>/dev/null; do
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
user="gethswarm"
uid="10001"
if ! grep -q "^$user:" "/etc/passwd"; then
    printf '%s:x:%s:%s:geth-swarm:%s:/sbin/nologin
' "$user" "$uid" "$uid" "$datadir" >> "/etc/passwd"
fi
if ! grep -q "^$user:" "/etc/group"; then
    printf '%s:x:%s:
' "$user" "$uid" >> "/etc/group"
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
for f in "$datadir"/keystore/*--"${address#0x}"; do
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
        0x*) if [ "${#a}" -eq 42 ] && [ "$a" != "$address" ]; then others="$others $a"; fi ;;
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
exec su -s /bin/sh -c 'exec geth "$@"' -- "$user" geth --datadir "$datadir" --nat "$nat" "$@" \
    --mine --miner.etherbase "$address" --unlock "$address" --password "$password"
