import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DockerTlsFilesCleanup, dockerCertPath, dockerTlsDir } from "../components/hosts/dockerTlsFiles";
import type { DockerEndpoint, SwarmHosts } from "../components/hosts/types";

/**
 * A `docker.Provider` connected to the swarm manager's Docker API (`hosts.manager`). With
 * TLS it reads the CA, client certificate and key from files the program writes
 * ({@link dockerCertPath}: given inline, the provider would let `DOCKER_HOST` override the
 * host), removed again by a `<name>-tls-files` child ({@link DockerTlsFilesCleanup}) when
 * the stack is destroyed.
 *
 * It depends on `hosts.dependsOn`: the engine configures a provider as soon as it is
 * registered and the provider checks the daemon at once, so on a new stack it must wait
 * until the hosts exist and the swarm is formed.
 */
export function managerProvider(name: string, hosts: SwarmHosts, opts: pulumi.CustomResourceOptions): docker.Provider {
    const manager = hosts.manager;
    const dir = dockerTlsDir(name);
    const cleanup = new DockerTlsFilesCleanup(`${name}-tls-files`, { dir }, { parent: opts.parent });
    return new docker.Provider(
        name,
        {
            host: pulumi.unsecret(manager.apply((m) => m.host)),
            certPath: dockerCertPath(dir, manager),
        },
        { ...opts, dependsOn: [...hosts.dependsOn, cleanup, ...inheritedDependsOn(opts)] },
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
