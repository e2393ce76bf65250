/**
 * The stack spec model: plain data describing one swarm stack (services, networks,
 * volumes, secrets, configs), as `docker stack deploy` would create it. No Pulumi, no
 * AWS. Built by {@link bootStackSpec} / {@link nodesStackSpec} and rendered two ways:
 * as `@pulumi/docker` resources (`BootStack`, `NodesStack`) and as a compose file
 * (`renderCompose`).
 *
 * Secret VALUES are never part of a spec: a secret is described by its name and by
 * where its value comes from ({@link SecretSource}); the renderings look the value up.
 */

/** Label `docker stack deploy` puts on every object of a stack; `docker stack ls/ps/services` filter on it. */
export const STACK_NAMESPACE_LABEL = "com.docker.stack.namespace";
/** Label `docker stack deploy` puts on each service with the image the compose file named. */
export const STACK_IMAGE_LABEL = "com.docker.stack.image";

/** Default stack names. */
export const BOOT_STACK = "boot";
export const NODES_STACK = "nodes";

/** Name of Docker's predefined host network: a task on it shares its host's network stack. */
export const HOST_NETWORK = "host";
/**
 * Key under which a stack references the {@link HOST_NETWORK} (compose:
 * `networks: { hostnet: { external: true, name: host } }`).
 */
export const HOST_NETWORK_KEY = "hostnet";

/**
 * The predefined {@link HOST_NETWORK} as a stack references it. A service on it binds its
 * host's own interfaces and addresses: it publishes no ports (nothing to publish), gets no
 * custom hostname (the container has the host's), and is reachable on the host's address
 * exactly as a process on the host would be.
 */
export function hostNetworkSpec(): NetworkSpec {
    return { key: HOST_NETWORK_KEY, name: HOST_NETWORK, external: true, driver: "host", attachable: false, encrypted: false };
}

/**
 * Delay between a task's exit and its restart: the swarm's default, written out so that
 * the swarm stores (and `@pulumi/docker` reads back) what every rendering sends. Left
 * unset, the provider sends 0 (restart at once) and reads it back as `0s`.
 */
export const RESTART_DELAY = "5s";

/** `<stack>_<key>`: how `docker stack deploy` names a stack's services, networks and volumes. */
export function scoped(stack: string, key: string): string {
    return `${stack}_${key}`;
}

/**
 * A port published by a service. Always host mode: this project never uses the ingress
 * routing mesh. Services on the {@link HOST_NETWORK} publish nothing: they bind the host's
 * own interfaces.
 */
export interface PortSpec {
    /** Port inside the container. */
    readonly target: number;
    /** Port on the host the task runs on. */
    readonly published: number;
    readonly protocol: "tcp" | "udp";
    readonly mode: "host";
}

/** A mount of a named volume (created by each host's engine on first use) or of a host path. */
export type MountSpec =
    | { readonly type: "volume"; /** Key of a {@link VolumeSpec} of the same stack. */ readonly volume: string; readonly target: string }
    | { readonly type: "bind"; readonly source: string; readonly target: string; readonly readOnly: boolean };

/** A secret or config file given to a service's containers. */
export interface FileRefSpec {
    /** Key of the {@link SecretSpec} / {@link ConfigSpec}. */
    readonly ref: string;
    /**
     * Where the file appears: for secrets a file name under `/run/secrets/`; for configs an
     * absolute path.
     */
    readonly target: string;
    /** File mode (e.g. 0o400). */
    readonly mode: number;
    /** Owner of the file in the container (numeric). Default 0 (root). */
    readonly uid?: number;
    /** Group of the file in the container (numeric). Default 0 (root). */
    readonly gid?: number;
}

export type ServiceMode = { readonly kind: "global" } | { readonly kind: "replicated"; readonly replicas: number };

export interface ServiceSpec {
    /** Key in the stack (`bootnode`); the service is named `<stack>_<key>`. */
    readonly key: string;
    /** Full service name (`boot_bootnode`). */
    readonly name: string;
    readonly image: string;
    /** Replaces the image's entrypoint when set. */
    readonly entrypoint?: readonly string[];
    /** Arguments (compose `command`; the Docker API's `Args`). */
    readonly args: readonly string[];
    /** User the container's process runs as (`uid:gid`). Default: the image's (root for the geth images). */
    readonly user?: string;
    /**
     * Container host name; may be a swarm template such as `{{.Node.Hostname}}`. Left unset
     * on the {@link HOST_NETWORK}, where the container has the host's own name.
     */
    readonly hostname?: string;
    readonly mode: ServiceMode;
    /** Placement constraints, e.g. `node.role == manager`. */
    readonly constraints: readonly string[];
    readonly restartCondition: "none" | "on-failure" | "any";
    /** `dnsrr` everywhere: no service VIP, which needs IPVS and which nothing here uses. */
    readonly endpointMode: "vip" | "dnsrr";
    readonly ports: readonly PortSpec[];
    /** Keys of {@link NetworkSpec}s of the same stack. */
    readonly networks: readonly string[];
    readonly mounts: readonly MountSpec[];
    readonly secrets: readonly FileRefSpec[];
    readonly configs: readonly FileRefSpec[];
    /** Service labels besides the stack labels every rendering adds. */
    readonly labels: Readonly<Record<string, string>>;
}

export interface NetworkSpec {
    /** Key in the stack (`default`, `hostnet`). */
    readonly key: string;
    /** Full network name (`boot_default`, `host`). */
    readonly name: string;
    /**
     * A network this stack does not create: another stack's, or Docker's predefined `host`
     * network. Referenced, never created or labelled here.
     */
    readonly external: boolean;
    /** `overlay` for the stacks' own network; `host` for the predefined {@link HOST_NETWORK}. */
    readonly driver: "overlay" | "host";
    readonly attachable: boolean;
    /** IPsec between hosts (driver option `encrypted`). */
    readonly encrypted: boolean;
}

export interface VolumeSpec {
    /** Key in the stack (`node-data`). */
    readonly key: string;
    /** Full volume name (`nodes_node-data`); each host's engine creates it when a task first mounts it. */
    readonly name: string;
}

/** Where the value of a secret comes from. The spec never holds the value itself. */
export type SecretSource =
    | { readonly kind: "bootnodeKey" }
    | { readonly kind: "signerKey"; readonly index: number }
    | { readonly kind: "signerPassword"; readonly index: number };

export interface SecretSpec {
    /** Key in the stack (`bootnode-key`). */
    readonly key: string;
    /** Full name, with a digest of the value: `<stack>_<key>-<digest>` (swarm secrets are immutable). */
    readonly name: string;
    readonly source: SecretSource;
    /** What the value is, for people creating it by hand. */
    readonly description: string;
}

export interface ConfigSpec {
    /** Key in the stack (`genesis`). */
    readonly key: string;
    /** Full name, with a digest of the content: `<stack>_<key>-<digest>` (swarm configs are immutable). */
    readonly name: string;
    /** File name of the content when written beside a compose file (`genesis.json`). */
    readonly fileName: string;
    readonly content: string;
}

/** One swarm stack, as plain data. */
export interface StackSpec {
    /** Stack name: the `com.docker.stack.namespace` label and the name prefix. */
    readonly stack: string;
    readonly services: readonly ServiceSpec[];
    readonly networks: readonly NetworkSpec[];
    readonly volumes: readonly VolumeSpec[];
    readonly secrets: readonly SecretSpec[];
    readonly configs: readonly ConfigSpec[];
}

/** Service labels as `docker stack deploy` sets them (namespace, image) plus the spec's own. */
export function serviceLabels(stack: string, service: ServiceSpec): Record<string, string> {
    return { ...service.labels, [STACK_IMAGE_LABEL]: service.image, [STACK_NAMESPACE_LABEL]: stack };
}

/** Labels of every object (network, secret, config, volume, container) of a stack. */
export function objectLabels(stack: string): Record<string, string> {
    return { [STACK_NAMESPACE_LABEL]: stack };
}

/** Label on a stack's own network saying whether it is encrypted (see `renderStackResources`). */
export const NETWORK_ENCRYPTED_LABEL = "geth-swarm.encrypted";

/** Labels of a stack's own network: the object labels and {@link NETWORK_ENCRYPTED_LABEL}. */
export function networkLabels(stack: string, network: NetworkSpec): Record<string, string> {
    return { ...objectLabels(stack), [NETWORK_ENCRYPTED_LABEL]: String(network.encrypted) };
}

/** The keys of everything in a spec, in order: two specs with the same shape create the same resources. */
export function specShape(spec: StackSpec): string[] {
    return [
        ...spec.services.map((s) => `service:${s.key}`),
        ...spec.networks.map((n) => `network:${n.key}:${n.external ? "external" : "own"}`),
        ...spec.volumes.map((v) => `volume:${v.key}`),
        ...spec.secrets.map((s) => `secret:${s.key}`),
        ...spec.configs.map((c) => `config:${c.key}`),
    ];
}
