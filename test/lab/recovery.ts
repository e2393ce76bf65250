// Recovery helpers for the lab's reliability tests: fast polls, the highest head, task IDs
// of both stacks, new containers of a service on a host, whether the swarm brought a host's
// geth back after its daemon restarted, and how often the start script initialised a datadir.
import { DATA_DIR, INITS_FILE, PEERLESS_LIMIT_SECONDS } from "../../stacks";
import type { Network, NodeView } from "./deploy";
import { isView } from "./deploy";
import { waitFor } from "./exec";

export const secondsSince = (t: number) => Math.round((Date.now() - t) / 100) / 10;

/** Polls fast (the figures are recovery times). */
export const until = <T>(what: string, probe: () => Promise<T | undefined>, ms: number) => waitFor(what, probe, ms, 250);

/**
 * Bound for a wait that a geth left with no peer may need: the start script's watchdog
 * stops it after {@link PEERLESS_LIMIT_SECONDS} alone, then swarm starts it again and it
 * bonds with the bootnode (a minute is ample even on a loaded machine).
 */
export const PEERLESS_RECOVERY_MS = (PEERLESS_LIMIT_SECONDS + 60) * 1000;

/**
 * Blocks after `from` up to `to` (inclusive) whose header time is later than `afterMs` (a
 * wall-clock instant, e.g. when a signer's host was stopped), read through `host`'s console.
 * A Clique signer seals a block no earlier than its header time, so a block whose time is
 * later than the instant a signer stopped cannot be that signer's: blocks it sealed just
 * before, which other nodes import a moment later (longer on a loaded machine), are not.
 */
export async function blocksAfter(net: Network, host: string, from: number, to: number, afterMs: number): Promise<Array<{ number: number; time: number }>> {
    const out: Array<{ number: number; time: number }> = [];
    for (let b = from + 1; b <= to; b++) {
        const time = Number(await net.console<number | string>(host, `eth.getBlock(${b}).timestamp`));
        if (time * 1000 > afterMs) out.push({ number: b, time });
    }
    return out;
}

/** The highest head among hosts that answer. */
export async function highest(net: Network, hosts: string[]): Promise<NodeView> {
    const views = (await net.viewAll(hosts)).filter(isView);
    if (views.length === 0) throw new Error(`none of ${hosts.join(", ")} answers`);
    return views.reduce((a, b) => (b.number > a.number ? b : a));
}

/** What the swarm says about the stacks' tasks, and the host's containers of them with exit codes. */
export async function diagnose(net: Network, host: string): Promise<string> {
    const l = net.lab;
    const ps = await l.docker(["service", "ps", "--no-trunc", "--format", "{{.Name}} {{.Node}} desired={{.DesiredState}} current={{.CurrentState}} {{.Error}}", net.bootnodeService, ...net.nodesSpec.services.map((s) => s.name)], { allowFailure: true });
    const nodes = await l.docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}}"], { allowFailure: true });
    const cs = await l.docker(["ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.Status}}"], { host, allowFailure: true });
    return `service ps:\n${ps.stdout}${ps.stderr}\nnodes:\n${nodes.stdout}\ncontainers on ${host}:\n${cs.stdout}${cs.stderr}`;
}

/** The running container of a service on a host, once it differs from `not`. */
export async function newContainer(net: Network, host: string, service: string, not: string | undefined, ms = 60_000): Promise<string> {
    try {
        return await until(
            `a new running ${service} container on ${host}`,
            async () => {
                const cs = await net.lab.host(host).docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`], status: ["running"] } });
                return cs.length === 1 && cs[0].Id !== not ? cs[0].Id : undefined;
            },
            ms,
        );
    } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await diagnose(net, host)}`);
    }
}

/**
 * Waits (up to `ms`) for the swarm to run the host's geth task again after its daemon came
 * back. If it does not, records why (task states) and does what an operator would to get it
 * back (`docker service update --force`, which restarts that service's tasks on every host),
 * so that the later cases still run on a whole network.
 */
export async function backAfterReboot(
    net: Network,
    host: string,
    ms: number,
): Promise<{ cameBack: boolean; seconds: number; stoppedContainers: string[]; diagnosis?: string; forcedUpdateSeconds?: number }> {
    const n = net;
    const svc = n.serviceOf(host);
    const t = Date.now();
    // How the daemon's shutdown ended the host's geth containers (exit 0 is a "complete" task).
    const ps = await n.lab.docker(["ps", "-a", "--filter", `label=com.docker.swarm.service.name=${svc}`, "--filter", "status=exited", "--format", "{{.Status}}"], { host });
    const stoppedContainers = ps.stdout.trim().split("\n").filter(Boolean);
    const cid = await waitFor(
        `${svc} running on ${host} again`,
        async () => {
            const cs = await n.lab.host(host).docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${svc}`], status: ["running"] } });
            return cs.length === 1 ? cs[0].Id : undefined;
        },
        ms,
        250,
    ).catch(() => undefined);
    if (cid) return { cameBack: true, seconds: secondsSince(t), stoppedContainers };
    const diagnosis = await diagnose(net, host);
    const tf = Date.now();
    await n.lab.docker(["service", "update", "--force", "--detach=false", svc], { timeoutMs: 120_000 });
    await newContainer(net, host, svc, undefined);
    return { cameBack: false, seconds: secondsSince(t), stoppedContainers, diagnosis, forcedUpdateSeconds: secondsSince(tf) };
}

/** Task IDs (running) of every service of both stacks, by service and node. */
export async function taskIds(net: Network): Promise<Record<string, string>> {
    const n = net;
    const out: Record<string, string> = {};
    for (const svc of [n.bootnodeService, ...n.nodesSpec.services.map((s) => s.name)]) {
        for (const t of await n.runningTasks(svc)) out[`${svc}@${n.lab.hosts.find((h) => h.nodeId === t.nodeId)?.name ?? t.nodeId}`] = t.id;
    }
    return out;
}

/**
 * How often the host's geth datadir was initialised: the lines of its init record
 * (`INITS_FILE`, written by the start script into the data volume), read through the host's
 * running geth container. Unlike container logs it survives containers being replaced.
 */
export async function datadirInits(net: Network, host: string): Promise<string[]> {
    const cid = await net.container(host);
    const r = await net.lab.docker(["exec", cid, "cat", `${DATA_DIR}/${INITS_FILE}`], { host });
    return r.stdout.split("\n").filter((l) => l.trim() !== "");
}

/**
 * How often the start script initialised the datadir, per container of the host's geth service
 * (oldest first): from logs, while they last. A figure, not a check: a container the swarm has
 * marked for removal meanwhile has no logs to read (`inits: "logs gone"`); `datadirInits` is the check.
 */
export async function initCounts(net: Network, host: string): Promise<Array<{ id: string; running: boolean; inits: number | "logs gone" }>> {
    const n = net;
    const cs = await n.lab.host(host).docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.name=${n.serviceOf(host)}`] } });
    const out: Array<{ id: string; running: boolean; inits: number | "logs gone"; created: number }> = [];
    for (const c of cs) {
        const logs = await n.lab.docker(["logs", c.Id], { host, allowFailure: true });
        const inits = logs.code === 0 ? (logs.stdout + logs.stderr).split("\n").filter((l) => /geth-swarm: initialising/.test(l)).length : "logs gone";
        out.push({ id: c.Id.slice(0, 12), running: c.State === "running", inits, created: c.Created });
    }
    return out.sort((a, b) => a.created - b.created).map(({ created: _c, ...r }) => r);
}

