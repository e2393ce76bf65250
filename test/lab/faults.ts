// Faults to inject into a running lab: a host's Docker daemon going down and coming back
// (what a host reboot does to the swarm: its containers stop, its engine and swarm agent
// restart from the same data root), and a host cut off the lab bridge (a network partition).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { LAB_ENV, run, sleep, waitFor } from "./exec";
import type { Lab } from "./hosts";
import { CGROUP_PARENT, hostDataRoot, hostSocket, hostStateDir, netnsPath, utsPath, vethName } from "./paths";

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
    const state = hostStateDir(name);
    const config = path.join(state, "daemon.json");
    const logFile = path.join(state, "dockerd.log");
    const fd = fs.openSync(logFile, "a");
    const t = Date.now();
    const child = spawn(
        "nsenter",
        [
            `--net=${netnsPath(name)}`,
            `--uts=${utsPath(name)}`,
            "--",
            "dockerd",
            "--config-file",
            config,
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
    await waitFor(
        `dockerd of lab host ${name} to answer again`,
        async () => {
            if (exited) throw new Error(`dockerd ${exited}; see ${logFile}`);
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
