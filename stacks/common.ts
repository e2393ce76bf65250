import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { DockerEndpoint, SwarmHosts } from "../components/hosts/types";

/**
 * A `docker.Provider` connected to the swarm manager's Docker API (`hosts.manager`: host
 * and, with TLS, the CA, client certificate and client key; the key stays secret).
 */
export function managerProvider(name: string, manager: pulumi.Output<DockerEndpoint>, opts: pulumi.CustomResourceOptions): docker.Provider {
    return new docker.Provider(
        name,
        {
            host: manager.apply((m) => m.host),
            caMaterial: manager.apply((m) => m.caPem),
            certMaterial: manager.apply((m) => m.certPem),
            keyMaterial: pulumi.secret(manager.apply((m) => m.keyPem)),
        },
        opts,
    );
}

/** The manager endpoint as a secret Output, for dynamic resources (it carries the TLS key). */
export function secretEndpoint(hosts: SwarmHosts): pulumi.Output<DockerEndpoint> {
    return pulumi.secret(hosts.manager);
}

/**
 * The resources of a component's own `dependsOn` option, for its children: Pulumi does
 * not make a component's children wait for what the component depends on.
 */
export function inheritedDependsOn(opts: pulumi.ComponentResourceOptions | undefined): pulumi.Input<pulumi.Resource>[] {
    const d = opts?.dependsOn;
    if (d === undefined) return [];
    if (Array.isArray(d)) return d;
    return [d as pulumi.Input<pulumi.Resource>];
}
