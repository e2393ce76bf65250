/**
 * The host bootstrap script that cloud-init writes to `/usr/local/sbin/geth-swarm-bootstrap`
 * and runs once at first boot. It is the same for every host; what differs (role, host
 * name, parameter names, leader address) is in `/etc/geth-swarm/bootstrap.env`, rendered by
 * {@link renderCloudInit}. Kept in TypeScript (not a separate file) so it ships inside the
 * compiled package, and terse: EC2 takes at most 16 KiB of user-data.
 *
 * - **Secrets** (join tokens, the TLS server key) come from SSM Parameter Store and never
 *   reach a command line (the process list) or the log: xtrace is off while one is in a
 *   variable, the IMDSv2 session token reaches curl on stdin (`-H @-`), a token goes to SSM
 *   as a `file://` value from a 0600 file in a scratch directory that is removed however the
 *   script ends, and the join is a `POST /swarm/join` to the engine's socket with the
 *   request on curl's stdin (`docker swarm join --token` would show it in the process list).
 * - **Bounds**: the metadata service: 2 s to connect, 5 s a request, at most 4 requests
 *   (about 23 s); SSM: the AWS CLI's `--cli-connect-timeout 5 --cli-read-timeout 10` with 3
 *   attempts a call (standard retry mode), calls retried by the script with waits of 2, 4,
 *   8, ... s; a join request 60 s; joining `GS_JOIN_ATTEMPTS` attempts, 5 s apart doubling to
 *   60 s. Each failure says in the instance log what did not answer (the metadata service,
 *   the SSM parameter by name with the AWS CLI's error, the engine's answer to the join).
 * - **Idempotent**: the engine and the AWS CLI are installed only when missing (`command
 *   -v`); the leader restarts the engine only when a TLS file or the drop-in changed (or the
 *   TLS port is closed), does not init a swarm it is in, and writes a join token only when
 *   the parameter holds another value; a host in the swarm does not join again.
 *
 * The unit tests run `bash -n`, shellcheck and a stand-in-command run over it; the lab
 * (test/lab/awsBootstrap.test.ts) runs the rendered user-data on lab hosts against the real
 * AWS CLI, an SSM API (moto) and AWS's EC2 metadata mock.
 */
export const BOOTSTRAP_SCRIPT = `#!/bin/bash
# geth-swarm host bootstrap (run once by cloud-init, as root): the leader serves the Docker
# API on TLS, inits the swarm and puts the join tokens in SSM; a manager or worker joins it.
# Secrets stay off command lines and the log. Network calls are bounded; a second run
# changes nothing. Steps are logged to the console and /var/log/geth-swarm-bootstrap.log.
set -Eeuo pipefail

# For the project's tests (files under a directory of their own); unset on a host.
readonly ROOT="\${GETH_SWARM_ROOT:-}"
readonly CONSOLE="\${GETH_SWARM_CONSOLE:-/dev/console}"
readonly ENV_FILE="\${ROOT}/etc/geth-swarm/bootstrap.env"
readonly LOG_FILE="\${ROOT}/var/log/geth-swarm-bootstrap.log"
readonly TLS_DIR="\${ROOT}/etc/docker/geth-swarm-tls"
readonly DROPIN_DIR="\${ROOT}/etc/systemd/system/docker.service.d"
readonly SWARM_PORT=2377
readonly IMDS="http://169.254.169.254"
# Bounds: metadata service 5 s a request, 4 at most; SSM 5 s to connect, 10 s a read, 3 tries.
readonly IMDS_CURL=(-sSf --connect-timeout 2 --max-time 5 --retry 3 --retry-delay 1 --retry-max-time 20 --retry-connrefused)
readonly AWS=(aws --cli-connect-timeout 5 --cli-read-timeout 10)
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=3
readonly JOIN_TIMEOUT=60
readonly APT=(apt-get -q -o DPkg::Lock::Timeout=600 -o Acquire::http::Timeout=30 -o Acquire::Retries=3)
# The engine's socket, as the Docker CLI finds it.
DOCKER_SOCK=/var/run/docker.sock
if [[ "\${DOCKER_HOST:-}" == unix://* ]]; then DOCKER_SOCK="\${DOCKER_HOST#unix://}"; fi
readonly DOCKER_SOCK
export PATH="\${PATH}:/snap/bin"
export DEBIAN_FRONTEND=noninteractive
STEP="starting"
WORK_DIR=""

# shellcheck disable=SC2312 # tee's status does not matter: a console that cannot be written must not stop the bootstrap
exec > >(tee -a "\${LOG_FILE}" "\${CONSOLE}" >/dev/null) 2>&1

say() { echo "geth-swarm-bootstrap: $*"; }

on_error() {
    local rc=$?
    { set +x; } 2>/dev/null
    # In a subshell ($(...), a pipeline) the shell that waits for it reports the failure.
    if ((BASH_SUBSHELL > 0)); then exit "\${rc}"; fi
    say "FAILED (exit \${rc}) during step: \${STEP} (after \${SECONDS}s)"
    say "see \${LOG_FILE} and /var/log/cloud-init-output.log"
    logger -t geth-swarm-bootstrap "FAILED (exit \${rc}) during step: \${STEP}" || true
    exit "\${rc}"
}
trap on_error ERR
on_exit() { if [[ -n "\${WORK_DIR}" ]]; then rm -rf "\${WORK_DIR}"; fi; }
trap on_exit EXIT

step() {
    STEP="$*"
    say "=== \${STEP} (at \${SECONDS}s)"
    logger -t geth-swarm-bootstrap "\${STEP}" || true
}

# shellcheck source=/dev/null
. "\${ENV_FILE}"
: "\${GS_ROLE:?}" "\${GS_HOSTNAME:?}" "\${GS_LEADER_ADDR:?}" "\${GS_WORKER_TOKEN_PARAM:?}" "\${GS_MANAGER_TOKEN_PARAM:?}"
: "\${GS_ADDR_POOL:?}" "\${GS_JOIN_ATTEMPTS:?}"

PS4='+ geth-swarm-bootstrap:\${LINENO}: '
set -x

# retry ATTEMPTS COMMAND...: waits 2, 4, 8, ... (at most 30) s between attempts.
retry() {
    local attempts=$1 n=1 delay=2
    shift
    until "$@"; do
        if ((n >= attempts)); then
            say "gave up after \${n} attempts: $*" >&2
            return 1
        fi
        say "attempt \${n} of \${attempts} failed, retrying in \${delay}s: $*" >&2
        sleep "\${delay}"
        n=$((n + 1))
        delay=$((delay * 2 > 30 ? 30 : delay * 2))
    done
}

# imds PATH: a metadata value; the IMDSv2 token reaches curl on stdin.
imds() {
    local token status=0
    { set +x; } 2>/dev/null
    if ! token="$(curl "\${IMDS_CURL[@]}" -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "\${IMDS}/latest/api/token")" || [[ -z "\${token}" ]]; then
        say "no IMDSv2 session token from the instance metadata service (\${IMDS}) within 23 s" >&2
        status=1
    elif ! printf 'X-aws-ec2-metadata-token: %s\\n' "\${token}" | curl "\${IMDS_CURL[@]}" -H @- "\${IMDS}/latest/meta-data/$1"; then
        say "no meta-data/$1 from the instance metadata service (\${IMDS}) within 23 s" >&2
        status=1
    fi
    token=""
    set -x
    return "\${status}"
}

# ssm_get NAME: the decrypted value (callers send it to a file).
ssm_get() {
    "\${AWS[@]}" ssm get-parameter --region "\${REGION}" --name "$1" --with-decryption --query Parameter.Value --output text
}

# ssm_put_file NAME FILE: into the SecureString the program created.
ssm_put_file() {
    "\${AWS[@]}" ssm put-parameter --region "\${REGION}" --name "$1" --type SecureString --overwrite --value "file://$2" >/dev/null
}

swarm_state() {
    timeout 30 docker info --format '{{.Swarm.LocalNodeState}}'
}

install_docker() {
    local dockerd
    if command -v docker >/dev/null && dockerd="$(command -v dockerd)"; then
        say "the Docker engine is installed (\${dockerd})"
    else
        retry 5 "\${APT[@]}" update
        retry 5 "\${APT[@]}" install -y docker.io
    fi
    systemctl enable --now docker
    retry 10 timeout 30 docker info >/dev/null
}

install_aws_cli() {
    local aws
    if aws="$(command -v aws)"; then
        say "the AWS CLI is installed (\${aws})"
        return 0
    fi
    if apt-cache show awscli >/dev/null 2>&1; then
        retry 5 "\${APT[@]}" install -y awscli
    else
        timeout 300 snap wait system seed.loaded
        retry 5 timeout 600 snap install aws-cli --classic
    fi
    aws --version
}

# put_if_changed MODE NEW TARGET: status 0 when TARGET changed.
put_if_changed() {
    if cmp -s "$2" "$3"; then return 1; fi
    install -m "$1" "$2" "$3"
}

# TLS files from SSM and a drop-in for dockerd; restarts it only on a change.
configure_docker_tls() {
    : "\${GS_TLS_CA_PARAM:?}" "\${GS_TLS_CERT_PARAM:?}" "\${GS_TLS_KEY_PARAM:?}" "\${GS_DOCKER_TLS_PORT:?}"
    local new="\${WORK_DIR}/tls" dockerd changed=0 f
    install -d -m 0700 "\${TLS_DIR}" "\${new}"
    retry 5 ssm_get "\${GS_TLS_CA_PARAM}" >"\${new}/ca.pem"
    retry 5 ssm_get "\${GS_TLS_CERT_PARAM}" >"\${new}/server-cert.pem"
    retry 5 ssm_get "\${GS_TLS_KEY_PARAM}" >"\${new}/server-key.pem"
    grep -q -e '-----BEGIN CERTIFICATE-----' "\${new}/ca.pem"
    grep -q -e '-----BEGIN CERTIFICATE-----' "\${new}/server-cert.pem"
    grep -q -e '-----BEGIN [A-Z ]*PRIVATE KEY-----' "\${new}/server-key.pem"
    dockerd="$(command -v dockerd)"
    cat >"\${new}/geth-swarm-tls.conf" <<EOF
[Service]
ExecStart=
ExecStart=\${dockerd} -H fd:// -H tcp://0.0.0.0:\${GS_DOCKER_TLS_PORT} --containerd=/run/containerd/containerd.sock --tlsverify --tlscacert=\${TLS_DIR#"\${ROOT}"}/ca.pem --tlscert=\${TLS_DIR#"\${ROOT}"}/server-cert.pem --tlskey=\${TLS_DIR#"\${ROOT}"}/server-key.pem
EOF
    install -d -m 0755 "\${DROPIN_DIR}"
    # shellcheck disable=SC2310 # the status says whether it changed
    for f in ca.pem server-cert.pem server-key.pem; do
        if put_if_changed 0600 "\${new}/\${f}" "\${TLS_DIR}/\${f}"; then changed=1; fi
    done
    # shellcheck disable=SC2310 # the status says whether it changed
    if put_if_changed 0644 "\${new}/geth-swarm-tls.conf" "\${DROPIN_DIR}/geth-swarm-tls.conf"; then changed=1; fi
    if ((changed == 0)) && timeout 5 bash -c ": </dev/tcp/127.0.0.1/\${GS_DOCKER_TLS_PORT}" 2>/dev/null; then
        say "TLS settings unchanged, port \${GS_DOCKER_TLS_PORT} open: the engine keeps running"
        return 0
    fi
    systemctl daemon-reload
    systemctl restart docker
    retry 10 timeout 30 docker info >/dev/null
}

init_swarm() {
    local state
    state="$(swarm_state)"
    if [[ "\${state}" == active ]]; then
        say "in a swarm already: nothing to initialise"
        return 0
    fi
    # stdout carries the join command with the worker token: keep it out of the log.
    timeout 120 docker swarm init --advertise-addr "\${PRIVATE_IP}" --default-addr-pool "\${GS_ADDR_POOL}" >/dev/null
}

publish_join_tokens() {
    local kind param w="\${WORK_DIR}"
    for kind in worker manager; do
        param="\${GS_WORKER_TOKEN_PARAM}"
        if [[ "\${kind}" == manager ]]; then param="\${GS_MANAGER_TOKEN_PARAM}"; fi
        timeout 30 docker swarm join-token -q "\${kind}" | tr -d '\\n' >"\${w}/\${kind}"
        retry 5 ssm_get "\${param}" | tr -d '\\n' >"\${w}/\${kind}.published"
        if cmp -s "\${w}/\${kind}" "\${w}/\${kind}.published"; then
            say "\${param} holds the \${kind} join token already"
        else
            retry 5 ssm_put_file "\${param}" "\${w}/\${kind}"
            say "published the \${kind} join token to \${param}"
        fi
    done
}

# swarm_join TOKEN: POST /swarm/join, the request on curl's stdin.
swarm_join() {
    { set +x; } 2>/dev/null
    local code answer
    if [[ ! "$1" =~ ^SWMTKN-[0-9]+-[A-Za-z0-9-]+$ ]]; then
        say "the join token has an unexpected form"
        return 1
    fi
    say "joining \${GS_LEADER_ADDR}:\${SWARM_PORT}"
    code="$(printf '{"ListenAddr":"0.0.0.0:%s","AdvertiseAddr":"%s","RemoteAddrs":["%s:%s"],"JoinToken":"%s"}' "\${SWARM_PORT}" "\${PRIVATE_IP}" "\${GS_LEADER_ADDR}" "\${SWARM_PORT}" "$1" |
        curl -sS --max-time "\${JOIN_TIMEOUT}" --unix-socket "\${DOCKER_SOCK}" -H 'Content-Type: application/json' --data-binary @- \\
            -o "\${WORK_DIR}/join-answer" -w '%{http_code}' http://docker/swarm/join)" || true
    if [[ "\${code}" == 200 ]]; then return 0; fi
    answer="$(sed -e 's/SWMTKN-[A-Za-z0-9-]*/<token>/g' "\${WORK_DIR}/join-answer" 2>/dev/null || true)"
    say "the engine did not join: HTTP \${code:-none} \${answer}"
    return 1
}

# join_swarm KIND PARAM: GS_JOIN_ATTEMPTS attempts, 5 s apart doubling to 60 s.
join_swarm() {
    local kind=$1 param=$2 attempt=1 delay=5 token="" state why=""
    while :; do
        state="$(swarm_state)"
        if [[ "\${state}" == active ]]; then
            say "in the swarm as a \${kind}"
            return 0
        fi
        if [[ "\${state}" == pending ]]; then
            why="the engine is still joining (node state pending)"
        else
            { set +x; } 2>/dev/null
            if ! token="$("\${AWS[@]}" ssm get-parameter --region "\${REGION}" --name "\${param}" --with-decryption --query Parameter.Value --output text)"; then
                why="could not read the \${kind} join token from SSM parameter \${param} (the AWS CLI's error is above)"
            elif [[ "\${token}" != SWMTKN-* ]]; then
                why="the \${kind} join token is not published yet in SSM parameter \${param}"
            else
                say "the \${kind} join token is in \${param} (attempt \${attempt} of \${GS_JOIN_ATTEMPTS})"
                why=""
                # shellcheck disable=SC2310 # a refused or timed-out join is retried below
                swarm_join "\${token}" || why="the engine did not join \${GS_LEADER_ADDR}:\${SWARM_PORT} (its answer is above)"
            fi
            token=""
            set -x
        fi
        if [[ -z "\${why}" ]]; then
            state="$(swarm_state)"
            if [[ "\${state}" == active ]]; then continue; fi
            why="the engine joined, but its node state is \${state}"
        fi
        say "\${why} (attempt \${attempt} of \${GS_JOIN_ATTEMPTS})"
        if ((attempt >= GS_JOIN_ATTEMPTS)); then
            state="$(swarm_state)"
            if [[ "\${state}" == active ]]; then continue; fi
            say "could not join the swarm at \${GS_LEADER_ADDR}:\${SWARM_PORT} after \${attempt} attempts: \${why:-node state \${state}}"
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
umask 077
WORK_DIR="$(mktemp -d)"
step "read the instance's address and region (IMDSv2)"
PRIVATE_IP="$(imds local-ipv4)"
REGION="$(imds placement/region)"
say "host \${GS_HOSTNAME}, role \${GS_ROLE}, address \${PRIVATE_IP}, region \${REGION}"

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
        say "unknown role \${GS_ROLE}; expected leader, manager or worker"
        exit 2
        ;;
esac

step "done"
final_state="$(swarm_state)"
say "\${GS_HOSTNAME} is a swarm \${GS_ROLE} (node state \${final_state})"
`;
