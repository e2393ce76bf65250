/**
 * `LocalSwarmHosts`: the swarm hosts of the local target, as docker-in-docker containers on
 * your own Docker engine (the default `@pulumi/docker` provider, or the one you pass).
 *
 * - one private bridge network `<name>-net` with a fixed subnet; every host has a fixed
 *   address on it (slot s at the subnet's address + 10 + s, see {@link localHostSlot}), so the swarm advertise addresses and the enode hosts are known at
 *   preview time, and the p2p ports stay on the bridge (never published outside);
 * - one privileged `docker:*-dind` container per planned host (`<name>-<host>`, hostname =
 *   the host name), its `/var/lib/docker` on a named volume (`<name>-<host>-data`);
 * - each host's dockerd listens on 2376 with `--tlsverify` (CA, server certificate with the
 *   host's bridge IP, 127.0.0.1 and localhost, client certificate for this program); the
 *   server key is uploaded into the container from a secret, never put in env or command;
 *   the API is published on 127.0.0.1 only: the host in slot s at `local.apiPort + s`;
 * - JSON-RPC of every non-miner host published on 127.0.0.1 at `local.rpcBasePort + s` (and
 *   with `rpc.ws.enabled` its WebSocket JSON-RPC at `local.wsBasePort + s`), the visualizer
 *   of the first manager on 127.0.0.1 at `visualizerHostPort`;
 * - the swarm formed by a {@link SwarmFormation} once the containers run;
 * - optionally ({@link GethSwarmConfig.local.preloadImages}) the stack images copied from
 *   your engine into every host by a {@link LocalImagePreload}.
 *
 * Privileged containers cannot run on the project's CI machines, so this component is
 * proven with Pulumi mocks (exact resources and inputs); the real swarm and stack behaviour
 * is proven by the lab, which runs the same swarm code against real engines.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as ipaddr from "ipaddr.js";
import { DindPrivileges, GethSwarmConfig, HostPlan } from "../config/types";
import { SwarmFormation } from "../swarm/formResource";
import { createDockerCa, createDockerClientCert, createDockerServerCert, DEFAULT_TLS_VALIDITY_HOURS, DockerCert } from "./dockerTls";
import { LocalImagePreload } from "./localImagePreload";
import { DockerEndpoint, SwarmHostInfo, SwarmHosts } from "./types";

/** Default subnet of the hosts' bridge: outside Docker's default pools for local networks' first picks. */
export const DEFAULT_LOCAL_SUBNET = "192.168.213.0/24";
/** The host in slot s gets the subnet's address + this offset + s. */
export const LOCAL_HOST_IP_OFFSET = 10;

const CLASS_SLOT: Readonly<Record<HostPlan["class"], number>> = { manager: 0, worker: 1, miner: 2 };

/**
 * Slot of the `indexInClass`-th host of a class: `3 * indexInClass` + 0 for managers, 1 for
 * workers, 2 for miners. The classes interleave, so raising `managerCount`, `workerCount`
 * or `minerCount` only adds slots and never moves a host to another address or port
 * (which would replace its container and lose its chain).
 */
export function localHostSlot(hostClass: HostPlan["class"], indexInClass: number): number {
    return 3 * indexInClass + CLASS_SLOT[hostClass];
}
/** Port of each host's dockerd (TLS) inside its container. */
export const DIND_API_PORT = 2376;
/** Where the TLS files are uploaded in each host container. */
export const DIND_TLS_DIR = "/etc/docker/geth-swarm-tls";

export interface LocalSwarmHostsArgs {
    /**
     * The validated program config ({@link resolveConfig}): the host plan, `local.*`
     * (dind image, API and RPC ports, preload), `ports`, `images`, `visualizer`,
     * `readinessTimeoutSeconds`. Required; no default.
     */
    readonly config: GethSwarmConfig;
    /**
     * IPv4 subnet of the hosts' private bridge network, as a network address with a prefix.
     * Must not overlap a network your engine or machine already uses. Plain (not an Input):
     * the host addresses are derived from it at preview time. Default {@link DEFAULT_LOCAL_SUBNET}.
     */
    readonly subnet?: string;
    /**
     * Port on 127.0.0.1 where the first manager's visualizer is published (only when
     * `config.visualizer`). Default `config.ports.visualizer`.
     */
    readonly visualizerHostPort?: number;
    /** Deadline for the swarm to form, in seconds. Default `config.readinessTimeoutSeconds`. */
    readonly formationTimeoutSeconds?: pulumi.Input<number>;
    /** Validity of the Docker TLS CA and certificates, in hours. Default {@link DEFAULT_TLS_VALIDITY_HOURS} (3 years). */
    readonly tlsValidityHours?: number;
    /** Seconds `pulumi up` waits for each host's engine to be healthy. Default 120. */
    readonly hostStartTimeoutSeconds?: pulumi.Input<number>;
}

/** A planned host with its local addresses (all known before anything is created). */
export interface LocalHostLayout {
    readonly plan: HostPlan;
    /** {@link localHostSlot}: decides the address and ports. */
    readonly slot: number;
    /** Address on the private bridge (swarm advertise address, p2p address). */
    readonly ip: string;
    /** Port on 127.0.0.1 of the host's Docker API. */
    readonly apiPort: number;
    /** Port on 127.0.0.1 of the host's JSON-RPC; absent for miner hosts. */
    readonly rpcPort?: number;
    /** Port on 127.0.0.1 of the host's WebSocket JSON-RPC; only on non-miner hosts with `config.rpc.ws.enabled`. */
    readonly wsPort?: number;
    /** Port on 127.0.0.1 of the visualizer; only on the first manager when the visualizer is on. */
    readonly visualizerPort?: number;
}

/** Thrown by the constructor for bad args; names the arg and the fix. */
export class LocalSwarmHostsArgsError extends Error {
    constructor(message: string) {
        super(`LocalSwarmHosts: ${message}`);
        this.name = "LocalSwarmHostsArgsError";
    }
}

/**
 * The local layout: each host's bridge IP and published ports. Pure; throws
 * {@link LocalSwarmHostsArgsError} naming the arg and the fix.
 */
export function planLocalHosts(args: LocalSwarmHostsArgs): { subnet: string; gateway: string; ipRange: string; hosts: LocalHostLayout[] } {
    const c = args.config;
    const plans = c.hosts;
    if (plans.length === 0) throw new LocalSwarmHostsArgsError("config.hosts is empty; plan at least one manager (geth-swarm:managerCount).");
    if (plans[0].role !== "manager") {
        throw new LocalSwarmHostsArgsError(`config.hosts[0] (${plans[0].name}) must be a manager: it initialises the swarm. Put the managers first.`);
    }

    const subnet = args.subnet ?? DEFAULT_LOCAL_SUBNET;
    if (!ipaddr.IPv4.isValidCIDR(subnet)) throw new LocalSwarmHostsArgsError(`subnet ${JSON.stringify(subnet)} is not an IPv4 CIDR; write e.g. ${DEFAULT_LOCAL_SUBNET}.`);
    const [addr, prefix] = ipaddr.IPv4.parseCIDR(subnet);
    const net = ipaddr.IPv4.networkAddressFromCIDR(subnet);
    if (addr.toString() !== net.toString()) throw new LocalSwarmHostsArgsError(`subnet ${subnet} has host bits set; write ${net.toString()}/${prefix}.`);
    const size = 2 ** (32 - prefix);
    // Hosts sit in the lower half, below the range Docker assigns to anything else attached.
    const room = size / 2 - LOCAL_HOST_IP_OFFSET;
    const seen: Record<string, number> = {};
    const slots = plans.map((plan) => localHostSlot(plan.class, (seen[plan.class] = (seen[plan.class] ?? -1) + 1)));
    const lastSlot = Math.max(...slots);
    if (prefix > 28 || lastSlot >= room) {
        throw new LocalSwarmHostsArgsError(
            `subnet ${subnet} is too small for ${plans.length} hosts; use a larger one: their slots go up to ${lastSlot}, and a /24 holds slots 0 to ${128 - LOCAL_HOST_IP_OFFSET - 1} (${Math.floor((128 - LOCAL_HOST_IP_OFFSET) / 3)} hosts of each class).`,
        );
    }
    const base = ipv4ToInt(net.toString());
    const ipAt = (n: number) => intToIpv4(base + n);

    const vis = args.visualizerHostPort ?? c.ports.visualizer;
    if (!Number.isInteger(vis) || vis < 1 || vis > 65535) throw new LocalSwarmHostsArgsError(`visualizerHostPort ${vis} must be a port from 1 to 65535.`);

    const hosts: LocalHostLayout[] = plans.map((plan, index) => ({
        plan,
        slot: slots[index],
        ip: ipAt(LOCAL_HOST_IP_OFFSET + slots[index]),
        apiPort: c.local.apiPort + slots[index],
        rpcPort: plan.class === "miner" ? undefined : c.local.rpcBasePort + slots[index],
        wsPort: plan.class === "miner" || !c.rpc.ws.enabled ? undefined : c.local.wsBasePort + slots[index],
        visualizerPort: index === 0 && c.visualizer ? vis : undefined,
    }));

    // Every published port: in range and used once.
    const used = new Map<number, string>();
    const claim = (port: number | undefined, what: string, arg: string) => {
        if (port === undefined) return;
        if (port > 65535) throw new LocalSwarmHostsArgsError(`${arg}: ${what} would be published on port ${port}, above 65535; lower ${arg}.`);
        const prev = used.get(port);
        if (prev) throw new LocalSwarmHostsArgsError(`${arg}: ${what} and ${prev} would both be published on 127.0.0.1:${port}; move ${arg} so the ranges do not overlap.`);
        used.set(port, what);
    };
    for (const h of hosts) claim(h.apiPort, `the Docker API of ${h.plan.name}`, "config.local.apiPort (geth-swarm:localApiPort)");
    for (const h of hosts) claim(h.rpcPort, `the JSON-RPC of ${h.plan.name}`, "config.local.rpcBasePort (geth-swarm:localRpcBasePort)");
    for (const h of hosts) claim(h.wsPort, `the WebSocket JSON-RPC of ${h.plan.name}`, "config.local.wsBasePort (geth-swarm:localWsBasePort)");
    for (const h of hosts) claim(h.visualizerPort, "the visualizer", "visualizerHostPort");

    return {
        subnet,
        gateway: ipAt(1),
        ipRange: `${ipAt(size / 2)}/${prefix + 1}`,
        hosts,
    };
}

function ipv4ToInt(ip: string): number {
    return ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}
function intToIpv4(n: number): string {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/**
 * Capabilities of a `capabilities`-mode host ({@link DindPrivileges}): every capability a
 * Docker engine 20.10 knows but CAP_SYS_RESOURCE (outside the bounding set of engines that
 * refuse privileged containers), written `CAP_*` as Docker reads them back.
 */
export const DIND_CAPABILITIES: readonly string[] = [
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH",
    "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE",
    "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
    "SYSLOG", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
    "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
].map((c) => `CAP_${c}`);

/** Parent cgroup of every `capabilities`-mode host's containers: `/geth-swarm-dind/<host container>`. */
export const DIND_CGROUP_PARENT = "geth-swarm-dind";

/** Seconds a host container gets to stop its engine (and its containers) before it is removed. */
export const DIND_STOP_GRACE_SECONDS = 30;

/**
 * Entrypoint of a `capabilities`-mode host: runs the dockerd command given as arguments,
 * passes SIGTERM on, exits with dockerd's status, and once dockerd has stopped removes the host's cgroup directories
 * (`/sys/fs/cgroup[/<controller>]/geth-swarm-dind/<container>`, created by its dockerd in
 * the machine's cgroup tree), so a destroyed host leaves none behind.
 */
export function dindCapabilitiesEntrypoint(containerName: string): string[] {
    const script = [
        "set -u",
        `cg=${DIND_CGROUP_PARENT}/${containerName}`,
        '"$@" &',
        "pid=$!",
        "trap 'kill -TERM $pid 2>/dev/null' TERM INT",
        // The first wait even if dockerd has already exited (the shell may have reaped it: its
        // status is kept for `wait`); then again while a forwarded signal interrupted the wait.
        'wait "$pid"; status=$?',
        'while kill -0 "$pid" 2>/dev/null; do wait "$pid"; status=$?; done',
        'for d in "/sys/fs/cgroup/$cg" /sys/fs/cgroup/*/"$cg"; do',
        '  [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null',
        '  rmdir "${d%/*}" 2>/dev/null',
        "done",
        'exit "${status:-0}"',
    ].join("\n");
    return ["/bin/sh", "-c", script, "dind-host"];
}

/**
 * The dockerd command of a host: TLS-verified API on 2376 plus the local socket; no 2375.
 * With `cgroupParent` (the `capabilities` mode), its containers go under that cgroup of
 * the machine's tree instead of under the host container's own.
 */
export function dindCommand(opts: { cgroupParent?: string } = {}): string[] {
    // The dind entrypoint runs `dockerd ...` as given when the first word is `dockerd`
    // (with a leading `--flag` it would add a plain-HTTP listener on 2375).
    return [
        "dockerd",
        "--host=unix:///var/run/docker.sock",
        `--host=tcp://0.0.0.0:${DIND_API_PORT}`,
        "--tlsverify",
        `--tlscacert=${DIND_TLS_DIR}/ca.pem`,
        `--tlscert=${DIND_TLS_DIR}/server-cert.pem`,
        `--tlskey=${DIND_TLS_DIR}/server-key.pem`,
        ...(opts.cgroupParent ? [`--cgroup-parent=${opts.cgroupParent}`] : []),
    ];
}

/**
 * The container arguments that give a host's engine its rights ({@link DindPrivileges}):
 * `privileged`, or the capabilities, seccomp and cgroup settings of the `capabilities` mode
 * with its entrypoint and command.
 */
export function dindPrivilegeArgs(mode: DindPrivileges, containerName: string): Partial<docker.ContainerArgs> {
    if (mode === "privileged") return { privileged: true, command: dindCommand() };
    return {
        privileged: false,
        capabilities: { adds: [...DIND_CAPABILITIES] },
        securityOpts: ["seccomp=unconfined", "apparmor=unconfined"],
        // /proc/sys is read-only in an unprivileged container: the engine inside finds IP
        // forwarding on instead of failing to turn it on.
        sysctls: { "net.ipv4.ip_forward": "1" },
        // The engine inside creates its containers' cgroups in the machine's tree.
        mounts: [{ type: "bind", source: "/sys/fs/cgroup", target: "/sys/fs/cgroup", readOnly: false }],
        entrypoints: dindCapabilitiesEntrypoint(containerName),
        command: dindCommand({ cgroupParent: `/${DIND_CGROUP_PARENT}/${containerName}` }),
    };
}

/**
 * Docker-in-docker swarm hosts on your own engine. Returns the {@link SwarmHosts} shape:
 * `manager` (the first manager's API on 127.0.0.1, TLS material secret), `hosts` (bridge
 * IP as `privateIp`, 127.0.0.1 as `publicIp`, zone `local`), and `dependsOn` (the swarm
 * formation, and the image preload when enabled).
 *
 * Needs an engine that runs privileged containers (Docker Desktop, Docker Engine on
 * Linux); not testable on the project's CI machines, which refuse privileged containers.
 */
export class LocalSwarmHosts extends pulumi.ComponentResource implements SwarmHosts {
    public readonly manager: pulumi.Output<DockerEndpoint>;
    public readonly hosts: readonly SwarmHostInfo[];
    public readonly dependsOn: pulumi.Input<pulumi.Resource>[];
    /** Every host's Docker API on 127.0.0.1 (TLS material secret), by host name. */
    public readonly endpoints: Readonly<Record<string, pulumi.Output<DockerEndpoint>>>;
    /** The private bridge network. */
    public readonly network: docker.Network;
    /** The host containers, by host name. */
    public readonly containers: Readonly<Record<string, docker.Container>>;
    /** The swarm formation (its `nodeIds` output maps host names to swarm node ids). */
    public readonly formation: SwarmFormation;
    /** Present when `config.local.preloadImages` is true. */
    public readonly preload?: LocalImagePreload;

    constructor(name: string, args: LocalSwarmHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before anything is registered.
        const layout = planLocalHosts(args);
        const validity = args.tlsValidityHours ?? DEFAULT_TLS_VALIDITY_HOURS;
        if (!Number.isInteger(validity) || validity < 1) {
            throw new LocalSwarmHostsArgsError(`tlsValidityHours ${validity} must be a whole number of hours, at least 1 (default ${DEFAULT_TLS_VALIDITY_HOURS}).`);
        }
        super("geth-swarm:hosts:LocalSwarmHosts", name, {}, opts);
        const c = args.config;
        const parent = { parent: this };

        const image = new docker.RemoteImage(`${name}-dind-image`, { name: c.local.dindImage, keepLocally: true }, parent);

        const network = new docker.Network(
            `${name}-net`,
            {
                name: `${name}-net`,
                driver: "bridge",
                internal: false,
                attachable: false,
                ipamConfigs: [{ subnet: layout.subnet, gateway: layout.gateway, ipRange: layout.ipRange }],
                labels: [{ label: "geth-swarm.component", value: name }],
            },
            { ...parent, deleteBeforeReplace: true },
        );

        // TLS: one CA, one client certificate for this program, one server certificate per host.
        const ca = createDockerCa(`${name}-tls-ca`, { validityHours: validity }, parent);
        const client = createDockerClientCert(`${name}-tls-client`, ca, { validityHours: validity }, parent);

        const endpointOf = (h: LocalHostLayout): pulumi.Output<DockerEndpoint> =>
            pulumi.secret(
                pulumi.all([ca.caPem, client.certPem, client.keyPem]).apply(([caPem, certPem, keyPem]) => ({
                    host: `tcp://127.0.0.1:${h.apiPort}`,
                    caPem,
                    certPem,
                    keyPem,
                })),
            );

        const containers: Record<string, docker.Container> = {};
        const endpoints: Record<string, pulumi.Output<DockerEndpoint>> = {};
        for (const h of layout.hosts) {
            const hn = `${name}-${h.plan.name}`;
            const server: DockerCert = createDockerServerCert(
                `${hn}-tls`,
                ca,
                { ipAddresses: [h.ip, "127.0.0.1"], dnsNames: ["localhost", h.plan.name], commonName: h.plan.name, validityHours: validity },
                parent,
            );
            const volume = new docker.Volume(
                `${hn}-data`,
                { name: `${hn}-data`, labels: [{ label: "geth-swarm.component", value: name }, { label: "geth-swarm.host", value: h.plan.name }] },
                { ...parent, deleteBeforeReplace: true },
            );
            const ports: docker.types.input.ContainerPort[] = [{ internal: DIND_API_PORT, external: h.apiPort, ip: "127.0.0.1", protocol: "tcp" }];
            if (h.rpcPort !== undefined) ports.push({ internal: c.ports.rpc, external: h.rpcPort, ip: "127.0.0.1", protocol: "tcp" });
            if (h.wsPort !== undefined) ports.push({ internal: c.rpc.ws.port, external: h.wsPort, ip: "127.0.0.1", protocol: "tcp" });
            if (h.visualizerPort !== undefined) ports.push({ internal: c.ports.visualizer, external: h.visualizerPort, ip: "127.0.0.1", protocol: "tcp" });

            containers[h.plan.name] = new docker.Container(
                hn,
                {
                    name: hn,
                    image: image.imageId,
                    hostname: h.plan.name,
                    ...dindPrivilegeArgs(c.local.dindPrivileges, hn),
                    restart: "unless-stopped",
                    // On destroy the engine inside stops its containers before the host goes.
                    destroyGraceSeconds: DIND_STOP_GRACE_SECONDS,
                    // The image would otherwise generate its own certificates; ours come by upload.
                    envs: ["DOCKER_TLS_CERTDIR="],
                    networksAdvanced: [{ name: network.name, ipv4Address: h.ip }],
                    ports,
                    volumes: [{ volumeName: volume.name, containerPath: "/var/lib/docker" }],
                    uploads: [
                        { file: `${DIND_TLS_DIR}/ca.pem`, content: ca.caPem, permissions: "0644" },
                        { file: `${DIND_TLS_DIR}/server-cert.pem`, content: server.certPem, permissions: "0644" },
                        { file: `${DIND_TLS_DIR}/server-key.pem`, content: pulumi.secret(server.keyPem), permissions: "0600" },
                    ],
                    healthcheck: { tests: ["CMD", "docker", "version"], interval: "2s", timeout: "5s", retries: 30, startPeriod: "5s" },
                    wait: true,
                    waitTimeout: args.hostStartTimeoutSeconds ?? 120,
                    labels: [
                        { label: "geth-swarm.component", value: name },
                        { label: "geth-swarm.host", value: h.plan.name },
                        { label: "geth-swarm.role", value: h.plan.role },
                    ],
                },
                // Fixed name, address and ports: the old container must go before the new one starts.
                { ...parent, deleteBeforeReplace: true },
            );
            endpoints[h.plan.name] = endpointOf(h);
        }

        const all = layout.hosts.map((h) => containers[h.plan.name]);
        // Images first: a host that joins the swarm without them gets the stacks' tasks at
        // once, and the swarm rejects each one ("No such image") until they arrive.
        let preload: LocalImagePreload | undefined;
        if (c.local.preloadImages) {
            const images = [c.images.geth, c.images.tools, ...(c.visualizer ? [c.images.visualizer] : [])];
            preload = new LocalImagePreload(
                `${name}-preload`,
                { images, targets: layout.hosts.map((h) => ({ name: h.plan.name, endpoint: endpoints[h.plan.name] })), triggers: all.map((x) => x.id) },
                { ...parent, dependsOn: all },
            );
        }

        const formation = new SwarmFormation(
            `${name}-swarm`,
            {
                hosts: layout.hosts.map((h) => ({ name: h.plan.name, role: h.plan.role, endpoint: endpoints[h.plan.name], advertiseAddr: h.ip })),
                timeoutSeconds: args.formationTimeoutSeconds ?? c.readinessTimeoutSeconds,
                // A replaced host container (maybe with a fresh engine) makes the formation run again.
                triggers: all.map((x) => x.id),
            },
            { ...parent, dependsOn: preload ? [...all, preload] : all },
        );

        this.network = network;
        this.containers = containers;
        this.endpoints = endpoints;
        this.formation = formation;
        this.preload = preload;
        this.manager = endpoints[layout.hosts[0].plan.name];
        this.hosts = layout.hosts.map(
            (h): SwarmHostInfo => ({
                name: h.plan.name,
                class: h.plan.class,
                role: h.plan.role,
                privateIp: pulumi.output(h.ip),
                publicIp: pulumi.output("127.0.0.1"),
                zone: pulumi.output("local"),
                labels: h.plan.labels,
                ...(h.plan.signerIndex !== undefined ? { signerIndex: h.plan.signerIndex } : {}),
                rpcUrl: pulumi.output(h.rpcPort !== undefined ? `http://127.0.0.1:${h.rpcPort}` : ""),
                ...(c.rpc.ws.enabled ? { wsUrl: pulumi.output(h.wsPort !== undefined ? `ws://127.0.0.1:${h.wsPort}` : "") } : {}),
            }),
        );
        this.dependsOn = preload ? [formation, preload] : [formation];
        this.registerOutputs({
            manager: this.manager,
            hosts: this.hosts,
            nodeIds: formation.nodeIds,
        });
    }
}
