/**
 * `@pulumi/docker` rendering of a {@link StackSpec}: one Network per own network, one
 * Secret per secret, one ServiceConfig per config and one Service per service, every
 * object labelled `com.docker.stack.namespace=<stack>` and named as `docker stack deploy`
 * names it, so `docker stack ls/services/ps` show the stack.
 *
 * Volumes get no resource: a named volume of a swarm service is created by the engine
 * of each host a task runs on (a `docker.Volume` would exist only on the manager the
 * provider talks to). The mount carries the stack label as `docker stack deploy` sets it.
 *
 * Services reference networks by swarm ID, never by name: the swarm stores the ID in the
 * service spec and the provider reads that back, so a name would differ from what it reads
 * on every `pulumi up` and replace the service each time.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { RESTART_DELAY, SecretSource, ServiceSpec, StackSpec, networkLabels, objectLabels, serviceLabels, specShape } from "./spec";

/** `{label, value}[]` as `@pulumi/docker` takes labels. */
export function labelList(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
    return Object.entries(labels)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([label, value]) => ({ label, value }));
}

function base64(text: string): string {
    return Buffer.from(text, "utf8").toString("base64");
}

export interface StackResourcesArgs {
    /**
     * The spec built from placeholder values, known synchronously: which resources exist.
     * Its {@link specShape} must equal the real spec's.
     */
    readonly shape: StackSpec;
    /** The real spec. */
    readonly spec: pulumi.Output<StackSpec>;
    /** The value of a secret (a Pulumi secret). */
    readonly secretValue: (source: SecretSource) => pulumi.Input<string>;
    /** Component name: child names are `<prefix>-<kind>-<key>`. */
    readonly namePrefix: string;
    readonly parent: pulumi.Resource;
    readonly provider: pulumi.ProviderResource;
    /** What every child waits for (hosts, node labels, another stack). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /**
     * The swarm-scoped ID of every external network the spec references, by network name
     * (`{ host: hostNetwork.networkId }`, see `SwarmNetworkId`). Required for each one: a
     * network the stack does not create has no resource to take the ID from.
     */
    readonly externalNetworkIds?: Readonly<Record<string, pulumi.Input<string>>>;
}

/** The resources of one rendered stack, by spec key. */
export interface StackResources {
    readonly networks: Record<string, docker.Network>;
    readonly secrets: Record<string, docker.Secret>;
    readonly configs: Record<string, docker.ServiceConfig>;
    readonly services: Record<string, docker.Service>;
}

/**
 * The service arguments of one spec service, given the ids of the objects it references,
 * by spec key. `ids.networks` must hold the swarm-scoped ID of every network the service
 * is on: a stack's own network by its `docker.Network`'s `id`, an external one (Docker's
 * `host`) by the ID a swarm manager reports for it (`SwarmNetworkId`).
 */
export function serviceArgs(
    spec: StackSpec,
    s: ServiceSpec,
    ids: { networks: Record<string, string>; secrets: Record<string, string>; configs: Record<string, string> },
): docker.ServiceArgs {
    const byKey = <T extends { key: string }>(list: readonly T[], key: string, what: string): T => {
        const found = list.find((x) => x.key === key);
        if (!found) throw new Error(`stack ${spec.stack}: service ${s.key} references unknown ${what} ${key}`);
        return found;
    };
    return {
        name: s.name,
        labels: labelList(serviceLabels(spec.stack, s)),
        mode: s.mode.kind === "global" ? { global: true } : { replicated: { replicas: s.mode.replicas } },
        endpointSpec: {
            mode: s.endpointMode,
            ports: s.ports.map((p) => ({ targetPort: p.target, publishedPort: p.published, protocol: p.protocol, publishMode: p.mode })),
        },
        taskSpec: {
            containerSpec: {
                image: s.image,
                ...(s.entrypoint ? { commands: [...s.entrypoint] } : {}),
                ...(s.args.length > 0 ? { args: [...s.args] } : {}),
                ...(s.hostname !== undefined ? { hostname: s.hostname } : {}),
                ...(s.user !== undefined ? { user: s.user } : {}),
                labels: labelList(objectLabels(spec.stack)),
                mounts: s.mounts.map((m) =>
                    m.type === "volume"
                        ? {
                              type: "volume",
                              source: byKey(spec.volumes, m.volume, "volume").name,
                              target: m.target,
                              volumeOptions: { labels: labelList(objectLabels(spec.stack)) },
                          }
                        : { type: "bind", source: m.source, target: m.target, readOnly: m.readOnly },
                ),
                secrets: s.secrets.map((r) => {
                    const secret = byKey(spec.secrets, r.ref, "secret");
                    return { secretId: ids.secrets[r.ref], secretName: secret.name, fileName: r.target, fileUid: String(r.uid ?? 0), fileGid: String(r.gid ?? 0), fileMode: r.mode };
                }),
                configs: s.configs.map((r) => {
                    const config = byKey(spec.configs, r.ref, "config");
                    return { configId: ids.configs[r.ref], configName: config.name, fileName: r.target, fileUid: String(r.uid ?? 0), fileGid: String(r.gid ?? 0), fileMode: r.mode };
                }),
            },
            placement: { constraints: [...s.constraints] },
            // Every field as the provider reads it back (window 0s: unbounded; no attempt limit).
            restartPolicy: { condition: s.restartCondition, delay: RESTART_DELAY, window: "0s", maxAttempts: 0 },
            // By swarm ID, what the swarm stores and the provider reads back (a name would read
            // back as an ID and replace the service on every update).
            networksAdvanceds: s.networks.map((key) => {
                const network = byKey(spec.networks, key, "network");
                const id = ids.networks[key];
                if (!id) throw new Error(`stack ${spec.stack}: service ${s.key} is on the network ${network.name}, whose ID was not given`);
                return { id };
            }),
        },
    };
}

/** Create the resources of a stack spec as children of `args.parent`. */
export function renderStackResources(args: StackResourcesArgs): StackResources {
    const { shape, namePrefix } = args;
    const want = specShape(shape).join("\n");
    // The real spec must describe the same objects as the shape the resources were made from.
    const spec = args.spec.apply((real) => {
        const got = specShape(real).join("\n");
        if (got !== want) throw new Error(`stack ${real.stack}: the spec's objects changed while rendering:\n${got}\nversus\n${want}`);
        return real;
    });
    const externalIds = args.externalNetworkIds ?? {};
    const missing = shape.networks.filter((n) => n.external && externalIds[n.name] === undefined).map((n) => n.name);
    if (missing.length > 0) {
        throw new Error(
            `stack ${shape.stack}: no swarm network ID given for the external network${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ` +
                `(externalNetworkIds; a swarm manager reports it, see SwarmNetworkId).`,
        );
    }
    const opts = (extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions => ({
        parent: args.parent,
        provider: args.provider,
        ...(args.dependsOn ? { dependsOn: args.dependsOn } : {}),
        ...extra,
    });
    const labels = labelList(objectLabels(shape.stack));

    // Networks and the static parts of services (name, labels, mode, ports) come from the
    // shape: they depend on the config only, so `pulumi preview` shows them even while
    // host addresses or keys are still unknown.
    const networks: Record<string, docker.Network> = {};
    for (const n of shape.networks) {
        if (n.external) continue;
        networks[n.key] = new docker.Network(
            `${namePrefix}-network-${n.key}`,
            {
                name: n.name,
                driver: n.driver,
                attachable: n.attachable,
                options: n.encrypted ? { encrypted: "" } : {},
                // The options are ForceNew, and an overlay network reads back one the engine
                // adds (`com.docker.network.driver.overlay.vxlanid_list`), so they are not
                // compared (below); a label carries the one option the program sets, and a
                // change of it still replaces the network (labels are ForceNew too).
                labels: labelList(networkLabels(shape.stack, n)),
            },
            // A network keeps its name: a replacement must remove the old one first.
            opts({ deleteBeforeReplace: true, ignoreChanges: ["options"] }),
        );
    }

    const secrets: Record<string, docker.Secret> = {};
    for (const sec of shape.secrets) {
        const value = pulumi.secret(pulumi.output(args.secretValue(sec.source)).apply(base64));
        secrets[sec.key] = new docker.Secret(
            `${namePrefix}-secret-${sec.key}`,
            { name: spec.apply((s) => s.secrets.find((x) => x.key === sec.key)!.name), data: value, labels },
            // The name carries a digest of the value: a new value gets a new secret, created before the old one goes.
            opts(),
        );
    }

    const configs: Record<string, docker.ServiceConfig> = {};
    for (const c of shape.configs) {
        const config = spec.apply((s) => s.configs.find((x) => x.key === c.key)!);
        configs[c.key] = new docker.ServiceConfig(
            `${namePrefix}-config-${c.key}`,
            { name: config.name, data: config.content.apply(base64), labels },
            opts(),
        );
    }

    const networkIdInputs: Record<string, pulumi.Input<string>> = Object.fromEntries(Object.entries(networks).map(([k, n]) => [k, n.id]));
    for (const n of shape.networks) if (n.external) networkIdInputs[n.key] = externalIds[n.name];
    const ids = {
        networks: pulumi.all(networkIdInputs),
        secrets: pulumi.all(Object.fromEntries(Object.entries(secrets).map(([k, s]) => [k, s.id]))),
        configs: pulumi.all(Object.fromEntries(Object.entries(configs).map(([k, c]) => [k, c.id]))),
    };
    const services: Record<string, docker.Service> = {};
    // The static parts only: the ids are not known yet.
    const shapeIds = { networks: Object.fromEntries(shape.networks.map((n) => [n.key, `<${n.key}>`])), secrets: {}, configs: {} };
    for (const svc of shape.services) {
        const fixed = serviceArgs(shape, svc, shapeIds);
        const taskSpec = pulumi.all([spec, ids.networks, ids.secrets, ids.configs]).apply(
            ([s, networkIds, secretIds, configIds]) =>
                serviceArgs(s, s.services.find((x) => x.key === svc.key)!, { networks: networkIds, secrets: secretIds, configs: configIds })
                    .taskSpec as docker.types.input.ServiceTaskSpec,
        );
        services[svc.key] = new docker.Service(
            `${namePrefix}-service-${svc.key}`,
            { name: fixed.name, labels: fixed.labels, mode: fixed.mode, endpointSpec: fixed.endpointSpec, taskSpec },
            // A service keeps its name: a replacement must remove the old one first.
            opts({ deleteBeforeReplace: true, dependsOn: [...(args.dependsOn ?? []), ...Object.values(networks)] }),
        );
    }
    return { networks, secrets, configs, services };
}

