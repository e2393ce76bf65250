// Faults to inject into a running lab: a host's Docker daemon going down and coming back
// (what a host reboot does to the swarm: its containers stop, its engine and swarm agent
// restart from the same data root), and a host cut off the lab bridge (a network partition).
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { run, sleep, waitFor } from "./exec";
import { dockerCli, launchDockerd, type Lab, type LabHost } from "./hosts";
import { BRIDGE, hostDataRoot, hostNetns, hostSocket, hostStateDir, netnsPath, utsPath, vethName } from "./paths";

function pidOf(name: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(path.join(hostStateDir(name), "docker.pid"), "utf8").trim());
        return pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return !/^\d+ \(.*\) Z /.test(stat);
    } catch {
        return false;
    }
}

/**
 * Stops a host's dockerd as a shutdown would: SIGTERM (it stops its containers within its
 * --shutdown-timeout, then containerd), SIGKILL after graceMs. Returns seconds taken.
 */
export async function stopDaemon(lab: Lab, name: string, graceMs = 20_000): Promise<number> {
    lab.host(name);
    const pid = pidOf(name);
    if (pid === undefined || !alive(pid)) throw new Error(`dockerd of lab host ${name} is not running`);
    const t = Date.now();
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) {
        process.kill(pid, "SIGKILL");
        while (alive(pid)) await sleep(100);
    }
    // The engine's containerd and shims go with it; wait until the socket no longer answers.
    await waitFor(
        `dockerd of ${name} to stop answering`,
        async () => {
            try {
                await lab.host(name).docker.ping();
                return undefined;
            } catch {
                return true;
            }
        },
        10_000,
        100,
    );
    return (Date.now() - t) / 1000;
}

/**
 * Starts a host's dockerd again with the same flags, data root, exec root and socket the
 * lab started it with (see hosts.ts), so it comes back as the same swarm node. Returns
 * seconds until it answers.
 */
export async function startDaemon(lab: Lab, name: string): Promise<number> {
    lab.host(name);
    const t = Date.now();
    const { logFile, exited } = launchDockerd(name);
    await waitFor(
        `dockerd of lab host ${name} to answer again`,
        async () => {
            const gone = exited();
            if (gone) throw new Error(`dockerd ${gone}; see ${logFile}`);
            await lab.host(name).docker.ping();
            return true;
        },
        90_000,
        200,
    );
    return (Date.now() - t) / 1000;
}

/** A host reboot as the swarm sees it: the daemon stops (its containers with it), stays down `downMs`, and starts again. */
export async function restartDaemon(lab: Lab, name: string, downMs = 0): Promise<{ stopSeconds: number; startSeconds: number }> {
    const stopSeconds = await stopDaemon(lab, name);
    if (downMs > 0) await sleep(downMs);
    const startSeconds = await startDaemon(lab, name);
    return { stopSeconds, startSeconds };
}

/** The host's veth on the lab bridge (root namespace side). */
export function vethOf(lab: Lab, name: string): string {
    const i = lab.hosts.findIndex((h) => h.name === name);
    if (i < 0) throw new Error(`no lab host ${name}`);
    return vethName(i);
}

/** Cuts a host off the lab bridge (its link goes down): it reaches no other host, and none reaches it. */
export async function cutHost(lab: Lab, name: string): Promise<void> {
    await run("ip", ["link", "set", vethOf(lab, name), "down"]);
}

/** Reconnects a host cut off with {@link cutHost}. */
export async function healHost(lab: Lab, name: string): Promise<void> {
    await run("ip", ["link", "set", vethOf(lab, name), "up"]);
}

/**
 * Adds a worker host to the running lab and its swarm, set up as startLab sets up its hosts
 * (own network and UTS namespace on the lab bridge, own dockerd, the lab's images loaded),
 * and joins it with the worker token. It carries no node labels. teardown() removes it with
 * the rest (everything is found by the lab's fixed names). Returns seconds per step.
 */
export async function addHost(lab: Lab, name: string): Promise<{ host: LabHost; setupSeconds: number; loadSeconds: number; joinSeconds: number }> {
    if (lab.hosts.some((h) => h.name === name)) throw new Error(`lab host ${name} exists`);
    const index = lab.hosts.length;
    const prefix = lab.bridgeIp.split(".").slice(0, 3).join(".");
    const ip = `${prefix}.${11 + index}`;
    let t = Date.now();
    const ns = hostNetns(name);
    await run("ip", ["netns", "add", ns]);
    await run("ip", ["link", "add", vethName(index), "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await run("ip", ["link", "set", vethName(index), "master", BRIDGE, "up"]);
    await run("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
    await run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    fs.writeFileSync(utsPath(name), "");
    await run("unshare", [`--uts=${utsPath(name)}`, "hostname", name]);
    const state = hostStateDir(name);
    fs.mkdirSync(state, { recursive: true });
    fs.mkdirSync(hostDataRoot(name), { recursive: true });
    fs.writeFileSync(path.join(state, "daemon.json"), JSON.stringify({ "deprecated-key-path": path.join(state, "key.json") }, null, 2) + "\n");
    const docker = new Docker({ socketPath: hostSocket(name) });
    const host: LabHost = { name, hostname: name, ip, socketPath: hostSocket(name), role: "worker", nodeId: "", netnsPath: netnsPath(name), docker };
    lab.hosts.push(host);
    await startDaemon(lab, name);
    const setupSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    await run(dockerCli(), ["-H", `unix://${hostSocket(name)}`, "load", "-q", "-i", lab.images.tarball], { timeoutMs: 300_000 });
    const loadSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    const info = (await lab.manager.docker.swarmInspect()) as { JoinTokens: { Worker: string } };
    await docker.swarmJoin({ ListenAddr: `${ip}:2377`, AdvertiseAddr: `${ip}:2377`, RemoteAddrs: [`${lab.manager.ip}:2377`], JoinToken: info.JoinTokens.Worker });
    host.nodeId = await waitFor(
        `${name} ready in the swarm`,
        async () => {
            const nodes = (await lab.manager.docker.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string }; Status?: { State?: string } }>;
            return nodes.find((x) => x.Description?.Hostname === name && x.Status?.State === "ready")?.ID;
        },
        60_000,
        250,
    );
    return { host, setupSeconds, loadSeconds, joinSeconds: (Date.now() - t) / 1000 };
}
