/**
 * Forming a Docker swarm through the Engine API: init on the first manager, join the
 * others with the right token, wait until every node is Ready. Plain async functions over
 * a dockerode-like engine object: no Pulumi here, so the same code runs in a Pulumi dynamic
 * provider ({@link SwarmFormation}), in the lab, and in unit tests against a fake engine.
 *
 * Every step is idempotent (a re-run against a formed swarm changes nothing), retried with
 * bounded backoff, and bounded by one overall deadline: the functions never hang. Errors
 * name the host and what was seen. Join tokens are secrets: they are never logged and are
 * scrubbed from every error message.
 */
import type Dockerode from "dockerode";
import type { DockerEndpoint } from "../hosts/types";
import { DeadlineError, LastSeen, describeAnswer, withTimeout } from "./poll";

/** The part of a dockerode `Docker` object that swarm formation uses. */
export interface SwarmEngine {
    /** `GET /info`. */
    info(): Promise<unknown>;
    /** `POST /swarm/init`; resolves to the new node id. */
    swarmInit(options: Record<string, unknown>): Promise<unknown>;
    /** `POST /swarm/join`. */
    swarmJoin(options: Record<string, unknown>): Promise<unknown>;
    /** `GET /swarm` (managers only). */
    swarmInspect(): Promise<unknown>;
    /** `GET /nodes` (managers only). */
    listNodes(): Promise<unknown>;
}

/** The manager that initialises (or already runs) the swarm. */
export interface FormManager {
    /** Host name as the plan knows it; used in errors and as the key of the result. */
    readonly name: string;
    readonly docker: SwarmEngine;
    /** Address the other nodes reach this manager at (IP, or IP:port; port 2377 if absent). */
    readonly advertiseAddr: string;
    /** Swarm listen address. Default `0.0.0.0:2377`. */
    readonly listenAddr?: string;
}

/** A node that joins the manager's swarm. */
export interface FormNode extends FormManager {
    readonly role: "manager" | "worker";
}

export interface FormSwarmOptions {
    readonly manager: FormManager;
    /** Every other node; managers are joined one at a time (Raft), then workers together. */
    readonly others: readonly FormNode[];
    /** Overall deadline for the whole formation, in milliseconds. Default 300 000 (5 min). */
    readonly timeoutMs?: number;
    /** First retry delay in ms, doubled after each failure. Default 250. */
    readonly retryDelayMs?: number;
    /** Longest retry delay in ms. Default 5 000. */
    readonly maxRetryDelayMs?: number;
    /** Progress messages (never carry tokens). Default: silent. */
    readonly log?: (message: string) => void;
}

export interface SwarmFormationResult {
    /** Swarm cluster id. */
    readonly clusterId: string;
    /** Swarm node id of every host, by host name (the manager included). */
    readonly nodeIds: Record<string, string>;
}

/** Thrown when the swarm cannot be formed; the message names the host and what was seen. */
export class SwarmFormationError extends Error {
    constructor(message: string) {
        super(message);
        // Set explicitly: Pulumi's closure serialisation of the dynamic provider rewrites
        // `super(message)` so that the message would be lost.
        this.message = message;
        this.name = "SwarmFormationError";
    }
}

/** The swarm port every node listens on. */
export const SWARM_PORT = 2377;

// ----------------------------------------------------------------------------------------
// Engine API shapes (only the fields used here; everything else is ignored)

interface SwarmLocalInfo {
    NodeID?: string;
    LocalNodeState?: string;
    ControlAvailable?: boolean;
    Error?: string;
    Cluster?: { ID?: string };
}

interface NodeListEntry {
    ID?: string;
    Description?: { Hostname?: string };
    Spec?: { Role?: string };
    Status?: { State?: string; Message?: string };
    ManagerStatus?: { Reachability?: string };
}

/** The `Swarm` part of a `GET /info` answer; an error saying what came instead (retried). */
function swarmInfo(info: unknown): SwarmLocalInfo {
    const s = (info as { Swarm?: SwarmLocalInfo } | undefined)?.Swarm;
    if (!s || typeof s !== "object" || Buffer.isBuffer(info)) throw new Error(`GET /info answered ${describeAnswer(info)}`);
    return s;
}

/** `ip` → `ip:2377`; `ip:port` and `[v6]:port` unchanged. */
export function withSwarmPort(addr: string): string {
    if (/^\[.*\]:\d+$/.test(addr) || /^[^:]+:\d+$/.test(addr)) return addr;
    if (addr.includes(":")) return `[${addr}]:${SWARM_PORT}`; // bare IPv6
    return `${addr}:${SWARM_PORT}`;
}

// ----------------------------------------------------------------------------------------
// Deadline, retries, secret scrubbing

class Deadline {
    private readonly end: number;
    constructor(readonly totalMs: number) {
        this.end = Date.now() + totalMs;
    }
    remaining(): number {
        return this.end - Date.now();
    }
    expired(): boolean {
        return this.remaining() <= 0;
    }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Rejects when `p` does not settle before the deadline (a hung connection must not hang us).
 * A call made at or after the deadline (an attempt that started late on a busy machine) is
 * cut off like one that ran out of time: a {@link DeadlineError}, which the timeout error
 * notes after what the earlier attempts saw instead of in place of it.
 */
function bounded<T>(p: Promise<T>, d: Deadline, what: string): Promise<T> {
    const ms = d.remaining();
    if (ms <= 0) {
        p.catch(() => undefined);
        return Promise.reject(new DeadlineError(`${what} was not made: no time left`));
    }
    return withTimeout(p, ms, what);
}

/** A message for an engine error, with every secret replaced. Never the error object itself. */
function describe(e: unknown, secrets: readonly string[]): string {
    let msg: string;
    if (e instanceof Error) msg = e.message;
    else if (typeof e === "string") msg = e;
    else {
        try {
            msg = JSON.stringify(e) ?? String(e);
        } catch {
            msg = String(e);
        }
    }
    return scrub(msg.trim(), secrets);
}

function scrub(text: string, secrets: readonly string[]): string {
    let out = text;
    // Whole tokens first, then their long parts (`SWMTKN-1-<CA digest>-<secret>`), in case
    // an engine echoes a token cut up or re-encoded.
    const parts = secrets.flatMap((s) => s.split("-").filter((p) => p.length >= 16));
    for (const s of [...secrets, ...parts]) if (s) out = out.split(s).join("<redacted>");
    // Anything shaped like a swarm join token, even one we were not told about.
    return out.replace(/SWMTKN-[0-9A-Za-z-]+/g, "<redacted>");
}

interface Step<T> {
    /** One attempt: a value ends the step; `undefined` means "not yet, try again". */
    readonly attempt: () => Promise<T | undefined>;
    /** What the step waits for, for the timeout error (`"manager: swarm init"`). */
    readonly what: string;
    /** Describes what was last seen, for the timeout error. */
    readonly lastSeen: () => string;
}

/**
 * Runs `attempt` until it returns a value, with exponential backoff, until the deadline.
 * A {@link SwarmFormationError} thrown by an attempt is final (no retry); any other error
 * is retried and its (scrubbed) message is reported if the deadline passes.
 */
async function retry<T>(step: Step<T>, d: Deadline, o: RetryOpts): Promise<T> {
    let delay = o.initial;
    // A call cut off at the deadline is noted after what the attempts before it saw, not instead of it.
    const seen = new LastSeen("nothing yet");
    for (let attemptNo = 1; ; attemptNo++) {
        try {
            const v = await step.attempt();
            if (v !== undefined) return v;
            seen.set(`last seen: ${step.lastSeen()}`);
        } catch (e) {
            if (e instanceof SwarmFormationError) throw e;
            const error = describe(e, o.secrets());
            // A cut-off reads "... (then <call> did not answer within ...)" after an earlier observation.
            seen.set(e instanceof DeadlineError ? error : `last error: ${error}`, e);
        }
        if (d.remaining() <= delay) {
            throw new SwarmFormationError(
                scrub(`timed out after ${d.totalMs} ms (${attemptNo} attempts) waiting for ${step.what}; ${String(seen)}`, o.secrets()),
            );
        }
        await sleep(delay);
        delay = Math.min(delay * 2, o.max);
    }
}

interface RetryOpts {
    readonly initial: number;
    readonly max: number;
    readonly secrets: () => readonly string[];
}

// ----------------------------------------------------------------------------------------
// formSwarm

/**
 * Forms the swarm: `swarm init` on `manager` (or reuses the swarm it already manages),
 * joins every node of `others` (skipping nodes already in this swarm), then waits until
 * every node is Ready (and every manager reachable) on the manager.
 *
 * Throws {@link SwarmFormationError} when a node belongs to another swarm, when a node is
 * in the swarm with the wrong role, when the manager is a worker, or when the deadline
 * passes (naming the hosts that are missing and what was seen).
 */
export async function formSwarm(opts: FormSwarmOptions): Promise<SwarmFormationResult> {
    const { manager, others } = opts;
    const log = opts.log ?? (() => undefined);
    const d = new Deadline(opts.timeoutMs ?? 300_000);
    let tokens: string[] = [];
    const ro: RetryOpts = { initial: opts.retryDelayMs ?? 250, max: opts.maxRetryDelayMs ?? 5_000, secrets: () => tokens };

    const names = [manager.name, ...others.map((o) => o.name)];
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new SwarmFormationError(`host name ${dup} appears twice; every host needs its own name.`);

    // 1. The manager: init, or reuse the swarm it already manages.
    let mgrSeen = "no answer yet";
    const mgrNodeId = await retry<string>(
        {
            what: `${manager.name} (manager) to initialise the swarm`,
            lastSeen: () => mgrSeen,
            attempt: async () => {
                const s = swarmInfo(await bounded(manager.docker.info(), d, `${manager.name}: GET /info`));
                mgrSeen = `swarm state ${s.LocalNodeState ?? "unknown"}${s.Error ? ` (${s.Error})` : ""}`;
                switch (s.LocalNodeState) {
                    case "active":
                        if (!s.ControlAvailable) {
                            throw new SwarmFormationError(
                                `${manager.name} should initialise the swarm but is already a worker in a swarm; ` +
                                    `run \`docker swarm leave --force\` on it, or destroy and recreate the host.`,
                            );
                        }
                        log(`${manager.name}: already manages swarm ${s.Cluster?.ID ?? "?"}; reusing it`);
                        return s.NodeID;
                    case "inactive": {
                        log(`${manager.name}: swarm init (advertise ${manager.advertiseAddr})`);
                        await bounded(
                            manager.docker.swarmInit({
                                ListenAddr: manager.listenAddr ?? `0.0.0.0:${SWARM_PORT}`,
                                AdvertiseAddr: withSwarmPort(manager.advertiseAddr),
                            }),
                            d,
                            `${manager.name}: POST /swarm/init`,
                        );
                        return undefined; // confirmed by the next /info
                    }
                    case "locked":
                        throw new SwarmFormationError(
                            `${manager.name}'s swarm is locked (autolock); unlock it with \`docker swarm unlock\` and retry.`,
                        );
                    default:
                        return undefined; // pending, error, or no answer: look again
                }
            },
        },
        d,
        ro,
    );

    // 2. Cluster id and join tokens (the tokens are secrets from here on).
    let swSeen = "no answer yet";
    const sw = await retry<{ ID: string; Worker: string; Manager: string }>(
        {
            what: `${manager.name} to return the swarm's join tokens`,
            lastSeen: () => swSeen,
            attempt: async () => {
                const r = (await bounded(manager.docker.swarmInspect(), d, `${manager.name}: GET /swarm`)) as
                    | { ID?: string; JoinTokens?: { Worker?: string; Manager?: string } }
                    | undefined;
                const w = r?.JoinTokens?.Worker;
                const m = r?.JoinTokens?.Manager;
                // Never the answer itself: it carries the tokens.
                swSeen = Buffer.isBuffer(r) || typeof r !== "object" ? `GET /swarm answered ${describeAnswer(r).split(":")[0]}` : "GET /swarm without a cluster id and join tokens";
                if (w) tokens = [...tokens, w];
                if (m) tokens = [...tokens, m];
                return r?.ID && w && m ? { ID: r.ID, Worker: w, Manager: m } : undefined;
            },
        },
        d,
        ro,
    );

    const listNodes = async (): Promise<NodeListEntry[]> => {
        const r = await bounded(manager.docker.listNodes(), d, `${manager.name}: GET /nodes`);
        if (!Array.isArray(r)) throw new Error(`${manager.name}: GET /nodes answered ${describeAnswer(r)}, not a list`);
        return r as NodeListEntry[];
    };

    // 3. Every other node: join, or skip it when it already is in this swarm.
    const nodeIds: Record<string, string> = { [manager.name]: mgrNodeId };
    const join = async (node: FormNode): Promise<void> => {
        let seen = "no answer yet";
        let joinSent = false;
        nodeIds[node.name] = await retry<string>(
            {
                what: `${node.name} (${node.role}) to join the swarm of ${manager.name}`,
                lastSeen: () => seen,
                attempt: async () => {
                    const s = swarmInfo(await bounded(node.docker.info(), d, `${node.name}: GET /info`));
                    seen = `swarm state ${s.LocalNodeState ?? "unknown"}${s.Error ? ` (${s.Error})` : ""}`;
                    switch (s.LocalNodeState) {
                        case "active": {
                            const mine = (await listNodes()).find((n) => n.ID === s.NodeID);
                            const otherCluster = s.Cluster?.ID !== undefined && s.Cluster.ID !== sw.ID;
                            // Just joined by us: the manager lists it in a moment.
                            if (!mine && joinSent && !otherCluster) return undefined;
                            if (!mine || otherCluster) {
                                throw new SwarmFormationError(
                                    `${node.name} is already part of another swarm (node ${s.NodeID ?? "?"}` +
                                        `${s.Cluster?.ID ? `, cluster ${s.Cluster.ID}` : ""}; this swarm is ${sw.ID}); ` +
                                        `run \`docker swarm leave --force\` on it, or destroy and recreate the host.`,
                                );
                            }
                            const role = mine.Spec?.Role;
                            if (role && role !== node.role) {
                                throw new SwarmFormationError(
                                    `${node.name} is in this swarm as a ${role} but is planned as a ${node.role}; ` +
                                        `run \`docker node ${node.role === "manager" ? "promote" : "demote"} ${s.NodeID}\` on ${manager.name}.`,
                                );
                            }
                            return s.NodeID;
                        }
                        case "inactive":
                            log(`${node.name}: joining as ${node.role} (advertise ${node.advertiseAddr})`);
                            joinSent = true;
                            await bounded(
                                node.docker.swarmJoin({
                                    ListenAddr: node.listenAddr ?? `0.0.0.0:${SWARM_PORT}`,
                                    AdvertiseAddr: withSwarmPort(node.advertiseAddr),
                                    RemoteAddrs: [withSwarmPort(manager.advertiseAddr)],
                                    JoinToken: node.role === "manager" ? sw.Manager : sw.Worker,
                                }),
                                d,
                                `${node.name}: POST /swarm/join`,
                            );
                            return undefined;
                        case "locked":
                            throw new SwarmFormationError(
                                `${node.name}'s swarm is locked (autolock); unlock it with \`docker swarm unlock\` and retry.`,
                            );
                        default:
                            return undefined;
                    }
                },
            },
            d,
            ro,
        );
    };
    for (const m of others.filter((o) => o.role === "manager")) await join(m);
    const failed = (await Promise.allSettled(others.filter((o) => o.role !== "manager").map(join)))
        .filter((r): r is PromiseRejectedResult => r.status === "rejected")
        .map((r) => describe(r.reason, tokens));
    if (failed.length === 1) throw new SwarmFormationError(failed[0]);
    if (failed.length > 1) throw new SwarmFormationError(`${failed.length} hosts did not join:\n  - ${failed.join("\n  - ")}`);

    // 4. Every node Ready (and every manager reachable), seen from the manager.
    const want = [{ name: manager.name, role: "manager" as const }, ...others];
    let missing: string[] = want.map((w) => `${w.name} (not listed yet)`);
    await retry<true>(
        {
            what: "every node to be Ready",
            lastSeen: () => `not ready: ${missing.join(", ")}`,
            attempt: async () => {
                const nodes = await listNodes();
                missing = [];
                for (const w of want) {
                    const n = nodes.find((x) => x.ID === nodeIds[w.name]);
                    if (!n) missing.push(`${w.name} (not listed)`);
                    else if (n.Status?.State !== "ready") missing.push(`${w.name} (${n.Status?.State ?? "no state"}${n.Status?.Message ? `: ${n.Status.Message}` : ""})`);
                    else if (w.role === "manager" && n.ManagerStatus?.Reachability !== "reachable")
                        missing.push(`${w.name} (manager ${n.ManagerStatus?.Reachability ?? "without manager status"})`);
                }
                return missing.length === 0 ? true : undefined;
            },
        },
        d,
        ro,
    );
    log(`swarm ${sw.ID}: ${want.length} nodes ready`);
    return { clusterId: sw.ID, nodeIds };
}

// ----------------------------------------------------------------------------------------
// Connecting to an engine

/** dockerode constructor options for a {@link DockerEndpoint}. Throws on a malformed endpoint. */
export function dockerOptions(ep: DockerEndpoint, opts: { timeoutMs?: number } = {}): Dockerode.DockerOptions {
    const timeout = opts.timeoutMs;
    const host = ep.host;
    if (host.startsWith("unix://") || host.startsWith("npipe://")) {
        const socketPath = host.replace(/^(unix|npipe):\/\//, "");
        if (!socketPath) throw new Error(`Docker endpoint ${host} has no socket path; write e.g. unix:///var/run/docker.sock.`);
        return { socketPath, timeout };
    }
    const m = /^tcp:\/\/([^/:]+|\[[0-9a-fA-F:]+\]):(\d+)\/?$/.exec(host);
    if (!m) throw new Error(`Docker endpoint ${host} is neither unix:///<socket> nor tcp://<host>:<port>.`);
    const tls = { caPem: ep.caPem, certPem: ep.certPem, keyPem: ep.keyPem };
    const set = Object.entries(tls).filter(([, v]) => !!v).map(([k]) => k);
    if (set.length === 0) return { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]), protocol: "http", timeout };
    if (set.length !== 3) {
        const absent = Object.keys(tls).filter((k) => !set.includes(k));
        throw new Error(`Docker endpoint ${host} has ${set.join(", ")} but not ${absent.join(", ")}; TLS needs all three (or none).`);
    }
    return {
        host: m[1].replace(/^\[|\]$/g, ""),
        port: Number(m[2]),
        protocol: "https",
        ca: tls.caPem,
        cert: tls.certPem,
        key: tls.keyPem,
        timeout,
    };
}

/**
 * A dockerode client for a {@link DockerEndpoint}: `unix://` (socket), `tcp://host:port`
 * (plain), or `tcp://host:port` with CA, client certificate and key (TLS, verified).
 * dockerode is loaded on first use, so code that only imports this module stays light.
 */
export function connectDocker(ep: DockerEndpoint, opts: { timeoutMs?: number } = {}): Dockerode {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Docker = require("dockerode") as typeof Dockerode;
    return new Docker(dockerOptions(ep, opts));
}
