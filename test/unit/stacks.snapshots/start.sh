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
hosts="/geth-swarm/hosts"
signers="/geth-swarm/signers"
secrets="/run/secrets"

log() {
    printf 'geth-swarm: %s\n' "$*" >&2
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
            bootip="$(printf '%s\n' "$arg" | sed -n 's/^enode:\/\/[0-9a-f]*@\([0-9.]*\):.*/\1/p')"
        fi
        previous="$arg"
    done
    if [ -n "$bootip" ]; then
        extip="$(ip route get "$bootip" 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')"
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
for f in "$datadir"/keystore/*--"${address#0x}"; do
    if [ -e "$f" ]; then
        imported="yes"
    fi
done
if [ -z "$imported" ]; then
    log "importing signer $index ($address) into the keystore"
    geth account import --datadir "$datadir" --password "$password" "$key"
fi

exec geth --datadir "$datadir" --nat "$nat" "$@" \
    --mine --miner.etherbase "$address" --unlock "$address" --password "$password"
