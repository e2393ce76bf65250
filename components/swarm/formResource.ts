/**
 * `SwarmFormation`: a Pulumi dynamic resource that forms the swarm ({@link formSwarm}) when
 * it is created (`pulumi up`), never during `pulumi preview`. A re-run (update) is
 * idempotent: nodes already in the swarm are left alone, new ones are joined. `pulumi
 * refresh` checks that every host is still a Ready node of the same swarm with its role;
 * when one is not, the next `pulumi up` runs the formation again.
 *
 * The provider runs in Pulumi's dynamic-provider process from a serialised closure: it
 * captures only `formSwarm` and `connectDocker`, and loads dockerode itself at run time.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DockerEndpoint } from "../hosts/types";
import { dynamicResourceUrn, runOnChangeProvider } from "./dynamic";
import { connectDocker, formSwarm } from "./form";
import { listSwarmNodes, swarmMembershipDrift } from "./labels";
import { errorMessage, withTimeout } from "./poll";

/** One host of the swarm to form, as the formation needs to reach it. */
export interface SwarmFormationHost {
    /** Host name from the plan (the key of {@link SwarmFormation.nodeIds}). */
    readonly name: pulumi.Input<string>;
    readonly role: pulumi.Input<"manager" | "worker">;
    /** Where this program reaches the host's Docker API (TLS material: pass it as a secret). */
    readonly endpoint: pulumi.Input<DockerEndpoint>;
    /** Address the other hosts reach this host at (swarm advertise address). */
    readonly advertiseAddr: pulumi.Input<string>;
}

export interface SwarmFormationArgs {
    /** Every host; the first must be a manager: it initialises the swarm. No default. */
    readonly hosts: pulumi.Input<pulumi.Input<SwarmFormationHost>[]>;
    /** Deadline of the whole formation in seconds. Default 300. */
    readonly timeoutSeconds?: pulumi.Input<number>;
    /**
     * Values whose change re-runs the formation (e.g. the host containers' ids: a replaced
     * host with an empty data volume must join again). Default: none.
     */
    readonly triggers?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Plain inputs as the provider receives them. */
interface PlainHost {
    name: string;
    role: "manager" | "worker";
    endpoint: DockerEndpoint;
    advertiseAddr: string;
}
interface PlainInputs {
    hosts: PlainHost[];
    timeoutSeconds?: number;
    triggers?: string[];
}
/** The formation's outputs (the state also keeps the inputs, the endpoints as secrets). */
interface Outs {
    clusterId: string;
    nodeIds: Record<string, string>;
}

/** The part of the inputs whose change re-runs the formation. Carries no key material. */
export function formationFingerprint(inputs: { hosts: PlainHost[]; triggers?: string[] }): string {
    return JSON.stringify({
        hosts: inputs.hosts.map((h) => [h.name, h.role, h.advertiseAddr, h.endpoint.host]),
        triggers: inputs.triggers ?? [],
    });
}

/** The dynamic provider. Exported for tests; programs use {@link SwarmFormation}. */
export const swarmFormationProvider = runOnChangeProvider<PlainInputs, Outs>({
    fingerprint: formationFingerprint,
    id: (_i, o) => o.clusterId,
    async run(inputs, progress) {
        const hosts = inputs.hosts;
        if (hosts.length === 0 || hosts[0].role !== "manager") {
            throw new Error(`SwarmFormation: the first host must be a manager (got ${hosts[0]?.name ?? "no host"} as ${hosts[0]?.role ?? "-"}).`);
        }
        const timeoutMs = (inputs.timeoutSeconds ?? 300) * 1000;
        const at = (h: PlainHost) => ({ name: h.name, advertiseAddr: h.advertiseAddr, docker: connectDocker(h.endpoint, { timeoutMs: 30_000 }) });
        const r = await formSwarm({
            manager: at(hosts[0]),
            others: hosts.slice(1).map((h) => ({ ...at(h), role: h.role })),
            timeoutMs,
            log: progress,
        });
        return { clusterId: r.clusterId, nodeIds: r.nodeIds };
    },
    async observe(state) {
        const manager = state.hosts?.[0];
        if (!manager?.endpoint) return {};
        try {
            const docker = connectDocker(manager.endpoint, { timeoutMs: 30_000 });
            const swarm = (await withTimeout(docker.swarmInspect(), 60_000, "GET /swarm")) as { ID?: string };
            if (swarm.ID !== state.clusterId) return { drift: `${manager.name} manages swarm ${swarm.ID ?? "?"}, not ${state.clusterId}` };
            const drift = swarmMembershipDrift(await listSwarmNodes(docker, 60_000), state.hosts);
            return drift.length > 0 ? { drift: `swarm members: ${drift.join(", ")}` } : {};
        } catch (e) {
            return { drift: `the swarm manager ${manager.name} (${manager.endpoint.host}) did not answer: ${errorMessage(e)}` };
        }
    },
});

/**
 * Forms the swarm over the hosts' Docker APIs during `pulumi up` (init on `hosts[0]`,
 * join the others, wait until every node is Ready) and outputs the swarm node ids.
 * Give it `dependsOn` the host resources: it needs their engines running.
 */
export class SwarmFormation extends pulumi.dynamic.Resource {
    /** Swarm cluster id (also the resource id). */
    declare public readonly clusterId: pulumi.Output<string>;
    /** Swarm node id of every host, by host name. */
    declare public readonly nodeIds: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: SwarmFormationArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            swarmFormationProvider,
            name,
            {
                hosts: args.hosts, timeoutSeconds: args.timeoutSeconds, triggers: args.triggers, progressUrn: dynamicResourceUrn("SwarmFormation", name, opts),
                clusterId: undefined, nodeIds: undefined, fingerprint: undefined,
            },
            // The hosts' endpoints carry the client TLS key.
            { ...opts, additionalSecretOutputs: ["hosts"] },
            "geth-swarm",
            "SwarmFormation",
        );
    }
}
