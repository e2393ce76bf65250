/**
 * Pulumi dynamic resources over the plain functions of this folder, so `pulumi up` runs
 * them at the right point of the deployment (never during `pulumi preview`):
 * {@link SwarmNodeLabels}, {@link SwarmNetworkId}, {@link BootnodeEnodeCheck} and {@link ChainReady}.
 *
 * Each provider is serialised into Pulumi's dynamic-provider process: it captures only
 * the function it calls and `connectDocker`. Outputs never carry the Docker endpoint (its
 * TLS key is secret); the inputs that carry it should be passed as Pulumi secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DockerEndpoint } from "../hosts/types";
import { verifyBootnodeEnode } from "./bootnode";
import { waitForChain } from "./chain";
import { connectDocker } from "./form";
import { applyNodeLabels } from "./labels";
import { swarmNetworkId } from "./networks";

const DEFAULT_TIMEOUT_SECONDS = 600;
const API_TIMEOUT_MS = 30_000;

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
    /** Host names and labels: what, when changed, makes the labels be applied again. */
    fingerprint: string;
}

function labelFingerprint(inputs: LabelInputs): string {
    return JSON.stringify([inputs.hosts.map((h) => [h.name, Object.entries(h.labels).sort()]), inputs.owned ?? {}]);
}

async function runLabels(inputs: LabelInputs): Promise<LabelOuts> {
    const docker = connectDocker(inputs.endpoint, { timeoutMs: API_TIMEOUT_MS });
    const results = await applyNodeLabels(docker, inputs.hosts, {
        timeoutMs: (inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
        owned: inputs.owned,
    });
    return { nodeIds: Object.fromEntries(results.map((r) => [r.host, r.nodeId])), fingerprint: labelFingerprint(inputs) };
}

/** The dynamic provider of {@link SwarmNodeLabels}. Exported for tests. */
export const swarmNodeLabelsProvider: pulumi.dynamic.ResourceProvider<LabelInputs, LabelOuts> = {
    async diff(_id: string, olds: LabelOuts, news: LabelInputs): Promise<pulumi.dynamic.DiffResult> {
        return { changes: olds.fingerprint !== labelFingerprint(news), replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: LabelInputs): Promise<pulumi.dynamic.CreateResult<LabelOuts>> {
        const outs = await runLabels(inputs);
        return { id: `labels-${inputs.hosts.map((h) => h.name).join(",")}`.slice(0, 200), outs };
    },
    async update(_id: string, _olds: LabelOuts, news: LabelInputs): Promise<pulumi.dynamic.UpdateResult<LabelOuts>> {
        return { outs: await runLabels(news) };
    },
    async delete(): Promise<void> {
        // Labels go away with the swarm nodes; removing them earlier would only strand tasks.
    },
};

/**
 * Waits until every host is a Ready swarm node, then sets its node labels (placement
 * constraints of the stacks depend on them). Give it `dependsOn` the hosts.
 */
export class SwarmNodeLabels extends pulumi.dynamic.Resource {
    // `declare`: a class field would be set to undefined after the base constructor set the output.
    /** Swarm node id of every host, by host name. */
    declare public readonly nodeIds: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: SwarmNodeLabelsArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            swarmNodeLabelsProvider,
            name,
            { endpoint: args.endpoint, hosts: args.hosts, timeoutSeconds: args.timeoutSeconds, owned: args.owned, nodeIds: undefined, fingerprint: undefined },
            opts,
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
    name: string;
    networkId: string;
}

async function runNetworkId(inputs: NetworkIdInputs): Promise<NetworkIdOuts> {
    const docker = connectDocker(inputs.endpoint, { timeoutMs: API_TIMEOUT_MS });
    const networkId = await swarmNetworkId(docker, inputs.name, {
        timeoutMs: (inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
        manager: inputs.endpoint.host,
    });
    return { name: inputs.name, networkId };
}

/** The dynamic provider of {@link SwarmNetworkId}. Exported for tests. */
export const swarmNetworkIdProvider: pulumi.dynamic.ResourceProvider<NetworkIdInputs, NetworkIdOuts> = {
    async diff(_id: string, olds: NetworkIdOuts, news: NetworkIdInputs): Promise<pulumi.dynamic.DiffResult> {
        // The swarm ID of a network does not change while the swarm lives: never asked again for the same name.
        const changes = olds.name !== news.name;
        return { changes, replaces: changes ? ["name"] : [], deleteBeforeReplace: false };
    },
    async create(inputs: NetworkIdInputs): Promise<pulumi.dynamic.CreateResult<NetworkIdOuts>> {
        const outs = await runNetworkId(inputs);
        return { id: outs.networkId, outs };
    },
    async delete(): Promise<void> {
        // Only read: the network is not this resource's.
    },
};

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
            { endpoint: args.endpoint, name: args.name, timeoutSeconds: args.timeoutSeconds, networkId: undefined },
            opts,
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
    fingerprint: string;
}

function enodeFingerprint(inputs: EnodeInputs): string {
    return JSON.stringify([inputs.serviceName, inputs.expectedEnode, inputs.triggers ?? []]);
}

async function runEnode(inputs: EnodeInputs): Promise<EnodeOuts> {
    const docker = connectDocker(inputs.endpoint, { timeoutMs: API_TIMEOUT_MS });
    const r = await verifyBootnodeEnode(docker, inputs.serviceName, inputs.expectedEnode, {
        timeoutMs: (inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    });
    return { reportedEnode: r.reported, nodeId: r.nodeId, fingerprint: enodeFingerprint(inputs) };
}

/** The dynamic provider of {@link BootnodeEnodeCheck}. Exported for tests. */
export const bootnodeEnodeCheckProvider: pulumi.dynamic.ResourceProvider<EnodeInputs, EnodeOuts> = {
    async diff(_id: string, olds: EnodeOuts, news: EnodeInputs): Promise<pulumi.dynamic.DiffResult> {
        return { changes: olds.fingerprint !== enodeFingerprint(news), replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: EnodeInputs): Promise<pulumi.dynamic.CreateResult<EnodeOuts>> {
        const outs = await runEnode(inputs);
        return { id: `${inputs.serviceName}-${outs.nodeId.slice(0, 16)}`, outs };
    },
    async update(_id: string, _olds: EnodeOuts, news: EnodeInputs): Promise<pulumi.dynamic.UpdateResult<EnodeOuts>> {
        return { outs: await runEnode(news) };
    },
    async delete(): Promise<void> {},
};

/**
 * Reads the enode URL the running bootnode reports (its service logs, through the
 * manager's Docker API) and fails the deployment when its node ID is not the one derived
 * from the node key, or when it reports nothing in time.
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
                timeoutSeconds: args.timeoutSeconds, triggers: args.triggers,
                reportedEnode: undefined, nodeId: undefined, fingerprint: undefined,
            },
            opts,
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
    /** How long to wait. Default 600. */
    readonly timeoutSeconds?: pulumi.Input<number>;
    /** Values whose change re-runs the wait (e.g. the services' ids). Default: none. */
    readonly triggers?: pulumi.Input<pulumi.Input<string>[]>;
}

interface ChainInputs {
    rpcUrls: string[];
    chainId: number;
    timeoutSeconds?: number;
    triggers?: string[];
}
interface ChainOuts {
    /** Head block of every URL when it was seen ready. */
    heads: Record<string, number>;
    fingerprint: string;
}

function chainFingerprint(inputs: ChainInputs): string {
    return JSON.stringify([inputs.rpcUrls, inputs.chainId, inputs.triggers ?? []]);
}

async function runChain(inputs: ChainInputs): Promise<ChainOuts> {
    const states = await waitForChain(inputs.rpcUrls, { chainId: inputs.chainId, timeoutMs: (inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000 });
    return { heads: Object.fromEntries(states.map((s) => [s.url, s.head ?? 0])), fingerprint: chainFingerprint(inputs) };
}

/** The dynamic provider of {@link ChainReady}. Exported for tests. */
export const chainReadyProvider: pulumi.dynamic.ResourceProvider<ChainInputs, ChainOuts> = {
    async diff(_id: string, olds: ChainOuts, news: ChainInputs): Promise<pulumi.dynamic.DiffResult> {
        return { changes: olds.fingerprint !== chainFingerprint(news), replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: ChainInputs): Promise<pulumi.dynamic.CreateResult<ChainOuts>> {
        const outs = await runChain(inputs);
        return { id: `chain-${inputs.chainId}`, outs };
    },
    async update(_id: string, _olds: ChainOuts, news: ChainInputs): Promise<pulumi.dynamic.UpdateResult<ChainOuts>> {
        return { outs: await runChain(news) };
    },
    async delete(): Promise<void> {},
};

/**
 * Waits during `pulumi up` until every node answers with the chain id, has a peer and a
 * head that advances; fails with what each URL answered otherwise.
 */
export class ChainReady extends pulumi.dynamic.Resource {
    // `declare`: a class field would be set to undefined after the base constructor set the output.
    declare public readonly heads: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: ChainReadyArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            chainReadyProvider,
            name,
            { rpcUrls: args.rpcUrls, chainId: args.chainId, timeoutSeconds: args.timeoutSeconds, triggers: args.triggers, heads: undefined, fingerprint: undefined },
            opts,
            "geth-swarm",
            "ChainReady",
        );
    }
}
