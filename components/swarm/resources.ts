/**
 * Pulumi dynamic resources over the plain functions of this folder, so `pulumi up` runs
 * them at the right point of the deployment (never during `pulumi preview`):
 * {@link SwarmNodeLabels}, {@link SwarmNetworkId}, {@link BootnodeEnodeCheck} and {@link ChainReady}.
 * Each is a {@link runOnChangeProvider}: it runs again when its fingerprint changes, reports
 * what it waits for while it runs, and `pulumi refresh` observes whether what it checked
 * or set still holds.
 *
 * The state keeps the inputs the observation needs, the Docker endpoint among them: the
 * engine stores it as a secret (the input is one; `additionalSecretOutputs` says so too).
 * Fingerprints carry no key material.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DockerEndpoint } from "../hosts/types";
import { verifyBootnodeEnode } from "./bootnode";
import { waitForChain } from "./chain";
import { dynamicResourceUrn, runOnChangeProvider } from "./dynamic";
import { connectDocker } from "./form";
import { applyNodeLabels, listSwarmNodes, nodeLabelDrift } from "./labels";
import { swarmNetworkId } from "./networks";
import { waitForRollout } from "./rollout";
import { errorMessage } from "./poll";

const DEFAULT_TIMEOUT_SECONDS = 600;
const API_TIMEOUT_MS = 30_000;
/** Bound of what `pulumi refresh` observes per resource: a minute, or the resource's own bound when shorter. */
const OBSERVE_TIMEOUT_MS = 60_000;
const observeTimeoutMs = (timeoutSeconds: number | undefined) => Math.min(OBSERVE_TIMEOUT_MS, (timeoutSeconds ?? Infinity) * 1000);
/** Outputs that hold the Docker endpoint (its TLS key): stored encrypted. */
const ENDPOINT_SECRET: pulumi.CustomResourceOptions = { additionalSecretOutputs: ["endpoint"] };

// ------------------------------------------------------------------------------------------
// Node labels

export interface SwarmNodeLabelsArgs {
    /** The Docker API of a swarm manager (TLS material: pass it as a secret). */
    readonly endpoint: pulumi.Input<DockerEndpoint>;
    /** Every host (matched by swarm node hostname) and the labels it must carry. */
    readonly hosts: pulumi.Input<pulumi.Input<{ name: pulumi.Input<string>; labels: pulumi.Input<Record<string, pulumi.Input<string>>> }>[]>;
    /** How long to wait for the hosts to be Ready swarm nodes. Default 600. */
    readonly timeoutSeconds?: pulumi.Input<number>;
    /**
     * Label keys (exact, or by prefix) this resource manages: on the listed hosts, owned
     * labels that are not wanted are removed. Default: none (labels are only added or overwritten).
     */
    readonly owned?: pulumi.Input<{ keys?: pulumi.Input<pulumi.Input<string>[]>; prefixes?: pulumi.Input<pulumi.Input<string>[]> }>;
}

interface LabelInputs {
    endpoint: DockerEndpoint;
    hosts: { name: string; labels: Record<string, string> }[];
    timeoutSeconds?: number;
    owned?: { keys?: string[]; prefixes?: string[] };
}
interface LabelOuts {
    nodeIds: Record<string, string>;
}

/** The dynamic provider of {@link SwarmNodeLabels}. Exported for tests. */
export const swarmNodeLabelsProvider = runOnChangeProvider<LabelInputs, LabelOuts>({
    // Host names and labels: what, when changed, makes the labels be applied again.
    fingerprint: (i) => JSON.stringify([i.hosts.map((h) => [h.name, Object.entries(h.labels).sort()]), i.owned ?? {}]),
    id: (i) => `labels-${i.hosts.map((h) => h.name).join(",")}`.slice(0, 200),
    async run(i, progress) {
        const docker = connectDocker(i.endpoint, { timeoutMs: API_TIMEOUT_MS });
        const results = await applyNodeLabels(docker, i.hosts, {
            timeoutMs: (i.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
            owned: i.owned,
            onProgress: progress,
        });
        return { nodeIds: Object.fromEntries(results.map((r) => [r.host, r.nodeId])) };
    },
    async observe(state) {
        if (!state.endpoint) return {};
        try {
            const nodes = await listSwarmNodes(connectDocker(state.endpoint, { timeoutMs: API_TIMEOUT_MS }), observeTimeoutMs(state.timeoutSeconds));
            const drift = nodeLabelDrift(nodes, state.hosts, state.owned);
            return drift.length > 0 ? { drift: `node labels: ${drift.join(", ")}` } : {};
        } catch (e) {
            return { drift: `node labels: the manager ${state.endpoint.host} did not list its nodes: ${errorMessage(e)}` };
        }
    },
});

/**
 * Waits until every host is a Ready swarm node, then sets its node labels (placement
 * constraints of the stacks depend on them). Give it `dependsOn` the hosts.
 * `pulumi refresh` finds labels that were changed by hand; the next `pulumi up` sets them again.
 */
export class SwarmNodeLabels extends pulumi.dynamic.Resource {
    // `declare`: a class field would be set to undefined after the base constructor set the output.
    /** Swarm node id of every host, by host name. */
    declare public readonly nodeIds: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: SwarmNodeLabelsArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            swarmNodeLabelsProvider,
            name,
            {
                endpoint: args.endpoint, hosts: args.hosts, timeoutSeconds: args.timeoutSeconds, owned: args.owned,
                progressUrn: dynamicResourceUrn("SwarmNodeLabels", name, opts), nodeIds: undefined, fingerprint: undefined,
            },
            { ...opts, ...ENDPOINT_SECRET },
            "geth-swarm",
            "SwarmNodeLabels",
        );
    }
}

// ------------------------------------------------------------------------------------------
// Swarm network ID

export interface SwarmNetworkIdArgs {
    /** The Docker API of a swarm manager (TLS material: pass it as a secret). */
    readonly endpoint: pulumi.Input<DockerEndpoint>;
    /** The network, by name (`host`). */
    readonly name: pulumi.Input<string>;
    /** How long to wait for the manager to answer with the network. Default 600. */
    readonly timeoutSeconds?: pulumi.Input<number>;
}

interface NetworkIdInputs {
    endpoint: DockerEndpoint;
    name: string;
    timeoutSeconds?: number;
}
interface NetworkIdOuts {
    networkId: string;
}

/** The dynamic provider of {@link SwarmNetworkId}. Exported for tests. */
export const swarmNetworkIdProvider = runOnChangeProvider<NetworkIdInputs, NetworkIdOuts>({
    // The swarm ID of a network does not change while the swarm lives: never asked again for the same name.
    fingerprint: (i) => i.name,
    id: (_i, o) => o.networkId,
    replaceOn: (olds, news) => (olds.name !== news.name ? ["name"] : []),
    async run(i) {
        const docker = connectDocker(i.endpoint, { timeoutMs: API_TIMEOUT_MS });
        const networkId = await swarmNetworkId(docker, i.name, { timeoutMs: (i.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000, manager: i.endpoint.host });
        return { networkId };
    },
    async observe(state) {
        if (!state.endpoint) return {};
        try {
            const docker = connectDocker(state.endpoint, { timeoutMs: API_TIMEOUT_MS });
            const networkId = await swarmNetworkId(docker, state.name, { timeoutMs: observeTimeoutMs(state.timeoutSeconds), manager: state.endpoint.host });
            // A new ID (the swarm was formed anew) is what the services must now name.
            return { outs: { networkId } };
        } catch (e) {
            return { drift: `swarm network ${state.name}: ${errorMessage(e)}` };
        }
    },
});

/**
 * The swarm-scoped ID of a network, read from a swarm manager during `pulumi up` (see
 * {@link swarmNetworkId}): the ID the swarm stores in a service spec for the network, so
 * a `docker.Service` given it in `networksAdvanceds: [{ id }]` reads back what it was
 * given and a repeated `pulumi up` changes nothing. Needed for Docker's predefined `host`
 * network, whose swarm ID no resource creates and the local network's ID is not.
 * Give it `dependsOn` the hosts.
 */
export class SwarmNetworkId extends pulumi.dynamic.Resource {
    // `declare`: a class field would be set to undefined after the base constructor set the output.
    /** The network's name. */
    declare public readonly name: pulumi.Output<string>;
    /** The network's swarm-scoped ID (25 characters, e.g. `bael5p9zpd1mx79y4xt9kmx6s`). */
    declare public readonly networkId: pulumi.Output<string>;

    constructor(name: string, args: SwarmNetworkIdArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            swarmNetworkIdProvider,
            name,
            {
                endpoint: args.endpoint, name: args.name, timeoutSeconds: args.timeoutSeconds,
                progressUrn: dynamicResourceUrn("SwarmNetworkId", name, opts), networkId: undefined, fingerprint: undefined,
            },
            { ...opts, ...ENDPOINT_SECRET },
            "geth-swarm",
            "SwarmNetworkId",
        );
    }
}

// ------------------------------------------------------------------------------------------
// Bootnode enode check

export interface BootnodeEnodeCheckArgs {
    /** The Docker API of a swarm manager (TLS material: pass it as a secret). */
    readonly endpoint: pulumi.Input<DockerEndpoint>;
    /** The bootnode service (`boot_bootnode`). */
    readonly serviceName: pulumi.Input<string>;
    /** The enode URL derived from the node key; the running bootnode's node ID must equal its ID. */
    readonly expectedEnode: pulumi.Input<string>;
    /** How long to wait for the bootnode to report. Default 600. */
    readonly timeoutSeconds?: pulumi.Input<number>;
    /** Values whose change re-runs the check (e.g. the service id and the key secret's name). Default: none. */
    readonly triggers?: pulumi.Input<pulumi.Input<string>[]>;
}

interface EnodeInputs {
    endpoint: DockerEndpoint;
    serviceName: string;
    expectedEnode: string;
    timeoutSeconds?: number;
    triggers?: string[];
}
interface EnodeOuts {
    reportedEnode: string;
    nodeId: string;
}

/** The dynamic provider of {@link BootnodeEnodeCheck}. Exported for tests. */
export const bootnodeEnodeCheckProvider = runOnChangeProvider<EnodeInputs, EnodeOuts>({
    fingerprint: (i) => JSON.stringify([i.serviceName, i.expectedEnode, i.triggers ?? []]),
    id: (i, o) => `${i.serviceName}-${o.nodeId.slice(0, 16)}`,
    async run(i, progress) {
        const docker = connectDocker(i.endpoint, { timeoutMs: API_TIMEOUT_MS });
        const r = await verifyBootnodeEnode(docker, i.serviceName, i.expectedEnode, {
            timeoutMs: (i.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
            onProgress: progress,
        });
        return { reportedEnode: r.reported, nodeId: r.nodeId };
    },
    async observe(state) {
        if (!state.endpoint) return {};
        try {
            const docker = connectDocker(state.endpoint, { timeoutMs: API_TIMEOUT_MS });
            const r = await verifyBootnodeEnode(docker, state.serviceName, state.expectedEnode, { timeoutMs: observeTimeoutMs(state.timeoutSeconds) });
            return { outs: { reportedEnode: r.reported, nodeId: r.nodeId } };
        } catch (e) {
            return { drift: `bootnode ${state.serviceName}: ${errorMessage(e)}` };
        }
    },
});

/**
 * Reads the enode URL the running bootnode reports (its service logs, through the
 * manager's Docker API) and fails the deployment when its node ID is not the one derived
 * from the node key, or when it reports nothing in time. `pulumi refresh` reads it again.
 */
export class BootnodeEnodeCheck extends pulumi.dynamic.Resource {
    // `declare`: a class field would be set to undefined after the base constructor set the output.
    /** What the bootnode printed. */
    declare public readonly reportedEnode: pulumi.Output<string>;
    declare public readonly nodeId: pulumi.Output<string>;

    constructor(name: string, args: BootnodeEnodeCheckArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            bootnodeEnodeCheckProvider,
            name,
            {
                endpoint: args.endpoint, serviceName: args.serviceName, expectedEnode: args.expectedEnode,
                timeoutSeconds: args.timeoutSeconds, triggers: args.triggers, progressUrn: dynamicResourceUrn("BootnodeEnodeCheck", name, opts),
                reportedEnode: undefined, nodeId: undefined, fingerprint: undefined,
            },
            { ...opts, ...ENDPOINT_SECRET },
            "geth-swarm",
            "BootnodeEnodeCheck",
        );
    }
}

// ------------------------------------------------------------------------------------------
// Chain readiness

export interface ChainReadyArgs {
    /** JSON-RPC URLs of the nodes to watch. */
    readonly rpcUrls: pulumi.Input<pulumi.Input<string>[]>;
    readonly chainId: pulumi.Input<number>;
    /**
     * Swarm services to wait for first, until their rollout has finished (see
     * {@link waitForRollout}): after an update of a global service its old tasks still answer
     * until the rolling update reaches their host. Default: none.
     */
    readonly services?: pulumi.Input<pulumi.Input<string>[]>;
    /** The Docker API of a swarm manager, for `services` (TLS material: pass it as a secret). */
    readonly endpoint?: pulumi.Input<DockerEndpoint>;
    /** How long to wait. Default 600. */
    readonly timeoutSeconds?: pulumi.Input<number>;
    /**
     * The chain's block period, which bounds what `pulumi refresh` waits to see heads advance:
     * 2 × `blockPeriodSeconds` + 30 when that is over a minute (and within `timeoutSeconds`).
     * Default: unknown, and refresh observes for at most a minute.
     */
    readonly blockPeriodSeconds?: pulumi.Input<number>;
    /** Values whose change re-runs the wait (e.g. the services' ids). Default: none. */
    readonly triggers?: pulumi.Input<pulumi.Input<string>[]>;
}

interface ChainInputs {
    rpcUrls: string[];
    chainId: number;
    services?: string[];
    endpoint?: DockerEndpoint;
    timeoutSeconds?: number;
    blockPeriodSeconds?: number;
    triggers?: string[];
}
interface ChainOuts {
    /** Head block of every URL when it was seen ready. */
    heads: Record<string, number>;
}

/** Waits for the services' rollout (when given), then for the chain; both within `timeoutMs`. */
async function chainHeads(i: ChainInputs, timeoutMs: number, onProgress?: (m: string) => void): Promise<ChainOuts> {
    let left = timeoutMs;
    if (i.endpoint && i.services && i.services.length > 0) {
        const t0 = Date.now();
        await waitForRollout(connectDocker(i.endpoint, { timeoutMs: API_TIMEOUT_MS }), i.services, { timeoutMs, onProgress });
        left = Math.max(1, timeoutMs - (Date.now() - t0));
    }
    const states = await waitForChain(i.rpcUrls, { chainId: i.chainId, timeoutMs: left, onProgress });
    return { heads: Object.fromEntries(states.map((s) => [s.url, s.head ?? 0])) };
}

/**
 * What `pulumi refresh` waits for the chain: a minute, or longer when the block period needs
 * it (a head is seen to advance within two periods; 30 s for the rest, as the config's
 * bound of `readinessTimeoutSeconds` has it), never longer than the resource's own bound.
 * Exported for tests.
 */
export function chainObserveTimeoutMs(timeoutSeconds: number | undefined, blockPeriodSeconds: number | undefined): number {
    const needed = blockPeriodSeconds === undefined ? 0 : (2 * blockPeriodSeconds + 30) * 1000;
    return Math.min(Math.max(OBSERVE_TIMEOUT_MS, needed), (timeoutSeconds ?? Infinity) * 1000);
}

/** The dynamic provider of {@link ChainReady}. Exported for tests. */
export const chainReadyProvider = runOnChangeProvider<ChainInputs, ChainOuts>({
    fingerprint: (i) => JSON.stringify([i.rpcUrls, i.chainId, i.triggers ?? []]),
    id: (i) => `chain-${i.chainId}`,
    run: (i, progress) => chainHeads(i, (i.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000, progress),
    async observe(state) {
        try {
            // The heads stay as they were seen at the deployment: a refresh that finds the chain healthy changes nothing.
            await chainHeads(state, chainObserveTimeoutMs(state.timeoutSeconds, state.blockPeriodSeconds));
            return {};
        } catch (e) {
            return { drift: errorMessage(e) };
        }
    },
});

/**
 * Waits during `pulumi up` until the given services have rolled out and every node answers
 * with the chain id, has a peer and a head that advances; fails with what each URL (or
 * service) answered otherwise. `pulumi refresh` asks
 * again: a chain that is no longer healthy shows as an update, and the next `pulumi up`
 * waits for it (and fails, saying what each node answers, if it does not recover).
 */
export class ChainReady extends pulumi.dynamic.Resource {
    // `declare`: a class field would be set to undefined after the base constructor set the output.
    declare public readonly heads: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: ChainReadyArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            chainReadyProvider,
            name,
            {
                rpcUrls: args.rpcUrls, chainId: args.chainId, services: args.services, endpoint: args.endpoint,
                timeoutSeconds: args.timeoutSeconds, blockPeriodSeconds: args.blockPeriodSeconds, triggers: args.triggers,
                progressUrn: dynamicResourceUrn("ChainReady", name, opts), heads: undefined, fingerprint: undefined,
            },
            { ...opts, ...ENDPOINT_SECRET },
            "geth-swarm",
            "ChainReady",
        );
    }
}
