import { DockerApi, SwarmNode } from "./api";
import { DeadlineError, describeAnswer, errorMessage, formatDuration, pollUntil, withTimeout } from "./poll";

/** A host and the swarm node labels it must carry. */
export interface HostLabels {
    /** Host name: matched against the swarm node's hostname (`Description.Hostname`). */
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
}

/** Label keys the caller owns: on the listed hosts, owned labels that are not wanted are removed. */
export interface OwnedLabels {
    readonly keys?: readonly string[];
    readonly prefixes?: readonly string[];
}

export interface ApplyNodeLabelsOptions {
    /**
     * Bound of the whole call: waiting for every host to be a Ready swarm node, then setting
     * the labels. Every request to the Docker API is cut off at this deadline.
     */
    readonly timeoutMs: number;
    /**
     * Labels this caller manages. An owned label a host carries but should not (e.g.
     * `geth-swarm.boot` after the boot host moved) is removed; labels not owned are never
     * touched. Default: none owned (labels are only added or overwritten).
     */
    readonly owned?: OwnedLabels;
    /** First pause between polls. Default 250 ms (backoff x1.6 up to 5 s). */
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
    /** Told which hosts are not Ready swarm nodes yet, after each poll that found some. Default: nothing. */
    readonly onProgress?: (message: string) => void;
}

/** What {@link applyNodeLabels} did for one host. */
export interface NodeLabelResult {
    readonly host: string;
    readonly nodeId: string;
    /** False when the node already carried every label (no update sent). */
    readonly updated: boolean;
}

/** Thrown when hosts do not become Ready swarm nodes in time; names them and what was seen. */
export class SwarmNodesNotReadyError extends Error {
    constructor(
        readonly missing: readonly string[],
        readonly seen: readonly string[],
        timeoutMs: number,
    ) {
        const message =
            `swarm nodes not ready after ${formatDuration(timeoutMs)}: ${missing.join(", ")}. ` +
            `Swarm nodes seen: ${seen.length === 0 ? "none" : seen.join(", ")}. ` +
            `Check that these hosts joined the swarm and that their hostname equals the host name.`;
        super(message);
        // Set explicitly: in Pulumi's serialised dynamic provider, super() does not set it.
        this.message = message;
        this.name = "SwarmNodesNotReadyError";
    }
}

function describeNode(n: SwarmNode): string {
    return `${n.Description?.Hostname ?? "(no hostname)"} (${n.Status?.State ?? "unknown"}, ${n.Spec.Role ?? "?"}, id ${n.ID.slice(0, 12)})`;
}

/** Why `host` is not yet a usable node, or the node. */
function findNode(nodes: readonly SwarmNode[], host: string): SwarmNode | string {
    const named = nodes.filter((n) => n.Description?.Hostname === host);
    if (named.length === 0) return `${host} (not in the swarm)`;
    const ready = named.filter((n) => n.Status?.State === "ready");
    if (ready.length === 0) return `${host} (${named.map((n) => n.Status?.State ?? "unknown").join("/")})`;
    if (ready.length > 1) return `${host} (${ready.length} ready nodes share this hostname: ${ready.map((n) => n.ID.slice(0, 12)).join(", ")})`;
    return ready[0];
}

function isOwned(key: string, owned: OwnedLabels | undefined): boolean {
    return (owned?.keys ?? []).includes(key) || (owned?.prefixes ?? []).some((p) => key.startsWith(p));
}

/** The labels the node should carry, or undefined when it already does. */
function desiredLabels(node: SwarmNode, want: Readonly<Record<string, string>>, owned: OwnedLabels | undefined): Record<string, string> | undefined {
    const have = node.Spec.Labels ?? {};
    const next: Record<string, string> = {};
    for (const [k, v] of Object.entries(have)) if (!isOwned(k, owned) || k in want) next[k] = v;
    Object.assign(next, want);
    const same = Object.keys(next).length === Object.keys(have).length && Object.entries(next).every(([k, v]) => have[k] === v);
    return same ? undefined : next;
}

/** The node list of `GET /nodes`, or an error saying what came instead. */
function asNodeList(v: unknown): SwarmNode[] {
    const shaped = (n: unknown): n is SwarmNode => {
        const x = n as Partial<SwarmNode> | null;
        return !!x && typeof x === "object" && typeof x.ID === "string" && !!x.Spec && typeof x.Spec === "object" && typeof x.Version?.Index === "number";
    };
    if (!Array.isArray(v) || !v.every(shaped)) throw new Error(`GET /nodes answered ${describeAnswer(v)}`);
    return v;
}

/** Docker's answer when the version index is stale: read again and retry. */
function isOutOfSequence(e: unknown): boolean {
    return /out of sequence|version/i.test(errorMessage(e)) && !/no such node/i.test(errorMessage(e));
}

/**
 * Wait (bounded, polling with backoff) until every host is a Ready swarm node, matched
 * by node hostname, then set its labels: read-modify-write of the node spec with the
 * node's version index, keeping labels set by others, overwriting ours and removing owned
 * labels that are no longer wanted ({@link ApplyNodeLabelsOptions.owned}). A node that
 * already carries exactly the labels is not updated. A stale version (another writer got in
 * between) is retried with a fresh read.
 *
 * @throws SwarmNodesNotReadyError naming the hosts that did not show up and the nodes seen.
 */
export async function applyNodeLabels(
    docker: DockerApi,
    hosts: readonly HostLabels[],
    opts: ApplyNodeLabelsOptions,
): Promise<NodeLabelResult[]> {
    let lastSeen: SwarmNode[] = [];
    let missing: string[] = hosts.map((h) => h.name);
    let lastError: string | undefined;
    const deadline = Date.now() + opts.timeoutMs;
    const ready = await pollUntil(
        async ({ bound }) => {
            let nodes: SwarmNode[];
            try {
                nodes = asNodeList(await bound(docker.listNodes(), "GET /nodes"));
                lastError = undefined;
            } catch (e) {
                // A listing cut off by the deadline does not hide the error an earlier one saw.
                if (!(e instanceof DeadlineError) || lastError === undefined) lastError = errorMessage(e);
                return undefined;
            }
            lastSeen = nodes;
            const found = hosts.map((h) => findNode(nodes, h.name));
            missing = found.filter((f): f is string => typeof f === "string");
            if (missing.length === 0) return found as SwarmNode[];
            opts.onProgress?.(`waiting for Ready swarm nodes: ${missing.join(", ")}`);
            return undefined;
        },
        opts,
    );
    if (!ready) {
        const seen = lastSeen.map(describeNode);
        if (lastError) seen.push(`(last error listing nodes: ${lastError})`);
        throw new SwarmNodesNotReadyError(missing, seen, opts.timeoutMs);
    }

    const results: NodeLabelResult[] = [];
    for (let i = 0; i < hosts.length; i++) {
        const host = hosts[i];
        let node = ready[i];
        for (let attempt = 0; ; attempt++) {
            const labels = desiredLabels(node, host.labels, opts.owned);
            if (!labels) {
                results.push({ host: host.name, nodeId: node.ID, updated: false });
                break;
            }
            const spec = { ...node.Spec, Labels: labels };
            try {
                await withTimeout(
                    docker.getNode(node.ID).update({ _query: { version: node.Version.Index }, _body: spec }),
                    deadline - Date.now(),
                    `POST /nodes/${node.ID}/update`,
                );
                results.push({ host: host.name, nodeId: node.ID, updated: true });
                break;
            } catch (e) {
                if (attempt >= 4 || !isOutOfSequence(e)) {
                    throw new Error(`setting labels on swarm node ${host.name} (${node.ID}) failed: ${errorMessage(e)}`);
                }
                let fresh: SwarmNode | undefined;
                try {
                    fresh = asNodeList(await withTimeout(docker.listNodes(), deadline - Date.now(), "GET /nodes")).find((n) => n.ID === node.ID);
                } catch (e2) {
                    throw new Error(`setting labels on swarm node ${host.name} (${node.ID}) failed: re-reading the node: ${errorMessage(e2)}`);
                }
                if (!fresh) throw new Error(`swarm node ${host.name} (${node.ID}) left the swarm while its labels were being set.`);
                node = fresh;
            }
        }
    }
    return results;
}

/** `GET /nodes`, bounded: the swarm's nodes, or an error naming what came instead. */
export async function listSwarmNodes(docker: Pick<DockerApi, "listNodes">, timeoutMs: number): Promise<SwarmNode[]> {
    return asNodeList(await withTimeout(docker.listNodes(), timeoutMs, "GET /nodes"));
}

/**
 * The hosts whose swarm node does not carry the labels {@link applyNodeLabels} would set
 * (with `owned`), or is not a single Ready node, each with why. Empty when every host's does.
 */
export function nodeLabelDrift(nodes: readonly SwarmNode[], hosts: readonly HostLabels[], owned?: OwnedLabels): string[] {
    return hosts.flatMap((h) => {
        const node = findNode(nodes, h.name);
        if (typeof node === "string") return [node];
        const want = desiredLabels(node, h.labels, owned);
        if (!want) return [];
        const have = node.Spec.Labels ?? {};
        const differ = [...new Set([...Object.keys(want), ...Object.keys(have)])].filter((k) => want[k] !== have[k]).sort();
        return [`${h.name} (labels ${differ.join(", ")} differ)`];
    });
}

/**
 * The hosts that are not a single Ready swarm node with the given role, each with why.
 * Empty when the swarm has every host as planned.
 */
export function swarmMembershipDrift(nodes: readonly SwarmNode[], hosts: readonly { name: string; role: string }[]): string[] {
    return hosts.flatMap((h) => {
        const node = findNode(nodes, h.name);
        if (typeof node === "string") return [node];
        return node.Spec.Role === h.role ? [] : [`${h.name} (a ${node.Spec.Role ?? "?"}, planned as a ${h.role})`];
    });
}
