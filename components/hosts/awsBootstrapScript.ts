/**
 * The host bootstrap script that cloud-init writes to `/usr/local/sbin/geth-swarm-bootstrap`
 * and runs once at first boot. It is the same for every host; what differs (role, host
 * name, parameter names, leader address) is in `/etc/geth-swarm/bootstrap.env`, rendered by
 * {@link renderCloudInit}. Kept in TypeScript (not a separate file) so it ships inside the
 * compiled package; tests run `bash -n`, shellcheck and a stand-in-command run over it.
 */
export const BOOTSTRAP_SCRIPT = `#!/bin/bash
# geth-swarm host bootstrap: installs the Docker engine and forms the swarm.
#
# Written by cloud-init and run once, at first boot, as root. Settings come from
# /etc/geth-swarm/bootstrap.env, which holds no secrets: the swarm join tokens and the
# Docker API's TLS material are read from SSM Parameter Store with the instance role,
# and xtrace is off wherever a secret is in a variable or on a command line.
#
#   leader   the first manager: Docker API on TLS, \`docker swarm init\`, publishes the
#            worker and manager join tokens to SSM
#   manager  joins the leader's swarm as a manager
#   worker   joins the leader's swarm as a worker
#
# Every step is logged to the console and to /var/log/geth-swarm-bootstrap.log; a
# failure prints the step that failed.
set -Eeuo pipefail

# GETH_SWARM_ROOT and GETH_SWARM_CONSOLE exist for the project's tests, which run this script
# against stand-in commands; on a host both are unset.
readonly ROOT="\${GETH_SWARM_ROOT:-}"
readonly CONSOLE="\${GETH_SWARM_CONSOLE:-/dev/console}"
readonly ENV_FILE="\${ROOT}/etc/geth-swarm/bootstrap.env"
readonly LOG_FILE="\${ROOT}/var/log/geth-swarm-bootstrap.log"
readonly TLS_DIR="\${ROOT}/etc/docker/geth-swarm-tls"
readonly DOCKER_DROPIN_DIR="\${ROOT}/etc/systemd/system/docker.service.d"
readonly SWARM_PORT=2377
export PATH="\${PATH}:/snap/bin"
export DEBIAN_FRONTEND=noninteractive
STEP="starting"

# shellcheck disable=SC2312 # tee's status does not matter: a console that cannot be written must not stop the bootstrap
exec > >(tee -a "\${LOG_FILE}" "\${CONSOLE}" >/dev/null) 2>&1

on_error() {
    local rc=$?
    { set +x; } 2>/dev/null
    echo "geth-swarm-bootstrap: FAILED (exit \${rc}) during step: \${STEP}"
    echo "geth-swarm-bootstrap: see \${LOG_FILE} and /var/log/cloud-init-output.log"
    logger -t geth-swarm-bootstrap "FAILED (exit \${rc}) during step: \${STEP}" || true
    exit "\${rc}"
}
trap on_error ERR

step() {
    STEP="$*"
    echo "geth-swarm-bootstrap: === \${STEP}"
    logger -t geth-swarm-bootstrap "\${STEP}" || true
}

# shellcheck source=/dev/null
. "\${ENV_FILE}"
: "\${GS_ROLE:?}" "\${GS_HOSTNAME:?}" "\${GS_LEADER_ADDR:?}" "\${GS_WORKER_TOKEN_PARAM:?}" "\${GS_MANAGER_TOKEN_PARAM:?}"
: "\${GS_ADDR_POOL:?}" "\${GS_JOIN_ATTEMPTS:?}"

PS4='+ geth-swarm-bootstrap:\${LINENO}: '
set -x

# retry ATTEMPTS COMMAND...: run COMMAND until it succeeds, waiting 2, 4, 8, ... (at most 30)
# seconds between attempts; fail after ATTEMPTS attempts.
retry() {
    local attempts=$1 n=1 delay=2
    shift
    until "$@"; do
        if ((n >= attempts)); then
            echo "geth-swarm-bootstrap: gave up after \${n} attempts: $*"
            return 1
        fi
        echo "geth-swarm-bootstrap: attempt \${n} of \${attempts} failed, retrying in \${delay}s: $*"
        sleep "\${delay}"
        n=$((n + 1))
        delay=$((delay * 2 > 30 ? 30 : delay * 2))
    done
}

# imds PATH: a value from the instance metadata service, with an IMDSv2 session token.
imds() {
    local token
    { set +x; } 2>/dev/null
    token="$(curl -fsS --retry 5 --retry-connrefused -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)"
    curl -fsS --retry 5 --retry-connrefused -H "X-aws-ec2-metadata-token: \${token}" "http://169.254.169.254/latest/meta-data/$1"
    set -x
}

# ssm_get NAME: the decrypted value of an SSM parameter on stdout. Callers keep it out of
# the trace (redirect it to a file, or turn xtrace off).
ssm_get() {
    aws ssm get-parameter --region "\${REGION}" --name "$1" --with-decryption --query Parameter.Value --output text
}

# ssm_put_file NAME FILE: store FILE's content as the SecureString parameter NAME (the
# parameter exists: the program created it with a placeholder, so \`pulumi destroy\` removes it).
ssm_put_file() {
    aws ssm put-parameter --region "\${REGION}" --name "$1" --type SecureString --overwrite --value "file://$2" >/dev/null
}

swarm_state() {
    docker info --format '{{.Swarm.LocalNodeState}}'
}

install_docker() {
    retry 5 apt-get -o DPkg::Lock::Timeout=600 -q update
    retry 5 apt-get -o DPkg::Lock::Timeout=600 -q install -y docker.io
    systemctl enable --now docker
    retry 10 docker info >/dev/null
}

install_aws_cli() {
    if command -v aws >/dev/null; then
        return 0
    fi
    if apt-cache show awscli >/dev/null 2>&1; then
        retry 5 apt-get -o DPkg::Lock::Timeout=600 -q install -y awscli
    else
        snap wait system seed.loaded
        retry 5 snap install aws-cli --classic
    fi
    aws --version
}

# Fetch the CA, server certificate and server key from SSM (files 0600 in a 0700
# directory), and make dockerd also listen on the TLS port with client verification.
configure_docker_tls() {
    : "\${GS_TLS_CA_PARAM:?}" "\${GS_TLS_CERT_PARAM:?}" "\${GS_TLS_KEY_PARAM:?}" "\${GS_DOCKER_TLS_PORT:?}"
    install -d -m 0700 "\${TLS_DIR}"
    retry 5 ssm_get "\${GS_TLS_CA_PARAM}" >"\${TLS_DIR}/ca.pem"
    retry 5 ssm_get "\${GS_TLS_CERT_PARAM}" >"\${TLS_DIR}/server-cert.pem"
    retry 5 ssm_get "\${GS_TLS_KEY_PARAM}" >"\${TLS_DIR}/server-key.pem"
    chmod 0600 "\${TLS_DIR}/ca.pem" "\${TLS_DIR}/server-cert.pem" "\${TLS_DIR}/server-key.pem"
    grep -q -e '-----BEGIN CERTIFICATE-----' "\${TLS_DIR}/ca.pem"
    grep -q -e '-----BEGIN CERTIFICATE-----' "\${TLS_DIR}/server-cert.pem"
    grep -q -e '-----BEGIN [A-Z ]*PRIVATE KEY-----' "\${TLS_DIR}/server-key.pem"
    install -d -m 0755 "\${DOCKER_DROPIN_DIR}"
    cat >"\${DOCKER_DROPIN_DIR}/geth-swarm-tls.conf" <<EOF
[Service]
ExecStart=
ExecStart=/usr/bin/dockerd -H fd:// -H tcp://0.0.0.0:\${GS_DOCKER_TLS_PORT} --containerd=/run/containerd/containerd.sock --tlsverify --tlscacert=\${TLS_DIR#"\${ROOT}"}/ca.pem --tlscert=\${TLS_DIR#"\${ROOT}"}/server-cert.pem --tlskey=\${TLS_DIR#"\${ROOT}"}/server-key.pem
EOF
    chmod 0644 "\${DOCKER_DROPIN_DIR}/geth-swarm-tls.conf"
    systemctl daemon-reload
    systemctl restart docker
    retry 10 docker info >/dev/null
}

init_swarm() {
    local state
    state="$(swarm_state)"
    if [[ "\${state}" == active ]]; then
        echo "geth-swarm-bootstrap: already in a swarm"
        return 0
    fi
    # stdout carries the join command with the worker token: keep it out of the log.
    docker swarm init --advertise-addr "\${PRIVATE_IP}" --default-addr-pool "\${GS_ADDR_POOL}" >/dev/null
}

publish_join_tokens() {
    local dir
    dir="$(mktemp -d)"
    docker swarm join-token -q worker | tr -d '\\n' >"\${dir}/worker"
    docker swarm join-token -q manager | tr -d '\\n' >"\${dir}/manager"
    retry 5 ssm_put_file "\${GS_WORKER_TOKEN_PARAM}" "\${dir}/worker"
    retry 5 ssm_put_file "\${GS_MANAGER_TOKEN_PARAM}" "\${dir}/manager"
    rm -rf "\${dir}"
}

# join_swarm KIND PARAM: wait for the leader to publish the join token, then join. A
# token left from an earlier swarm (the leader was replaced) fails to join: retried too.
join_swarm() {
    local kind=$1 param=$2 attempt=1 delay=5 token="" state
    while :; do
        state="$(swarm_state)"
        if [[ "\${state}" == active ]]; then
            echo "geth-swarm-bootstrap: joined the swarm as a \${kind}"
            return 0
        fi
        if [[ "\${state}" != pending ]]; then
            { set +x; } 2>/dev/null
            # shellcheck disable=SC2310 # a failed read (not published yet, throttled) is retried below
            token="$(ssm_get "\${param}" || true)"
            if [[ "\${token}" == SWMTKN-* ]]; then
                echo "geth-swarm-bootstrap: joining \${GS_LEADER_ADDR}:\${SWARM_PORT} as a \${kind} (attempt \${attempt} of \${GS_JOIN_ATTEMPTS})"
                docker swarm join --advertise-addr "\${PRIVATE_IP}" --token "\${token}" "\${GS_LEADER_ADDR}:\${SWARM_PORT}" ||
                    echo "geth-swarm-bootstrap: join failed (attempt \${attempt} of \${GS_JOIN_ATTEMPTS})"
            else
                echo "geth-swarm-bootstrap: the \${kind} join token is not published yet (attempt \${attempt} of \${GS_JOIN_ATTEMPTS})"
            fi
            token=""
            set -x
        fi
        if ((attempt >= GS_JOIN_ATTEMPTS)); then
            state="$(swarm_state)"
            [[ "\${state}" == active ]] && continue
            echo "geth-swarm-bootstrap: could not join the swarm at \${GS_LEADER_ADDR}:\${SWARM_PORT} after \${attempt} attempts"
            return 1
        fi
        sleep "\${delay}"
        attempt=$((attempt + 1))
        delay=$((delay * 2 > 60 ? 60 : delay * 2))
    done
}

step "install the Docker engine"
install_docker
step "install the AWS CLI"
install_aws_cli
# From here on, every file the script creates (TLS material, token files) is root-only.
umask 077
step "read the instance's address and region (IMDSv2)"
PRIVATE_IP="$(imds local-ipv4)"
REGION="$(imds placement/region)"
echo "geth-swarm-bootstrap: host \${GS_HOSTNAME}, role \${GS_ROLE}, address \${PRIVATE_IP}, region \${REGION}"

case "\${GS_ROLE}" in
    leader)
        step "configure the Docker API on TLS port \${GS_DOCKER_TLS_PORT:-}"
        configure_docker_tls
        step "initialise the swarm on \${PRIVATE_IP}"
        init_swarm
        step "publish the join tokens to SSM"
        publish_join_tokens
        ;;
    manager)
        step "join the swarm of \${GS_LEADER_INSTANCE:-the leader} at \${GS_LEADER_ADDR} as a manager"
        join_swarm manager "\${GS_MANAGER_TOKEN_PARAM}"
        ;;
    worker)
        step "join the swarm of \${GS_LEADER_INSTANCE:-the leader} at \${GS_LEADER_ADDR} as a worker"
        join_swarm worker "\${GS_WORKER_TOKEN_PARAM}"
        ;;
    *)
        step "check the role"
        echo "geth-swarm-bootstrap: unknown role \${GS_ROLE}; expected leader, manager or worker"
        exit 2
        ;;
esac

step "done"
final_state="$(swarm_state)"
echo "geth-swarm-bootstrap: \${GS_HOSTNAME} is a swarm \${GS_ROLE} (node state \${final_state})"
`;
