import * as ipaddr from "ipaddr.js";
import type { GethSwarmConfig } from "../config/types";

/** Ports Docker swarm uses between its nodes (fixed by Docker). */
export const SWARM_PORTS = {
    /** Cluster management (Raft, join, API between managers): TCP. */
    management: 2377,
    /** Node gossip (memberlist): TCP and UDP. */
    gossip: 7946,
    /** Overlay network data path (VXLAN): UDP. */
    overlay: 4789,
} as const;

/** The manager's Docker Engine API over TLS. */
export const DOCKER_TLS_PORT = 2376;
/** SSH. */
export const SSH_PORT = 22;

/**
 * AWS IP protocol of a rule: `tcp`, `udp`, `50` (ESP, the IPsec protocol of encrypted
 * overlay networks) or `-1` (everything).
 */
export type RuleProtocol = "tcp" | "udp" | "50" | "-1";

/** One row of the swarm firewall: who may reach which port. */
export interface FirewallRule {
    /** Stable purpose-based key, used as the suffix of the rule's resource name (`rpc-admin-0`). */
    readonly key: string;
    readonly direction: "ingress" | "egress";
    readonly description: string;
    readonly protocol: RuleProtocol;
    /** First port; absent for protocols without ports (`50`, `-1`). */
    readonly fromPort?: number;
    /** Last port; absent for protocols without ports. */
    readonly toPort?: number;
    /** `self`: the swarm hosts' own security group; `cidr`: the address block in `cidr`. */
    readonly source: "self" | "cidr";
    /** IPv4 or IPv6 CIDR when `source` is `cidr`. */
    readonly cidr?: string;
}

/** What the firewall needs to know; {@link firewallOptionsFromConfig} derives it from the program config. */
export interface FirewallOptions {
    /** The VPC's CIDR: everything inside may reach JSON-RPC. */
    readonly vpcCidr: string;
    readonly ports: { readonly rpc: number; readonly p2p: number; readonly bootnode: number; readonly visualizer: number };
    /** Operator CIDRs: Docker API, SSH, visualizer, JSON-RPC. */
    readonly adminCidrs: readonly string[];
    /** Further JSON-RPC clients. */
    readonly rpcCidrs: readonly string[];
    /** Outside peers allowed to reach the bootnode and geth p2p ports. */
    readonly p2pCidrs: readonly string[];
    /** Open IP protocol 50 (ESP) between hosts for encrypted overlay networks. */
    readonly encryptedOverlay: boolean;
    /** Open the visualizer port to the admin CIDRs. */
    readonly visualizer: boolean;
    /** WebSocket JSON-RPC port, opened like JSON-RPC; absent: no WebSocket RPC. */
    readonly wsPort?: number;
}

/** The firewall options of a validated program config. */
export function firewallOptionsFromConfig(config: GethSwarmConfig): FirewallOptions {
    return {
        vpcCidr: config.aws.vpcCidr,
        ports: config.ports,
        adminCidrs: config.adminCidrs,
        rpcCidrs: config.rpc.cidrs,
        p2pCidrs: config.p2pCidrs,
        encryptedOverlay: config.encryptedOverlay,
        visualizer: config.visualizer,
        ...(config.rpc.ws.enabled ? { wsPort: config.rpc.ws.port } : {}),
    };
}

function port(protocol: "tcp" | "udp", p: number) {
    return { protocol, fromPort: p, toPort: p } as const;
}

/**
 * The swarm hosts' firewall as one table. Reading it top to bottom says everything the
 * hosts accept:
 *
 * | purpose | protocol/port | from |
 * | --- | --- | --- |
 * | swarm management, gossip, overlay | 2377/tcp, 7946/tcp+udp, 4789/udp | the hosts |
 * | encrypted overlay (with `encryptedOverlay`) | IP protocol 50 (ESP) | the hosts |
 * | bootnode discovery, geth p2p | `bootnode`/udp, `p2p`/tcp+udp | the hosts, `p2pCidrs` |
 * | JSON-RPC | `rpc`/tcp | the VPC, `adminCidrs`, `rpcCidrs` |
 * | WebSocket JSON-RPC (with `wsPort`) | `wsPort`/tcp | the VPC, `adminCidrs`, `rpcCidrs` |
 * | Docker API (TLS), SSH, visualizer | 2376/tcp, 22/tcp, `visualizer`/tcp | `adminCidrs` |
 * | egress | everything | 0.0.0.0/0 |
 *
 * A rule that repeats an earlier one (same protocol, ports and source, e.g. an admin CIDR
 * also listed in `rpcCidrs`) is left out: AWS refuses duplicate rules.
 */
export function firewallRules(o: FirewallOptions): FirewallRule[] {
    const rows: FirewallRule[] = [];
    const self = (key: string, description: string, p: Pick<FirewallRule, "protocol" | "fromPort" | "toPort">) =>
        rows.push({ key, direction: "ingress", description, ...p, source: "self" });
    const fromCidrs = (key: string, description: string, cidrs: readonly string[], p: Pick<FirewallRule, "protocol" | "fromPort" | "toPort">) =>
        cidrs.forEach((cidr, i) => rows.push({ key: `${key}-${i}`, direction: "ingress", description, ...p, source: "cidr", cidr: compactCidr(cidr) }));

    // Docker swarm between the hosts.
    self("swarm-management", "Swarm cluster management from the swarm hosts", port("tcp", SWARM_PORTS.management));
    self("swarm-gossip-tcp", "Swarm node gossip (TCP) from the swarm hosts", port("tcp", SWARM_PORTS.gossip));
    self("swarm-gossip-udp", "Swarm node gossip (UDP) from the swarm hosts", port("udp", SWARM_PORTS.gossip));
    self("swarm-overlay", "Swarm overlay network (VXLAN) from the swarm hosts", port("udp", SWARM_PORTS.overlay));
    if (o.encryptedOverlay) self("swarm-esp", "Encrypted overlay (IPsec ESP) from the swarm hosts", { protocol: "50" });

    // Ethereum p2p.
    self("bootnode-hosts", "Bootnode discovery (UDP) from the swarm hosts", port("udp", o.ports.bootnode));
    self("p2p-tcp-hosts", "geth p2p (TCP) from the swarm hosts", port("tcp", o.ports.p2p));
    self("p2p-udp-hosts", "geth p2p discovery (UDP) from the swarm hosts", port("udp", o.ports.p2p));
    fromCidrs("bootnode-peers", "Bootnode discovery (UDP) from outside peers", o.p2pCidrs, port("udp", o.ports.bootnode));
    fromCidrs("p2p-tcp-peers", "geth p2p (TCP) from outside peers", o.p2pCidrs, port("tcp", o.ports.p2p));
    fromCidrs("p2p-udp-peers", "geth p2p discovery (UDP) from outside peers", o.p2pCidrs, port("udp", o.ports.p2p));

    // JSON-RPC.
    rows.push({ key: "rpc-vpc", direction: "ingress", description: "geth JSON-RPC from inside the VPC", ...port("tcp", o.ports.rpc), source: "cidr", cidr: o.vpcCidr });
    fromCidrs("rpc-admin", "geth JSON-RPC from the operators", o.adminCidrs, port("tcp", o.ports.rpc));
    fromCidrs("rpc-clients", "geth JSON-RPC from allowed clients", o.rpcCidrs, port("tcp", o.ports.rpc));
    if (o.wsPort !== undefined) {
        rows.push({ key: "ws-vpc", direction: "ingress", description: "geth WebSocket JSON-RPC from inside the VPC", ...port("tcp", o.wsPort), source: "cidr", cidr: o.vpcCidr });
        fromCidrs("ws-admin", "geth WebSocket JSON-RPC from the operators", o.adminCidrs, port("tcp", o.wsPort));
        fromCidrs("ws-clients", "geth WebSocket JSON-RPC from allowed clients", o.rpcCidrs, port("tcp", o.wsPort));
    }

    // Operators only.
    fromCidrs("docker-api-admin", "Docker Engine API (TLS) from the operators", o.adminCidrs, port("tcp", DOCKER_TLS_PORT));
    fromCidrs("ssh-admin", "SSH from the operators", o.adminCidrs, port("tcp", SSH_PORT));
    if (o.visualizer) fromCidrs("visualizer-admin", "Swarm visualizer from the operators", o.adminCidrs, port("tcp", o.ports.visualizer));

    rows.push({ key: "egress-all", direction: "egress", description: "All outbound traffic (packages, images, SSM, peers)", protocol: "-1", source: "cidr", cidr: "0.0.0.0/0" });

    const seen = new Set<string>();
    return rows.filter((r) => {
        const id = [r.direction, r.protocol, r.fromPort, r.toPort, r.source, r.cidr].join("|");
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
    });
}

/**
 * A CIDR in the form AWS reports it (IPv6 compressed and lower-case, RFC 5952:
 * `2001:db8::/64`, not `2001:db8:0:0:0:0:0:0/64`), so the rule shows no diff after a refresh
 * and two spellings of one block count as one rule.
 */
export function compactCidr(cidr: string): string {
    if (!ipaddr.isValidCIDR(cidr)) return cidr;
    const [addr, prefix] = ipaddr.parseCIDR(cidr);
    return `${addr.toString()}/${prefix}`;
}

function canonicalNetwork(cidr: string): string {
    const [addr, prefix] = ipaddr.parseCIDR(cidr);
    return addr.kind() === "ipv6"
        ? `${ipaddr.IPv6.networkAddressFromCIDR(cidr).toString()}/${prefix}`
        : `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${prefix}`;
}

/** Whether a CIDR is IPv6 (AWS takes it as `cidrIpv6` rather than `cidrIpv4`). */
export function isIpv6Cidr(cidr: string): boolean {
    return ipaddr.isValidCIDR(cidr) && ipaddr.parseCIDR(cidr)[0].kind() === "ipv6";
}

/**
 * Check options given without the config layer. Returns one message per problem, each
 * naming the argument and the fix; empty when the options are usable.
 */
export function firewallOptionProblems(o: FirewallOptions): string[] {
    const problems: string[] = [];
    if (!ipaddr.IPv4.isValidCIDR(o.vpcCidr)) problems.push(`vpcCidr ${JSON.stringify(o.vpcCidr)} is not an IPv4 CIDR; pass the VPC's CIDR, e.g. 10.0.0.0/16.`);
    for (const [k, p] of Object.entries(o.ports)) {
        if (!Number.isInteger(p) || p < 1 || p > 65535) problems.push(`ports.${k} ${p} is not a port number; use 1 to 65535.`);
    }
    const lists: [string, readonly string[]][] = [["adminCidrs", o.adminCidrs], ["rpcCidrs", o.rpcCidrs], ["p2pCidrs", o.p2pCidrs]];
    for (const [k, list] of lists) {
        for (const c of list) {
            if (!ipaddr.isValidCIDR(c)) problems.push(`${k} entry ${JSON.stringify(c)} is not a CIDR; write an address and a prefix length, e.g. your own public address as <ip>/32 (\`curl -s https://checkip.amazonaws.com\`).`);
            else if (canonicalNetwork(c) !== compactCidr(c)) problems.push(`${k} entry ${c} has host bits set; write ${canonicalNetwork(c)}.`);
            else if (k === "adminCidrs" && ipaddr.parseCIDR(c)[1] === 0) problems.push(`adminCidrs entry ${c} opens the Docker API and SSH to everyone; use your own public address as <ip>/32 (\`curl -s https://checkip.amazonaws.com\`).`);
        }
    }
    return problems;
}
