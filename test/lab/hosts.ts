// The lab: N swarm "hosts" on this one Linux machine, each a network namespace with its own
// UTS namespace (hostname), a veth into one Linux bridge, and its own dockerd; the first host
// runs `swarm init`, the others join. Images come from images.ts (built locally, no registry).
//
//   const lab = await startLab({ hostCount: 3 });
//   await lab.deployCompose("boot", yaml);
//   ...
//   await lab.teardown();
//
// Needs root, dockerd/containerd/runc, iproute2, iptables, util-linux (nsenter, unshare),
// busybox-static and Go (cold image cache only): `bash .ci/lab-prereqs.sh` installs them.
// Every trace is removed by teardown(), and a run killed halfway is cleaned up at the start
// of the next one (or by `npx tsx test/lab/cleanup.ts`).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { acquireLab, cleanupLab, releaseLab, stopDaemons } from "./cleanup";
import { LAB_ENV, run, RunResult, sleep, waitFor, which } from "./exec";
import { DEFAULT_GETH_VERSION, ensureImages, LabImages } from "./images";
import {
    BRIDGE,
    CGROUP_PARENT,
    IPTABLES_COMMENT,
    LAB_DATA_DIR,
    LAB_STATE_DIR,
    hostDataRoot,
    hostNetns,
    hostSocket,
    hostStateDir,
    netnsPath,
    utsDir,
    utsPath,
    vethName,
} from "./paths";

export type HostRole = "manager" | "worker";

export interface LabHost {
    /** Lab name (also the hostname, the netns is `gsl-<name>`). */
    name: string;
    /** The hostname the swarm node reports (`docker node ls`, `{{.Node.Hostname}}`). */
    hostname: string;
    /** The host's address on the lab bridge; swarm advertise address and where host-mode ports are published. */
    ip: string;
    /** The host's dockerd socket: `new Docker({ socketPath })`, `docker -H unix://<socketPath>`. */
    socketPath: string;
    role: HostRole;
    /** Swarm node ID. */
    nodeId: string;
    /** Network namespace path (`nsenter --net=<netnsPath>` runs a command "on" the host). */
    netnsPath: string;
    docker: Docker;
}

export interface LabTimings {
    /** Waiting for another process's lab to finish (not part of totalSeconds). */
    lockWaitSeconds: number;
    imagesSeconds: number;
    cleanupSeconds: number;
    networkSeconds: number;
    daemonsSeconds: number;
    loadSeconds: number;
    swarmSeconds: number;
    totalSeconds: number;
}

export interface Lab {
    hosts: LabHost[];
    /** The first manager (the one that ran `swarm init`). */
    manager: LabHost;
    managerSocket: string;
    /** The root namespace's address on the lab bridge (reaches every host). */
    bridgeIp: string;
    subnet: string;
    images: LabImages;
    timings: LabTimings;
    host(name: string): LabHost;
    /** Runs the docker CLI against a host (default: the manager). */
    docker(args: string[], opts?: { host?: string; input?: string; cwd?: string; allowFailure?: boolean; timeoutMs?: number }): Promise<RunResult>;
    /** Runs a program inside a host's network namespace (e.g. to reach a port from "another host"). */
    onHost(host: string, cmd: string, args: string[], opts?: { input?: string; allowFailure?: boolean; timeoutMs?: number }): Promise<RunResult>;
    /**
     * `docker stack deploy --resolve-image never -c - <stackName>` on the manager. `cwd` is where
     * relative paths in the compose file (secret/config files) are resolved.
     */
    deployCompose(stackName: string, composeYaml: string, opts?: { cwd?: string }): Promise<void>;
    /** `docker stack rm`, then waits until its services, networks, secrets, configs and containers are gone. */
    removeStack(stackName: string, timeoutMs?: number): Promise<void>;
    /** Stops every daemon and removes every trace of the lab. Idempotent. */
    teardown(): Promise<void>;
}

export interface LabHostSpec {
    name: string;
    role?: HostRole;
}

export interface LabOptions {
    /** Number of hosts, 1..9 (default 3: manager, worker, miner-worker). Ignored when `hosts` is given. */
    hostCount?: number;
    /** Explicit hosts; the first must be a manager. Names: lowercase letters, digits, '-', at most 31 characters. */
    hosts?: LabHostSpec[];
    gethVersion?: string;
    /** First three octets of the lab bridge's /24 (default "10.213.0"). */
    subnetPrefix?: string;
    /** How long to wait for another process's lab to finish before failing (default 30 min). */
    waitForOtherLabMs?: number;
    log?: (m: string) => void;
}

/** Host names in the order of the reference scenario, then numbered workers. */
export const DEFAULT_HOST_NAMES = ["manager", "worker", "miner-worker", "worker-3", "worker-4", "worker-5", "worker-6", "worker-7", "worker-8"];
export const MAX_HOSTS = DEFAULT_HOST_NAMES.length;

function defaultLog(m: string) {
    process.stderr.write(`[lab] ${m}\n`);
}

/** A clear error naming the first missing prerequisite. */
export function checkPrerequisites(): void {
    const hint = "run `bash .ci/lab-prereqs.sh` as root";
    if (process.platform !== "linux") throw new Error(`the lab needs Linux (network namespaces), not ${process.platform}`);
    if (process.getuid?.() !== 0) throw new Error("lab prerequisite missing: root (the lab creates network namespaces, a bridge and docker daemons); run the lab tests as root");
    const tools: Array<[string, string]> = [
        ["dockerd", "docker.io"],
        ["containerd", "docker.io"],
        ["runc", "docker.io (runc)"],
        ["docker", "docker.io"],
        ["nsenter", "util-linux"],
        ["unshare", "util-linux"],
        ["ip", "iproute2"],
        ["iptables", "iptables"],
        ["busybox", "busybox-static"],
        ["tar", "tar"],
        ["chroot", "coreutils"],
    ];
    for (const [bin, pkg] of tools) {
        if (!which(bin)) throw new Error(`lab prerequisite missing: \`${bin}\` (Debian package ${pkg}); ${hint}`);
    }
    if (!fs.existsSync("/proc/self/ns/uts") || !fs.existsSync("/sys/fs/cgroup")) {
        throw new Error("lab prerequisite missing: namespaces or cgroups are not available on this kernel");
    }
}

/** The docker CLI matching the engine: Debian's /usr/bin/docker when present. */
export function dockerCli(): string {
    if (process.env.GETH_SWARM_LAB_DOCKER_CLI) return process.env.GETH_SWARM_LAB_DOCKER_CLI;
    return fs.existsSync("/usr/bin/docker") ? "/usr/bin/docker" : (which("docker") ?? "docker");
}

function resolveHosts(opts: LabOptions): LabHostSpec[] {
    const specs = opts.hosts ?? DEFAULT_HOST_NAMES.slice(0, opts.hostCount ?? 3).map((name, i) => ({ name, role: (i === 0 ? "manager" : "worker") as HostRole }));
    const n = opts.hosts ? specs.length : (opts.hostCount ?? 3);
    if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new Error(`hostCount must be 1..${MAX_HOSTS}, got ${n}`);
    const seen = new Set<string>();
    for (const [i, s] of specs.entries()) {
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(s.name)) throw new Error(`lab host name ${JSON.stringify(s.name)}: use [a-z][a-z0-9-], at most 31 characters`);
        if (seen.has(s.name)) throw new Error(`lab host name ${s.name} given twice`);
        seen.add(s.name);
        if (i === 0 && (s.role ?? "manager") !== "manager") throw new Error("the first lab host must be a manager (it runs swarm init)");
    }
    return specs.map((s, i) => ({ name: s.name, role: s.role ?? (i === 0 ? "manager" : "worker") }));
}

let activeLab: Lab | undefined;

/** Stands up the lab. On failure everything created so far is removed before the error is thrown. */
export async function startLab(opts: LabOptions = {}): Promise<Lab> {
    const log = opts.log ?? defaultLog;
    checkPrerequisites();
    const specs = resolveHosts(opts);
    if (activeLab) throw new Error("a lab is already running in this process; call teardown() first");
    const prefix = opts.subnetPrefix ?? "10.213.0";
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(prefix)) throw new Error(`subnetPrefix must look like "10.213.0", got ${prefix}`);
    const bridgeIp = `${prefix}.1`;
    const hostIp = (i: number) => `${prefix}.${11 + i}`;

    const lap = (since: number) => (Date.now() - since) / 1000;
    // The machine-wide lab lock comes first: image builds, leftover cleanup and set-up all
    // touch what another process's lab may be using.
    const tLock = Date.now();
    await acquireLab(opts.waitForOtherLabMs, log);
    const lockWaitSeconds = lap(tLock);
    const t0 = Date.now();
    try {
        const images = await ensureImages(opts.gethVersion ?? DEFAULT_GETH_VERSION, (m) => log(m));
        const imagesSeconds = lap(t0);

        let t = Date.now();
        await cleanupLab({ log: (m) => log(`leftovers of an earlier run: ${m}`), graceMs: 5_000 });
        const cleanupSeconds = lap(t);

        t = Date.now();
        await setupNetwork(specs, bridgeIp, hostIp);
        const networkSeconds = lap(t);

        t = Date.now();
        const dockers = await Promise.all(specs.map((s) => startDaemon(s.name)));
        const daemonsSeconds = lap(t);

        t = Date.now();
        await Promise.all(specs.map((s) => run(dockerCli(), ["-H", `unix://${hostSocket(s.name)}`, "load", "-q", "-i", images.tarball], { timeoutMs: 300_000 })));
        const loadSeconds = lap(t);

        t = Date.now();
        const nodeIds = await formSwarm(specs, dockers, hostIp);
        const swarmSeconds = lap(t);

        const hosts: LabHost[] = specs.map((s, i) => ({
            name: s.name,
            hostname: s.name,
            ip: hostIp(i),
            socketPath: hostSocket(s.name),
            role: s.role ?? "worker",
            nodeId: nodeIds[i],
            netnsPath: netnsPath(s.name),
            docker: dockers[i],
        }));
        const timings: LabTimings = { lockWaitSeconds, imagesSeconds, cleanupSeconds, networkSeconds, daemonsSeconds, loadSeconds, swarmSeconds, totalSeconds: lap(t0) };
        const lab = makeLab(hosts, bridgeIp, `${prefix}.0/24`, images, timings);
        fs.writeFileSync(
            path.join(LAB_STATE_DIR, "lab.json"),
            JSON.stringify({ pid: process.pid, bridgeIp, hosts: hosts.map(({ docker: _d, ...h }) => h), images: { geth: images.geth, alltools: images.alltools }, timings }, null, 2) + "\n",
        );
        activeLab = lab;
        log(`lab up in ${timings.totalSeconds.toFixed(1)} s: ${hosts.map((h) => `${h.name}=${h.ip}`).join(" ")}`);
        return lab;
    } catch (e) {
        log(`lab setup failed, cleaning up: ${e instanceof Error ? e.message : String(e)}`);
        try {
            await cleanupLab({ log, graceMs: 5_000 });
        } catch (ce) {
            log(`cleanup after failed setup: ${ce instanceof Error ? ce.message : String(ce)}`);
        }
        releaseLab();
        throw e;
    }
}

async function ip(...args: string[]) {
    await run("ip", args);
}

/** The lab's directories, and the private mount the UTS namespace files live on. */
async function setupLabDirs() {
    for (const d of [LAB_STATE_DIR, LAB_DATA_DIR, utsDir]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    // The UTS namespace files are bind mounts of nsfs; they need a private mount to live on.
    await run("mount", ["--bind", utsDir, utsDir]);
    await run("mount", ["--make-private", utsDir]);
}

/** A host's UTS namespace (hostname = name) and its state and data directories. */
async function setupHostDirs(name: string) {
    const uts = utsPath(name);
    fs.writeFileSync(uts, "");
    await run("unshare", [`--uts=${uts}`, "hostname", name]);
    fs.mkdirSync(hostStateDir(name), { recursive: true });
    fs.mkdirSync(hostDataRoot(name), { recursive: true });
}

/**
 * A lab host without a link to the lab bridge: its own network namespace with only a
 * loopback, its own hostname, its own dockerd (see {@link launchDockerd}). Everything it
 * creates carries the lab's names, so `cleanupLab` removes it. The caller holds the lab
 * lock (`acquireLab`) and has cleaned leftovers.
 */
export async function startIsolatedHost(name: string): Promise<Docker> {
    await setupLabDirs();
    await ip("netns", "add", hostNetns(name));
    await ip("-n", hostNetns(name), "link", "set", "lo", "up");
    await setupHostDirs(name);
    return startDaemon(name);
}

/**
 * The lab bridge in the root namespace, at `bridgeIp`/24, with the FORWARD rule that lets
 * it talk to itself (the lab's directories first, see {@link setupLabDirs}).
 */
export async function setupLabBridge(bridgeIp: string): Promise<void> {
    await setupLabDirs();
    await ip("link", "add", BRIDGE, "type", "bridge");
    await ip("addr", "add", `${bridgeIp}/24`, "dev", BRIDGE);
    await ip("link", "set", BRIDGE, "up");
    // Once any dockerd ran in the root namespace its FORWARD policy is DROP, and with
    // br_netfilter bridged frames traverse FORWARD: let the lab bridge talk to itself.
    await run("iptables", ["-w", "-I", "FORWARD", "-i", BRIDGE, "-o", BRIDGE, "-m", "comment", "--comment", IPTABLES_COMMENT, "-j", "ACCEPT"]);
}

/**
 * A network namespace `ns` on the lab bridge: a veth `veth` into the bridge, `eth0` inside at
 * `address`/24, loopback up, no default route (nothing in the lab reaches beyond the bridge).
 */
export async function attachToLabBridge(ns: string, veth: string, address: string): Promise<void> {
    await ip("netns", "add", ns);
    await ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
    await ip("link", "set", veth, "master", BRIDGE, "up");
    await ip("-n", ns, "addr", "add", `${address}/24`, "dev", "eth0");
    await ip("-n", ns, "link", "set", "eth0", "up");
    await ip("-n", ns, "link", "set", "lo", "up");
}

async function setupNetwork(specs: LabHostSpec[], bridgeIp: string, hostIp: (i: number) => string) {
    await setupLabBridge(bridgeIp);
    for (const [i, s] of specs.entries()) {
        await attachToLabBridge(hostNetns(s.name), vethName(i), hostIp(i));
        await setupHostDirs(s.name);
    }
}

async function startDaemon(name: string): Promise<Docker> {
    const state = hostStateDir(name);
    const sock = hostSocket(name);
    // Own config file: the machine's /etc/docker/daemon.json (if any) does not apply, and the
    // engine key is per host (distinct engine IDs), not the shared /etc/docker/key.json.
    const config = path.join(state, "daemon.json");
    fs.writeFileSync(config, JSON.stringify({ "deprecated-key-path": path.join(state, "key.json") }, null, 2) + "\n");
    const { logFile, exited } = launchDockerd(name);
    const docker = new Docker({ socketPath: sock });
    try {
        await waitFor(
            `dockerd of lab host ${name}`,
            async () => {
                const gone = exited();
                if (gone) throw new Error(`dockerd ${gone}`);
                await docker.ping();
                return true;
            },
            90_000,
            300,
        );
    } catch (e) {
        const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${logFile} (tail) ---\n${tail}`);
    }
    return docker;
}

async function formSwarm(specs: LabHostSpec[], dockers: Docker[], hostIp: (i: number) => string): Promise<string[]> {
    const mgr = dockers[0];
    await mgr.swarmInit({ ListenAddr: `${hostIp(0)}:2377`, AdvertiseAddr: `${hostIp(0)}:2377` });
    const info = (await mgr.swarmInspect()) as { JoinTokens: { Worker: string; Manager: string } };
    const join = (i: number) =>
        dockers[i].swarmJoin({
            ListenAddr: `${hostIp(i)}:2377`,
            AdvertiseAddr: `${hostIp(i)}:2377`,
            RemoteAddrs: [`${hostIp(0)}:2377`],
            JoinToken: specs[i].role === "manager" ? info.JoinTokens.Manager : info.JoinTokens.Worker,
        });
    // Managers one at a time (raft membership changes), then all workers at once.
    for (let i = 1; i < specs.length; i++) if (specs[i].role === "manager") await join(i);
    await Promise.all(specs.map((s, i) => (i > 0 && s.role !== "manager" ? join(i) : undefined)));

    return waitFor(
        `${specs.length} ready swarm nodes`,
        async () => {
            const nodes = (await mgr.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string }; Status?: { State?: string } }>;
            const ids = specs.map((s) => nodes.find((n) => n.Description?.Hostname === s.name && n.Status?.State === "ready")?.ID);
            return ids.every(Boolean) && nodes.length === specs.length ? (ids as string[]) : undefined;
        },
        120_000,
        500,
    );
}

function makeLab(hosts: LabHost[], bridgeIp: string, subnet: string, images: LabImages, timings: LabTimings): Lab {
    const manager = hosts[0];
    let torn = false;
    const host = (name: string) => {
        const h = hosts.find((x) => x.name === name);
        if (!h) throw new Error(`no lab host ${name} (have ${hosts.map((x) => x.name).join(", ")})`);
        return h;
    };
    const docker: Lab["docker"] = (args, o = {}) =>
        run(dockerCli(), ["-H", `unix://${host(o.host ?? manager.name).socketPath}`, ...args], {
            input: o.input,
            cwd: o.cwd,
            allowFailure: o.allowFailure,
            timeoutMs: o.timeoutMs ?? 180_000,
        });
    const stackLabel = (s: string) => ({ label: [`com.docker.stack.namespace=${s}`] });
    const lab: Lab = {
        hosts,
        manager,
        managerSocket: manager.socketPath,
        bridgeIp,
        subnet,
        images,
        timings,
        host,
        docker,
        onHost: (name, cmd, args, o = {}) => run("nsenter", [`--net=${host(name).netnsPath}`, "--", cmd, ...args], { input: o.input, allowFailure: o.allowFailure, timeoutMs: o.timeoutMs }),
        async deployCompose(stackName, composeYaml, o = {}) {
            await docker(["stack", "deploy", "--resolve-image", "never", "--prune", "-c", "-", stackName], { input: composeYaml, cwd: o.cwd });
        },
        async removeStack(stackName, timeoutMs = 120_000) {
            await docker(["stack", "rm", stackName]);
            const filters = stackLabel(stackName);
            await waitFor(
                `stack ${stackName} to be gone`,
                async () => {
                    const m = manager.docker;
                    const [svcs, nets, secrets, configs] = await Promise.all([
                        m.listServices({ filters }),
                        m.listNetworks({ filters }),
                        m.listSecrets({ filters }),
                        m.listConfigs({ filters }),
                    ]);
                    if (svcs.length || nets.length || secrets.length || configs.length) return undefined;
                    const containers = await Promise.all(hosts.map((h) => h.docker.listContainers({ all: true, filters })));
                    return containers.every((c) => c.length === 0) ? true : undefined;
                },
                timeoutMs,
                500,
            );
        },
        async teardown() {
            if (torn) return;
            torn = true;
            try {
                await stopDaemons(20_000);
                await cleanupLab({ graceMs: 5_000 });
            } finally {
                if (activeLab === lab) activeLab = undefined;
                releaseLab();
            }
        },
    };
    return lab;
}

/** Waits until a condition on the swarm holds; a thin re-export for lab tests. */
export { sleep, waitFor };

/**
 * Starts lab host `name`'s dockerd in the host's network and UTS namespaces with its own
 * config file, data root, exec root, socket, pidfile and cgroup parent (the config file
 * must exist). Used at setup and to start a stopped host again as the same swarm node.
 */
export function launchDockerd(name: string): { logFile: string; exited: () => string | undefined } {
    const state = hostStateDir(name);
    const logFile = path.join(state, "dockerd.log");
    const fd = fs.openSync(logFile, "a");
    // nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then fails with
    // "Devices cgroup isn't mounted".
    const child = spawn(
        "nsenter",
        [
            `--net=${netnsPath(name)}`,
            `--uts=${utsPath(name)}`,
            "--",
            "dockerd",
            "--config-file",
            path.join(state, "daemon.json"),
            "--data-root",
            hostDataRoot(name),
            "--exec-root",
            path.join(state, "exec"),
            "-H",
            `unix://${hostSocket(name)}`,
            "--pidfile",
            path.join(state, "docker.pid"),
            "--cgroup-parent",
            `/${CGROUP_PARENT}/${name}`,
            "--shutdown-timeout",
            "5",
        ],
        { env: LAB_ENV, detached: true, stdio: ["ignore", fd, fd] },
    );
    fs.closeSync(fd);
    let exited: string | undefined;
    child.on("exit", (code, sig) => {
        exited = `exit ${code ?? sig}`;
    });
    child.unref();
    return { logFile, exited: () => exited };
}
