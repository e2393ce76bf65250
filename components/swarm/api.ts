/**
 * The part of the Docker Engine API this module uses, shaped as `dockerode` exposes it,
 * so a `Dockerode` instance fits and tests can pass a small fake.
 */

/** A swarm node as `GET /nodes` returns it (only the fields used here). */
export interface SwarmNode {
    readonly ID: string;
    readonly Version: { readonly Index: number };
    readonly Spec: {
        readonly Name?: string;
        readonly Labels?: Readonly<Record<string, string>>;
        readonly Role?: string;
        readonly Availability?: string;
    };
    readonly Description?: { readonly Hostname?: string };
    readonly Status?: { readonly State?: string; readonly Addr?: string };
}

/** A swarm task as `GET /tasks` returns it (only the fields used here). */
export interface SwarmTask {
    readonly ID: string;
    readonly CreatedAt?: string;
    readonly NodeID?: string;
    readonly DesiredState?: string;
    readonly Status?: { readonly State?: string; readonly Err?: string; readonly Message?: string; readonly Timestamp?: string };
}

/** What the functions of this module call; `Dockerode` satisfies it. */
export interface DockerApi {
    listNodes(options?: {}): Promise<unknown[]>;
    getNode(id: string): { update(options?: {}): Promise<unknown> };
    listTasks(options?: {}): Promise<unknown[]>;
    getService(id: string): { logs(options?: {}): Promise<unknown> };
}

/** What {@link swarmNetworkId} calls: `GET /networks/<id>` with query options (`{ scope: "swarm" }`); `Dockerode` satisfies it. */
export interface DockerNetworkApi {
    getNetwork(id: string): { inspect(options?: { scope?: string }): Promise<unknown> };
}
