// Lab hosts that play EC2 instances, for the program's own user-data (awsBootstrap.test.ts):
// each a network namespace on the lab bridge with its own UTS namespace and dockerd (as
// hosts.ts makes them, but not in a swarm: the bootstrap forms it), and around them the real
// parts an instance talks to:
//
//   - SSM: moto in server mode, in its own lab namespace (gsl-aws, 10.213.0.2:5000), reached by
//     the real AWS CLI through AWS_ENDPOINT_URL with dummy credentials;
//   - IMDS: AWS's EC2 metadata mock, one per host inside the host's namespace on
//     169.254.169.254:80 (an address on the host's loopback), configured with that host's
//     instance id, private address and region, IMDSv2 only (a request without a session
//     token gets 401).
//
// What an instance has that a lab host has not, stood in for by commands first on the
// bootstrap's PATH (bin/ of the host): systemd (`systemctl` starts, stops and restarts the
// host's dockerd as docker.service would, with the unit's ExecStart and the drop-ins the
// bootstrap writes: `-H fd://` becomes the host's socket, `--containerd` is dropped because a
// lab dockerd runs its own containerd, paths of TLS files are the host's), the system log
// (`logger` appends to var/log/syslog of the host) and nothing else: apt-get, apt-cache and
// snap refuse to run (the bootstrap must find docker and aws installed and skip them).
//
// The user-data is applied as cloud-init applies it (cloudConfig.ts): the files of write_files
// under the host's root directory (the instance's "/": GETH_SWARM_ROOT), then runcmd in the
// host's namespaces, its output in var/log/cloud-init-output.log, the console a file.
//
// Everything carries the lab's names (paths.ts), so cleanupLab removes it, and startAwsLab
// takes the machine-wide lab lock first.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { acquireLab, cleanupLab, releaseLab, stopDaemons } from "./cleanup";
import { parseCloudConfig } from "./cloudConfig";
import { LAB_PATH, run, sleep, waitFor, which } from "./exec";
import { attachToLabBridge, checkPrerequisites, dockerCli, setupLabBridge } from "./hosts";
import { AwsTools, findAwsTools } from "./awsTools";
import {
    CGROUP_PARENT,
    LAB_STATE_DIR,
    LINK_PREFIX,
    hostDataRoot,
    hostNetns,
    hostSocket,
    hostStateDir,
    netnsPath,
    utsPath,
    vethName,
} from "./paths";

export const AWS_LAB_DIR = path.join(LAB_STATE_DIR, "aws");
export const AWS_LAB_REGION = "eu-west-1";
/** The lab bridge's /24: the root namespace .1, moto .2, the hosts where their specs say. */
export const AWS_LAB_SUBNET = "10.213.0";
export const MOTO_NETNS = "aws";
export const MOTO_ADDRESS = `${AWS_LAB_SUBNET}.2`;
export const MOTO_PORT = 5000;
export const IMDS_ADDRESS = "169.254.169.254";
/** Dummy credentials of the AWS CLI (moto checks no signature). */
export const DUMMY_CREDENTIALS = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };

export interface AwsLabHostSpec {
    name: string;
    /** Its address on the lab bridge: what IMDS gives as local-ipv4. */
    ip: string;
    instanceId: string;
    availabilityZone?: string;
}

export interface AwsLabHost extends AwsLabHostSpec {
    /** The host's own files: the instance's "/" (GETH_SWARM_ROOT of the bootstrap). */
    root: string;
    /** Lab files of the host that are not the instance's: shims, IMDS config and log. */
    dir: string;
    netnsPath: string;
    socketPath: string;
    docker: Docker;
    /** The bootstrap's log, console and cloud-init's output log, inside `root`. */
    bootstrapLog: string;
    console: string;
    cloudInitOutput: string;
    syslog: string;
    /** Lines the stand-ins wrote: systemctl's calls, refused package-manager calls. */
    systemctlCalls: string;
    refusedCalls: string;
    imdsLog: string;
}

export interface BootstrapRun {
    host: string;
    /** Exit code of runcmd (null when killed at the lab's bound). */
    code: number | null;
    seconds: number;
    /** Whether the lab killed it at its bound. */
    timedOut: boolean;
    /** What this run appended to the bootstrap log (the console holds the same). */
    log: string;
    /** What this run wrote to cloud-init's output log (runcmd's own stdout and stderr). */
    output: string;
}

export interface RunningBootstrap {
    host: string;
    pid: number;
    startedAt: number;
    /** What this run has appended to the bootstrap log so far. */
    logSoFar(): string;
    done: Promise<BootstrapRun>;
}

export interface AwsLab {
    hosts: AwsLabHost[];
    host(name: string): AwsLabHost;
    region: string;
    ssmEndpoint: string;
    tools: AwsTools;
    /** A call of the SSM JSON API on moto (`action` as in X-Amz-Target, e.g. "GetParameter"). */
    ssm<T = Record<string, unknown>>(action: string, body: Record<string, unknown>): Promise<T>;
    /** Writes the user-data's files on the host, as cloud-init's write_files does (checks the host name). */
    applyUserData(host: string, userData: string): void;
    /** Applies the user-data, then starts its runcmd in the host's namespaces; killed after timeoutMs. */
    startBootstrap(host: string, userData: string, opts: { timeoutMs: number }): RunningBootstrap;
    runBootstrap(host: string, userData: string, opts: { timeoutMs: number }): Promise<BootstrapRun>;
    /** The pid of the host's dockerd, from its pidfile (undefined when it is not running). */
    dockerdPid(host: string): number | undefined;
    /** Stops (SIGSTOP) or resumes the host's metadata service: connections are accepted, nothing answers. */
    pauseImds(host: string): void;
    resumeImds(host: string): void;
    /** The same for moto: SSM accepts connections and never answers. */
    pauseSsm(): void;
    resumeSsm(): Promise<void>;
    /** IMDSv2 session tokens the host's metadata service handed out (from the mock's log). */
    imdsTokens(host: string): string[];
    timings: Record<string, number>;
    teardown(): Promise<void>;
}

export interface AwsLabOptions {
    hosts: AwsLabHostSpec[];
    waitForOtherLabMs?: number;
    log?: (m: string) => void;
}

function defaultLog(m: string) {
    process.stderr.write(`[aws-lab] ${m}\n`);
}

// ---------- the stand-ins (pure renderers) ----------

export interface SystemctlShimParams {
    host: string;
    /** The instance's "/" (drop-ins are read from, and TLS paths mapped into, it). */
    root: string;
    socket: string;
    stateDir: string;
    dataRoot: string;
    cgroupParent: string;
    /** docker.service's ExecStart (Debian's and Ubuntu's docker.io: `<dockerd> -H fd:// --containerd=...`). */
    unitExecStart: string;
    callsFile: string;
    path: string;
}

/** `systemctl` for a lab host: docker.service's start, stop and restart as systemd does them. */
export function renderSystemctlShim(p: SystemctlShimParams): string {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    return `#!/bin/bash
# systemctl of lab host ${p.host}: docker.service only. Its ExecStart is the unit's, replaced by
# the last ExecStart= of the drop-ins in <root>/etc/systemd/system/docker.service.d (as systemd
# reads them), run with the lab host's own daemon options. Like Type=notify, start returns once
# the engine answers.
set -euo pipefail
ROOT=${q(p.root)}
SOCK=${q(p.socket)}
STATE=${q(p.stateDir)}
UNIT_EXEC=${q(p.unitExecStart)}
echo "systemctl $*" >>${q(p.callsFile)}

running() {
    local pid
    pid=$(cat "$STATE/docker.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
}

exec_start() {
    local cmd=$UNIT_EXEC f line
    for f in "$ROOT"/etc/systemd/system/docker.service.d/*.conf; do
        [ -f "$f" ] || continue
        while IFS= read -r line; do
            case "$line" in ExecStart=*) cmd=\${line#ExecStart=} ;; esac
        done <"$f"
    done
    echo "$cmd"
}

start() {
    running >/dev/null && return 0
    local -a argv args
    read -r -a argv <<<"$(exec_start)"
    if [ "\${#argv[@]}" -eq 0 ] || [ ! -x "\${argv[0]}" ]; then
        echo "docker.service: ExecStart names no executable: \${argv[0]:-(empty)}" >&2
        exit 203
    fi
    args=("\${argv[0]}")
    for a in "\${argv[@]:1}"; do
        case "$a" in
            fd://) args+=("unix://$SOCK") ;;
            --containerd=*) ;;
            --tlscacert=/* | --tlscert=/* | --tlskey=/*) args+=("\${a%%=*}=$ROOT\${a#*=}") ;;
            *) args+=("$a") ;;
        esac
    done
    args+=(--config-file "$STATE/daemon.json" --data-root ${q(p.dataRoot)} --exec-root "$STATE/exec" --pidfile "$STATE/docker.pid" --cgroup-parent ${q(p.cgroupParent)} --shutdown-timeout 5)
    echo "docker.service: $(printf '%s ' "\${args[@]}")" >>"$STATE/dockerd.log"
    setsid env -i PATH=${q(p.path)} "\${args[@]}" </dev/null >>"$STATE/dockerd.log" 2>&1 &
    for _ in $(seq 1 900); do
        if curl -s --max-time 2 --unix-socket "$SOCK" http://docker/_ping >/dev/null 2>&1; then return 0; fi
        if ! kill -0 $! 2>/dev/null; then
            echo "docker.service: dockerd exited; see $STATE/dockerd.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "docker.service: dockerd did not answer on $SOCK within 90 s" >&2
    exit 1
}

stop() {
    local pid
    pid=$(running) || return 0
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

case "$*" in
    daemon-reload) ;;
    "enable --now docker" | "start docker") start ;;
    "restart docker") stop; start ;;
    "stop docker") stop ;;
    "is-active docker") if running >/dev/null; then echo active; else echo inactive; exit 3; fi ;;
    *) echo "systemctl (lab host ${p.host}): not stood in for: $*" >&2; exit 1 ;;
esac
`;
}

/** `logger -t TAG MESSAGE...` for a lab host: appends to the host's syslog file. */
export function renderLoggerShim(syslog: string): string {
    return `#!/bin/bash
tag=logger
if [ "\${1:-}" = -t ]; then tag=$2; shift 2; fi
echo "$(date -u +%FT%TZ) $tag: $*" >>'${syslog}'
`;
}

/** A package manager that refuses to run on a lab host (the bootstrap must skip what is installed). */
export function renderRefusingShim(name: string, host: string, callsFile: string): string {
    return `#!/bin/bash
echo "${name} $*" >>'${callsFile}'
echo "${name}: refused on lab host ${host}: the lab's hosts install nothing" >&2
exit 100
`;
}

/** The metadata mock's configuration for one host: its identity, IMDSv2 only, on 169.254.169.254:80. */
export function imdsMockConfig(h: AwsLabHostSpec, region: string) {
    return {
        imdsv2: true,
        server: { hostname: IMDS_ADDRESS, port: "80" },
        metadata: {
            values: {
                "instance-id": h.instanceId,
                "local-ipv4": h.ip,
                "local-hostname": `ip-${h.ip.replace(/\./g, "-")}.${region}.compute.internal`,
                hostname: `ip-${h.ip.replace(/\./g, "-")}.${region}.compute.internal`,
                "placement-region": region,
                "placement-availability-zone": h.availabilityZone ?? `${region}a`,
            },
        },
    };
}

// ---------- setting up ----------

const hostDir = (name: string) => path.join(AWS_LAB_DIR, "hosts", name);
/** The bootstrap's PATH on a lab host: its stand-ins first, then what an instance has. */
const INSTANCE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

async function ip(...args: string[]) {
    await run("ip", args);
}

/** A detached long-running program in a network namespace; its output to `logFile`. */
function spawnIn(netns: string, cmd: string, args: string[], logFile: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { pid: number; exited: () => string | undefined } {
    const fd = fs.openSync(logFile, "a");
    const child = spawn("nsenter", [`--net=${netns}`, "--", cmd, ...args], { detached: true, stdio: ["ignore", fd, fd], cwd: opts.cwd, env: opts.env ?? { PATH: LAB_PATH } });
    fs.closeSync(fd);
    let exited: string | undefined;
    child.on("exit", (code, sig) => {
        exited = `exit ${code ?? sig}`;
    });
    child.unref();
    return { pid: child.pid!, exited: () => exited };
}

/** Stands up the hosts, moto and the metadata mocks. On failure everything is removed before the error is thrown. */
export async function startAwsLab(opts: AwsLabOptions): Promise<AwsLab> {
    const log = opts.log ?? defaultLog;
    checkPrerequisites();
    const tools = findAwsTools();
    for (const [bin, pkg] of [["curl", "curl"], ["openssl", "openssl"], ["setsid", "util-linux"]]) {
        if (!which(bin)) throw new Error(`lab prerequisite missing: \`${bin}\` (Debian package ${pkg}); run bash .ci/aws-lab-prereqs.sh as root`);
    }
    const names = opts.hosts.map((h) => h.name);
    for (const h of opts.hosts) {
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(h.name) || h.name === MOTO_NETNS) throw new Error(`aws lab host name ${JSON.stringify(h.name)}: use [a-z][a-z0-9-] (not ${MOTO_NETNS})`);
        if (!h.ip.startsWith(`${AWS_LAB_SUBNET}.`) || [`${AWS_LAB_SUBNET}.1`, MOTO_ADDRESS].includes(h.ip)) throw new Error(`aws lab host ${h.name}: ${h.ip} is not a host address of ${AWS_LAB_SUBNET}.0/24`);
    }
    if (new Set(names).size !== names.length || new Set(opts.hosts.map((h) => h.ip)).size !== names.length) throw new Error("aws lab hosts need distinct names and addresses");

    const timings: Record<string, number> = {};
    const lap = (k: string, since: number) => (timings[k] = (Date.now() - since) / 1000);
    let t = Date.now();
    await acquireLab(opts.waitForOtherLabMs, log);
    lap("lockWaitSeconds", t);
    const t0 = Date.now();
    const pids = { moto: 0, imds: new Map<string, number>() };
    const imdsExited = new Map<string, () => string | undefined>();
    try {
        t = Date.now();
        await cleanupLab({ log: (m) => log(`leftovers of an earlier run: ${m}`), graceMs: 5_000 });
        lap("cleanupSeconds", t);

        t = Date.now();
        await setupLabBridge(`${AWS_LAB_SUBNET}.1`);
        fs.mkdirSync(AWS_LAB_DIR, { recursive: true, mode: 0o700 });
        await attachToLabBridge(hostNetns(MOTO_NETNS), `${LINK_PREFIX}v${MOTO_NETNS}`, MOTO_ADDRESS);
        for (const [i, h] of opts.hosts.entries()) {
            await attachToLabBridge(hostNetns(h.name), vethName(i), h.ip);
            await ip("-n", hostNetns(h.name), "addr", "add", `${IMDS_ADDRESS}/32`, "dev", "lo");
            fs.writeFileSync(utsPath(h.name), "");
            await run("unshare", [`--uts=${utsPath(h.name)}`, "hostname", h.name]);
        }
        lap("networkSeconds", t);

        // SSM.
        t = Date.now();
        const moto = spawnIn(netnsPath(MOTO_NETNS), tools.motoServer, ["-H", MOTO_ADDRESS, "-p", String(MOTO_PORT)], path.join(AWS_LAB_DIR, "moto.log"), { cwd: AWS_LAB_DIR });
        pids.moto = moto.pid;

        // The hosts: files, stand-ins, the metadata mock, the engine.
        const dockerd = which("dockerd");
        if (!dockerd) throw new Error("lab prerequisite missing: dockerd (docker.io)");
        const hosts: AwsLabHost[] = opts.hosts.map((spec) => {
            const dir = hostDir(spec.name);
            const root = path.join(dir, "root");
            const bin = path.join(dir, "bin");
            for (const d of ["etc", "var/log", "tmp", "root", "dev", "usr/local/sbin"]) fs.mkdirSync(path.join(root, d), { recursive: true, mode: 0o755 });
            fs.chmodSync(path.join(root, "tmp"), 0o1777);
            fs.chmodSync(path.join(root, "root"), 0o700);
            fs.mkdirSync(bin, { recursive: true });
            fs.mkdirSync(hostStateDir(spec.name), { recursive: true });
            fs.mkdirSync(hostDataRoot(spec.name), { recursive: true });
            const state = hostStateDir(spec.name);
            fs.writeFileSync(path.join(state, "daemon.json"), JSON.stringify({ "deprecated-key-path": path.join(state, "key.json") }, null, 2) + "\n");
            const h: AwsLabHost = {
                ...spec,
                root,
                dir,
                netnsPath: netnsPath(spec.name),
                socketPath: hostSocket(spec.name),
                docker: new Docker({ socketPath: hostSocket(spec.name) }),
                bootstrapLog: path.join(root, "var/log/geth-swarm-bootstrap.log"),
                console: path.join(root, "dev/console"),
                cloudInitOutput: path.join(root, "var/log/cloud-init-output.log"),
                syslog: path.join(root, "var/log/syslog"),
                systemctlCalls: path.join(dir, "systemctl.calls"),
                refusedCalls: path.join(dir, "refused.calls"),
                imdsLog: path.join(dir, "imds.log"),
            };
            fs.writeFileSync(h.console, "");
            const shim = (n: string, text: string) => fs.writeFileSync(path.join(bin, n), text, { mode: 0o755 });
            shim(
                "systemctl",
                renderSystemctlShim({
                    host: spec.name,
                    root,
                    socket: h.socketPath,
                    stateDir: state,
                    dataRoot: hostDataRoot(spec.name),
                    cgroupParent: `/${CGROUP_PARENT}/${spec.name}`,
                    unitExecStart: `${dockerd} -H fd:// --containerd=/run/containerd/containerd.sock`,
                    callsFile: h.systemctlCalls,
                    path: INSTANCE_PATH,
                }),
            );
            shim("logger", renderLoggerShim(h.syslog));
            for (const n of ["apt-get", "apt-cache", "snap"]) shim(n, renderRefusingShim(n, spec.name, h.refusedCalls));
            // The installed tools: the AWS CLI, and the docker CLI that matches the engine.
            fs.symlinkSync(tools.aws, path.join(bin, "aws"));
            fs.symlinkSync(dockerCli(), path.join(bin, "docker"));
            fs.writeFileSync(path.join(dir, "imds.json"), JSON.stringify(imdsMockConfig(spec, AWS_LAB_REGION), null, 2) + "\n");
            const mock = spawnIn(h.netnsPath, tools.imdsMock, ["-c", path.join(dir, "imds.json")], h.imdsLog, { cwd: dir, env: { PATH: LAB_PATH, HOME: dir } });
            pids.imds.set(spec.name, mock.pid);
            imdsExited.set(spec.name, mock.exited);
            return h;
        });
        // The engines start as docker.service does at boot (installed with the image).
        await Promise.all(
            hosts.map((h) =>
                run("nsenter", [`--net=${h.netnsPath}`, `--uts=${utsPath(h.name)}`, "--", path.join(h.dir, "bin", "systemctl"), "start", "docker"], { timeoutMs: 120_000, env: { PATH: INSTANCE_PATH } }),
            ),
        );
        lap("enginesSeconds", t);

        t = Date.now();
        const ssmEndpoint = `http://${MOTO_ADDRESS}:${MOTO_PORT}`;
        const ssm = async <T>(action: string, body: Record<string, unknown>): Promise<T> => {
            const res = await fetch(`${ssmEndpoint}/`, {
                method: "POST",
                headers: {
                    "Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": `AmazonSSM.${action}`,
                    Authorization: `AWS4-HMAC-SHA256 Credential=${DUMMY_CREDENTIALS.AWS_ACCESS_KEY_ID}/20260101/${AWS_LAB_REGION}/ssm/aws4_request, SignedHeaders=host, Signature=0`,
                },
                body: JSON.stringify(body),
                signal: AbortSignal.timeout(20_000),
            });
            const text = await res.text();
            if (!res.ok) throw new Error(`SSM ${action}: HTTP ${res.status}: ${text.slice(0, 300)}`);
            return JSON.parse(text || "{}") as T;
        };
        await waitFor(
            "moto (SSM) to answer",
            async () => {
                if (moto.exited()) throw new Error(`moto ${moto.exited()}; see ${path.join(AWS_LAB_DIR, "moto.log")}`);
                await ssm("DescribeParameters", {});
                return true;
            },
            60_000,
            250,
        );
        lap("motoSeconds", t);
        // Each host's metadata service answers, and refuses IMDSv1.
        t = Date.now();
        await Promise.all(
            hosts.map((h) =>
                waitFor(
                    `the metadata mock of ${h.name}`,
                    async () => {
                        const gone = imdsExited.get(h.name)!();
                        if (gone) throw new Error(`the metadata mock ${gone}: ${fs.readFileSync(h.imdsLog, "utf8").split("\n").slice(-5).join(" | ")}`);
                        const r = await run("nsenter", [`--net=${h.netnsPath}`, "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", `http://${IMDS_ADDRESS}/latest/meta-data/instance-id`], { allowFailure: true, timeoutMs: 5_000 });
                        return r.stdout === "401" ? true : undefined;
                    },
                    30_000,
                    200,
                ),
            ),
        );
        lap("imdsSeconds", t);
        timings.totalSeconds = (Date.now() - t0) / 1000;

        const lab = makeAwsLab(hosts, tools, ssmEndpoint, ssm, pids, timings);
        log(`aws lab up in ${timings.totalSeconds.toFixed(1)} s: ${hosts.map((h) => `${h.name}=${h.ip}`).join(" ")}, SSM ${ssmEndpoint}`);
        return lab;
    } catch (e) {
        log(`aws lab setup failed, cleaning up: ${e instanceof Error ? e.message : String(e)}`);
        try {
            await cleanupLab({ log, graceMs: 5_000 });
        } catch (ce) {
            log(`cleanup after failed setup: ${ce instanceof Error ? ce.message : String(ce)}`);
        }
        releaseLab();
        throw e;
    }
}

function signal(pid: number, sig: NodeJS.Signals) {
    try {
        process.kill(pid, sig);
    } catch {
        // gone
    }
}

function makeAwsLab(
    hosts: AwsLabHost[],
    tools: AwsTools,
    ssmEndpoint: string,
    ssm: AwsLab["ssm"],
    pids: { moto: number; imds: Map<string, number> },
    timings: Record<string, number>,
): AwsLab {
    let torn = false;
    const host = (name: string) => {
        const h = hosts.find((x) => x.name === name);
        if (!h) throw new Error(`no aws lab host ${name} (have ${hosts.map((x) => x.name).join(", ")})`);
        return h;
    };
    const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    const readFrom = (f: string, offset: number) => {
        if (!fs.existsSync(f)) return "";
        const buf = fs.readFileSync(f);
        return buf.subarray(Math.min(offset, buf.length)).toString("utf8");
    };

    const applyUserData: AwsLab["applyUserData"] = (name, userData) => {
        const h = host(name);
        const cc = parseCloudConfig(userData);
        // The lab names hosts as the program does; cloud-init would set this name.
        if (cc.hostname !== h.name) throw new Error(`user-data for lab host ${h.name} sets hostname ${cc.hostname}`);
        for (const f of cc.files) {
            if (f.owner !== "root:root") throw new Error(`write_files ${f.path}: the lab writes root:root files only, not ${f.owner}`);
            const target = path.join(h.root, f.path);
            fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
            fs.writeFileSync(target, f.content);
            fs.chmodSync(target, f.mode);
        }
    };

    const startBootstrap: AwsLab["startBootstrap"] = (name, userData, opts) => {
        const h = host(name);
        applyUserData(name, userData);
        const cc = parseCloudConfig(userData);
        if (cc.runcmd.length !== 1) throw new Error(`runcmd has ${cc.runcmd.length} entries; the lab runs one`);
        const cmd = cc.runcmd[0];
        const argv = typeof cmd === "string" ? ["/bin/sh", "-c", cmd] : cmd[0].startsWith("/") && fs.existsSync(path.join(h.root, cmd[0])) ? [path.join(h.root, cmd[0]), ...cmd.slice(1)] : cmd;
        const logStart = size(h.bootstrapLog);
        const outStart = size(h.cloudInitOutput);
        const env: NodeJS.ProcessEnv = {
            PATH: `${path.join(h.dir, "bin")}:${INSTANCE_PATH}`,
            HOME: path.join(h.root, "root"),
            LANG: "C.UTF-8",
            TMPDIR: path.join(h.root, "tmp"),
            GETH_SWARM_ROOT: h.root,
            GETH_SWARM_CONSOLE: h.console,
            DOCKER_HOST: `unix://${h.socketPath}`,
            AWS_ENDPOINT_URL: ssmEndpoint,
            ...DUMMY_CREDENTIALS,
        };
        const fd = fs.openSync(h.cloudInitOutput, "a");
        const startedAt = Date.now();
        const child = spawn("nsenter", [`--net=${h.netnsPath}`, `--uts=${utsPath(h.name)}`, "--", ...argv], { detached: true, stdio: ["ignore", fd, fd], env, cwd: "/" });
        fs.closeSync(fd);
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            signal(-child.pid!, "SIGKILL");
        }, opts.timeoutMs);
        const done = new Promise<BootstrapRun>((resolve, reject) => {
            child.on("error", (e) => {
                clearTimeout(timer);
                reject(e);
            });
            child.on("exit", (code) => {
                clearTimeout(timer);
                const seconds = (Date.now() - startedAt) / 1000;
                // tee (the script's log and console) may still be writing when the script exits.
                void (async () => {
                    const deadline = Date.now() + 10_000;
                    while (Date.now() < deadline && !/=== done|FAILED \(exit/.test(readFrom(h.bootstrapLog, logStart))) await sleep(50);
                    await sleep(100);
                    resolve({ host: name, code: timedOut ? null : code, seconds, timedOut, log: readFrom(h.bootstrapLog, logStart), output: readFrom(h.cloudInitOutput, outStart) });
                })();
            });
        });
        return { host: name, pid: child.pid!, startedAt, logSoFar: () => readFrom(h.bootstrapLog, logStart), done };
    };

    const lab: AwsLab = {
        hosts,
        host,
        region: AWS_LAB_REGION,
        ssmEndpoint,
        tools,
        ssm,
        applyUserData,
        startBootstrap,
        runBootstrap: (name, userData, opts) => startBootstrap(name, userData, opts).done,
        dockerdPid(name) {
            try {
                const pid = Number(fs.readFileSync(path.join(hostStateDir(host(name).name), "docker.pid"), "utf8").trim());
                return pid > 0 && fs.existsSync(`/proc/${pid}`) ? pid : undefined;
            } catch {
                return undefined;
            }
        },
        pauseImds: (name) => signal(pids.imds.get(host(name).name)!, "SIGSTOP"),
        resumeImds: (name) => signal(pids.imds.get(host(name).name)!, "SIGCONT"),
        pauseSsm: () => signal(pids.moto, "SIGSTOP"),
        async resumeSsm() {
            signal(pids.moto, "SIGCONT");
            await waitFor("moto (SSM) to answer again", async () => (await ssm("DescribeParameters", {}), true), 30_000, 250);
        },
        imdsTokens(name) {
            const text = fs.existsSync(host(name).imdsLog) ? fs.readFileSync(host(name).imdsLog, "utf8") : "";
            return [...new Set([...text.matchAll(/X-Aws-Ec2-Metadata-Token:\[([^\]\s]+)\]/g)].map((m) => m[1]))];
        },
        timings,
        async teardown() {
            if (torn) return;
            torn = true;
            try {
                signal(pids.moto, "SIGCONT");
                for (const pid of pids.imds.values()) signal(pid, "SIGCONT");
                await stopDaemons(20_000);
                await cleanupLab({ graceMs: 5_000 });
            } finally {
                releaseLab();
            }
        },
    };
    return lab;
}
