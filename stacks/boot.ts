import { GethSwarmConfig, LABELS } from "../components/config/types";
import { GETH_UID } from "./files";
import { BOOT_STACK, HOST_NETWORK_KEY, NetworkSpec, ServiceSpec, StackSpec, hostNetworkSpec, scoped } from "./spec";

/**
 * Key of the boot stack's attachable overlay network, named `<stack>_default`
 * (`boot_default`): the visualizer's, and one users may attach their own services to.
 */
export const BOOT_NETWORK_KEY = "default";
/** Key (and file name under `/run/secrets/`) of the bootnode's node key secret. */
export const BOOTNODE_KEY_SECRET = "bootnode-key";
/** Port the visualizer image listens on. */
export const VISUALIZER_CONTAINER_PORT = 8080;
/** The manager's Docker socket, which the visualizer reads (read-only). */
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** Everything {@link bootStackSpec} needs: plain values only. */
export interface BootStackInput {
    readonly config: GethSwarmConfig;
    /**
     * Private IP of the boot host (`config.bootHost`): the address the bootnode listens on
     * and the host of its enode URL.
     */
    readonly bootHostIp: string;
    /** {@link contentDigest} of the bootnode's node key (hex): suffixes the secret's name. */
    readonly bootnodeKeyDigest: string;
    /** Stack name. Default `boot`. */
    readonly stack?: string;
}

/** Name of the overlay network a boot stack named `stack` creates (`boot_default`). */
export function bootNetworkName(stack: string = BOOT_STACK): string {
    return scoped(stack, BOOT_NETWORK_KEY);
}

/**
 * The boot stack:
 * - `bootnode`: `bootnode` from the tools image, one replica on the host labelled
 *   `geth-swarm.boot=true`, on the swarm's `host` network with no published ports: it
 *   listens for discovery on the boot host's private IP (`-addr <ip>:<ports.bootnode>`,
 *   UDP) directly, so peers on every host (the boot host's own geth node included) reach
 *   it at the enode's address and it sees them at their own addresses. Its node key comes
 *   from a swarm secret (`-nodekey /run/secrets/bootnode-key`). No `-nat` option: geth
 *   v1.13.15's bootnode takes the port 0 that `-nat extip:` "maps" as its UDP port, so its
 *   node record would carry no usable `udp` port and peers that re-read it drop it. It
 *   runs as the unprivileged {@link GETH_UID}, which owns its key file (mode 0400);
 * - `visualizer` (unless `config.visualizer` is false): on a manager, on the overlay
 *   network, the Docker socket mounted read-only, `ports.visualizer`/tcp published in host
 *   mode;
 * - the attachable overlay network `<stack>_default` (encrypted when
 *   `config.encryptedOverlay`): the visualizer's, and one users may attach their own
 *   services to. The geth services do not use it: they are on the `host` network.
 */
export function bootStackSpec(input: BootStackInput): StackSpec {
    const { config } = input;
    const stack = input.stack ?? BOOT_STACK;
    const bootnodePort = config.ports.bootnode;
    const services: ServiceSpec[] = [
        {
            key: "bootnode",
            name: scoped(stack, "bootnode"),
            image: config.images.tools,
            entrypoint: ["bootnode"],
            args: [
                "-nodekey", `/run/secrets/${BOOTNODE_KEY_SECRET}`,
                "-addr", `${input.bootHostIp}:${bootnodePort}`,
            ],
            mode: { kind: "replicated", replicas: 1 },
            constraints: [`node.labels.${LABELS.boot} == true`],
            restartCondition: "any",
            endpointMode: "dnsrr",
            ports: [],
            networks: [HOST_NETWORK_KEY],
            mounts: [],
            // Unprivileged: it needs its key and a UDP port above 1024, nothing else.
            user: `${GETH_UID}:${GETH_UID}`,
            secrets: [{ ref: BOOTNODE_KEY_SECRET, target: BOOTNODE_KEY_SECRET, mode: 0o400, uid: GETH_UID, gid: GETH_UID }],
            configs: [],
            labels: {},
        },
    ];
    if (config.visualizer) {
        services.push({
            key: "visualizer",
            name: scoped(stack, "visualizer"),
            image: config.images.visualizer,
            args: [],
            mode: { kind: "replicated", replicas: 1 },
            constraints: ["node.role == manager"],
            restartCondition: "any",
            endpointMode: "dnsrr",
            ports: [{ target: VISUALIZER_CONTAINER_PORT, published: config.ports.visualizer, protocol: "tcp", mode: "host" }],
            networks: [BOOT_NETWORK_KEY],
            mounts: [{ type: "bind", source: DOCKER_SOCKET, target: DOCKER_SOCKET, readOnly: true }],
            secrets: [],
            configs: [],
            labels: {},
        });
    }
    const network: NetworkSpec = {
        key: BOOT_NETWORK_KEY,
        name: bootNetworkName(stack),
        external: false,
        driver: "overlay",
        attachable: true,
        encrypted: config.encryptedOverlay,
    };
    return {
        stack,
        services,
        networks: [network, hostNetworkSpec()],
        volumes: [],
        secrets: [
            {
                key: BOOTNODE_KEY_SECRET,
                name: `${scoped(stack, BOOTNODE_KEY_SECRET)}-${input.bootnodeKeyDigest}`,
                source: { kind: "bootnodeKey" },
                description: "bootnode node key: 64 hex digits (secp256k1 private key), no 0x",
            },
        ],
        configs: [],
    };
}
