# Sourced by the examples' scripts (bash): where this project's Pulumi state and secrets
# passphrase live unless you chose your own: a local file backend under $GETH_SWARM_HOME
# (default ~/.geth-swarm), and a passphrase generated once, 0600.
home="${GETH_SWARM_HOME:-$HOME/.geth-swarm}"

# State: a local file backend unless one is configured.
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
    mkdir -p "$home/state"
    chmod 700 "$home"
    export PULUMI_BACKEND_URL="file://$home/state"
fi

# Secrets: your passphrase if set, else one generated once and kept readable only by you.
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    if [ ! -s "$home/passphrase" ]; then
        mkdir -p "$home"
        chmod 700 "$home"
        (umask 077 && head -c 32 /dev/urandom | base64 > "$home/passphrase")
        echo "Generated a Pulumi secrets passphrase in $home/passphrase (keep it: it decrypts the stack's keys)."
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$home/passphrase"
fi
