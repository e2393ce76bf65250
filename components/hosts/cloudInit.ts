import * as ipaddr from "ipaddr.js";
import { stringify } from "yaml";
import { cidrsOverlap } from "../network/subnets";
import { BOOTSTRAP_SCRIPT } from "./awsBootstrapScript";

export { BOOTSTRAP_SCRIPT };

/** Where cloud-init writes the bootstrap script and its settings. */
export const BOOTSTRAP_PATH = "/usr/local/sbin/geth-swarm-bootstrap";
export const BOOTSTRAP_ENV_PATH = "/etc/geth-swarm/bootstrap.env";

/**
 * What a host does at first boot: the `leader` (first manager) serves the Docker API on
 * TLS, runs `docker swarm init` and publishes the join tokens; a `manager` or `worker` waits
 * for its token and joins the leader.
 */
export type BootstrapRole = "leader" | "manager" | "worker";

/** SSM Parameter Store names (not values) the bootstrap reads or writes. */
export interface BootstrapParameters {
    readonly workerToken: string;
    readonly managerToken: string;
    /** Leader only: CA certificate, server certificate, server private key (SecureString). */
    readonly tlsCa?: string;
    readonly tlsCert?: string;
    readonly tlsKey?: string;
}

export interface CloudInitParams {
    /** Host name, also the swarm node's hostname. */
    readonly hostname: string;
    readonly role: BootstrapRole;
    /** The leader's private IPv4 address: the swarm's join address. */
    readonly leaderAddress: string;
    /**
     * The leader's instance id, for non-leaders: logged, and part of the user-data so that
     * replacing the leader (a new swarm) replaces the hosts that joined the old one.
     */
    readonly leaderInstanceId?: string;
    readonly parameters: BootstrapParameters;
    /** Leader only: TLS port of the Docker API (default 2376). */
    readonly dockerTlsPort?: number;
    /** Address pool of the swarm's overlay networks; must not overlap the VPC ({@link swarmAddressPool}). */
    readonly swarmAddressPool: string;
    /** Join attempts before a host gives up (waits 5 s, doubling to at most 60 s; default 30, about 27 minutes). */
    readonly joinAttempts?: number;
}

const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PARAM_RE = /^\/[a-zA-Z0-9_.\-/]+$/;

/**
 * Overlay address pools tried in order. Docker's default pool (10.0.0.0/8, starting at
 * 10.0.0.0/24 for the ingress network) overlaps the usual 10.0.0.0/16 VPC: containers
 * would then route VPC addresses (the hosts, the VPC resolver) into the overlay.
 */
export const SWARM_ADDRESS_POOL_CANDIDATES = ["10.200.0.0/16", "172.29.0.0/16", "100.96.0.0/16"] as const;

/** The first candidate pool that does not overlap `vpcCidr`. */
export function swarmAddressPool(vpcCidr: string): string {
    const pool = SWARM_ADDRESS_POOL_CANDIDATES.find((c) => !cidrsOverlap(c, vpcCidr));
    if (!pool) throw new Error(`no swarm address pool clear of ${vpcCidr}; tried ${SWARM_ADDRESS_POOL_CANDIDATES.join(", ")}.`);
    return pool;
}

/** Quote a value for a POSIX shell (single quotes; embedded single quotes closed and escaped). */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

function check(p: CloudInitParams): void {
    const problems: string[] = [];
    if (!HOSTNAME_RE.test(p.hostname)) problems.push(`hostname ${JSON.stringify(p.hostname)} must be lower-case letters, digits and '-' (1-63 characters).`);
    if (!["leader", "manager", "worker"].includes(p.role)) problems.push(`role ${JSON.stringify(p.role)} must be leader, manager or worker.`);
    if (!ipaddr.IPv4.isValid(p.leaderAddress) || !ipaddr.IPv4.isValidFourPartDecimal(p.leaderAddress)) problems.push(`leaderAddress ${JSON.stringify(p.leaderAddress)} must be an IPv4 address.`);
    if (!ipaddr.IPv4.isValidCIDR(p.swarmAddressPool)) problems.push(`swarmAddressPool ${JSON.stringify(p.swarmAddressPool)} must be an IPv4 CIDR.`);
    if (p.leaderInstanceId !== undefined && !/^i-[0-9a-f]+$/.test(p.leaderInstanceId)) problems.push(`leaderInstanceId ${JSON.stringify(p.leaderInstanceId)} must be an EC2 instance id (i-...).`);
    const names: [string, string | undefined][] = Object.entries(p.parameters);
    if (p.role === "leader") for (const k of ["tlsCa", "tlsCert", "tlsKey"]) if (!(p.parameters as unknown as Record<string, unknown>)[k]) names.push([k, ""]);
    for (const [k, v] of names) {
        if (v !== undefined && !PARAM_RE.test(v)) problems.push(`parameters.${k} ${JSON.stringify(v)} must be an SSM parameter path such as /geth-swarm/dev/hosts/join-token/worker.`);
    }
    const port = p.dockerTlsPort ?? 2376;
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`dockerTlsPort ${port} must be a port number.`);
    const attempts = p.joinAttempts ?? 30;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 1000) problems.push(`joinAttempts ${attempts} must be from 1 to 1000.`);
    if (problems.length > 0) throw new Error(`cloud-init for ${p.hostname}: ${problems.join(" ")}`);
}

/** The bootstrap settings file (`/etc/geth-swarm/bootstrap.env`): names and addresses, never secrets. */
export function bootstrapEnv(p: CloudInitParams): string {
    check(p);
    const vars: [string, string | number | undefined][] = [
        ["GS_ROLE", p.role],
        ["GS_HOSTNAME", p.hostname],
        ["GS_LEADER_ADDR", p.leaderAddress],
        ["GS_LEADER_INSTANCE", p.role === "leader" ? undefined : p.leaderInstanceId],
        ["GS_WORKER_TOKEN_PARAM", p.parameters.workerToken],
        ["GS_MANAGER_TOKEN_PARAM", p.parameters.managerToken],
        ["GS_TLS_CA_PARAM", p.role === "leader" ? p.parameters.tlsCa : undefined],
        ["GS_TLS_CERT_PARAM", p.role === "leader" ? p.parameters.tlsCert : undefined],
        ["GS_TLS_KEY_PARAM", p.role === "leader" ? p.parameters.tlsKey : undefined],
        ["GS_DOCKER_TLS_PORT", p.role === "leader" ? (p.dockerTlsPort ?? 2376) : undefined],
        ["GS_ADDR_POOL", p.swarmAddressPool],
        ["GS_JOIN_ATTEMPTS", p.joinAttempts ?? 30],
    ];
    return [
        "# geth-swarm bootstrap settings, written by cloud-init. Names and addresses only:",
        "# join tokens and TLS keys are read from SSM Parameter Store at boot.",
        ...vars.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${shellQuote(String(v))}`),
        "",
    ].join("\n");
}

/**
 * The host's cloud-init user-data (`#cloud-config`, rendered with `yaml`): sets the host
 * name, writes the settings file and the bootstrap script, and runs the script once.
 * Pure: equal inputs give byte-equal output, so a change of user-data is a real change.
 * The output carries no secret (see {@link BOOTSTRAP_SCRIPT} for how secrets are fetched).
 * Written for YAML 1.1, which cloud-init's parser (PyYAML) reads: a host named `no`, `on`,
 * `off` or `yes` is quoted, not read back as a boolean.
 */
export function renderCloudInit(p: CloudInitParams): string {
    const doc = {
        hostname: p.hostname,
        preserve_hostname: false,
        create_hostname_file: true,
        write_files: [
            { path: BOOTSTRAP_ENV_PATH, owner: "root:root", permissions: "0600", content: bootstrapEnv(p) },
            { path: BOOTSTRAP_PATH, owner: "root:root", permissions: "0700", content: BOOTSTRAP_SCRIPT },
        ],
        runcmd: [[BOOTSTRAP_PATH]],
    };
    // Sequences not indented: every line of the script pays the indentation, and EC2 takes at most 16 KiB of user-data.
    return "#cloud-config\n" + stringify(doc, { version: "1.1", lineWidth: 0, indentSeq: false });
}
