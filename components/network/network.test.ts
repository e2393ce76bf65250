import { beforeEach, describe, expect, it } from "vitest";
import { installAwsMocks, MOCK_ZONES, settle, valueOf } from "../../test/unit/awsMocks";
import { resolveConfig } from "../config/resolve";
import { firewallOptionsFromConfig, firewallRules, FirewallRule } from "./firewallRules";
import { cidrsOverlap } from "./subnets";
import { SwarmFirewall } from "./swarmFirewall";
import { selectZones, SwarmVpc, swarmVpcArgsFromConfig } from "./swarmVpc";

const mocks = installAwsMocks();
beforeEach(() => mocks.reset());

const awsConfig = (extra: Record<string, unknown> = {}) => resolveConfig({ target: "aws", adminCidrs: ["10.8.0.7/32"], ...extra });

const SUBNET = "aws:ec2/subnet:Subnet";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";

describe("SwarmVpc", () => {
    it("creates a VPC, one public subnet per looked-up zone, a gateway and a default route", async () => {
        const vpc = new SwarmVpc("net", swarmVpcArgsFromConfig(awsConfig()), { transformations: [mocks.recordParents] });
        const [ids, zones, cidr] = await Promise.all([valueOf(vpc.subnetIds), valueOf(vpc.availabilityZones), valueOf(vpc.cidrBlock)]);
        await settle();

        expect(mocks.calls.map((c) => c.token)).toEqual(["aws:index/getAvailabilityZones:getAvailabilityZones"]);
        expect(mocks.calls[0].inputs).toEqual({ state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] });

        const counts = Object.fromEntries(
            [...new Set(mocks.custom().map((r) => r.type))].map((t) => [t, mocks.ofType(t).length]),
        );
        expect(counts).toEqual({
            "aws:ec2/vpc:Vpc": 1,
            "aws:ec2/internetGateway:InternetGateway": 1,
            "aws:ec2/routeTable:RouteTable": 1,
            "aws:ec2/route:Route": 1,
            [SUBNET]: 3,
            "aws:ec2/routeTableAssociation:RouteTableAssociation": 3,
        });
        for (const r of mocks.custom()) expect(r.parent).toEqual({ type: "geth-swarm:network:SwarmVpc", name: "net" });

        const v = mocks.named("aws:ec2/vpc:Vpc", "net-vpc").inputs;
        expect(v).toMatchObject({ cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true });
        expect(cidr).toBe("10.0.0.0/16");

        const subnets = ["a", "b", "c"].map((z) => mocks.named(SUBNET, `net-public-${z}`));
        expect(subnets.map((s) => s.inputs.availabilityZone)).toEqual(MOCK_ZONES);
        expect(new Set(subnets.map((s) => s.inputs.availabilityZone)).size).toBe(3);
        expect(subnets.map((s) => s.inputs.cidrBlock)).toEqual(["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]);
        for (const s of subnets) {
            expect(cidrsOverlap(s.inputs.cidrBlock, "10.0.0.0/16")).toBe(true);
            expect(s.inputs.mapPublicIpOnLaunch).toBe(true);
            expect(s.inputs.vpcId).toMatch(/^vpc-/);
        }
        expect(ids).toEqual(subnets.map((s) => s.id));
        expect(ids.every((id) => /^subnet-/.test(id))).toBe(true);
        expect(zones).toEqual(MOCK_ZONES);

        const route = mocks.ofType("aws:ec2/route:Route")[0].inputs;
        const igwId = mocks.ofType("aws:ec2/internetGateway:InternetGateway")[0];
        expect(route.destinationCidrBlock).toBe("0.0.0.0/0");
        expect(route.gatewayId).toMatch(/^igw-/);
        expect(igwId.inputs.vpcId).toMatch(/^vpc-/);
        const rtId = route.routeTableId;
        const assocs = mocks.ofType("aws:ec2/routeTableAssociation:RouteTableAssociation").map((a) => a.inputs);
        expect(assocs.every((a) => a.routeTableId === rtId)).toBe(true);
        expect(assocs.map((a) => a.subnetId).sort()).toEqual([...ids].sort());
    });

    it("uses explicit zones without a lookup", async () => {
        const vpc = new SwarmVpc("net2", { cidrBlock: "10.8.0.0/20", availabilityZones: ["us-east-1d", "us-east-1f"] });
        expect(await valueOf(vpc.availabilityZones)).toEqual(["us-east-1d", "us-east-1f"]);
        await settle();
        expect(mocks.calls).toEqual([]);
        expect(mocks.ofType(SUBNET).map((s) => [s.name, s.inputs.availabilityZone, s.inputs.cidrBlock])).toEqual([
            ["net2-public-a", "us-east-1d", "10.8.0.0/21"],
            ["net2-public-b", "us-east-1f", "10.8.8.0/21"],
        ]);
    });

    it("picks the region's first zones, and fails naming the fix when the region has fewer than asked", () => {
        expect(selectZones("net", MOCK_ZONES, 2)).toEqual(["eu-west-1a", "eu-west-1b"]);
        expect(() => selectZones("net", MOCK_ZONES, 4)).toThrow(
            "SwarmVpc net: the region has 3 available zone(s) (eu-west-1a, eu-west-1b, eu-west-1c) but 4 were asked for; lower zoneCount or list availabilityZones.",
        );
    });

    it.each([
        ["none", 0, 0],
        ["single", 1, 3],
        ["perZone", 3, 3],
    ] as const)("private subnets with natStrategy %s: %i NAT gateway(s), %i default route(s)", async (natStrategy, nats, privateRoutes) => {
        const vpc = new SwarmVpc("pn", swarmVpcArgsFromConfig(awsConfig({ privateSubnets: true, natStrategy })));
        const priv = await valueOf(vpc.privateSubnetIds);
        await settle();
        expect(priv).toHaveLength(3);
        const privateSubnets = ["a", "b", "c"].map((z) => mocks.named(SUBNET, `pn-private-${z}`).inputs);
        expect(privateSubnets.map((s) => s.cidrBlock)).toEqual(["10.0.96.0/19", "10.0.128.0/19", "10.0.160.0/19"]);
        expect(privateSubnets.map((s) => s.mapPublicIpOnLaunch)).toEqual([false, false, false]);
        expect(privateSubnets.map((s) => s.availabilityZone)).toEqual(MOCK_ZONES);
        const natGws = mocks.ofType("aws:ec2/natGateway:NatGateway");
        expect(natGws).toHaveLength(nats);
        const publicIds = await valueOf(vpc.subnetIds);
        expect(natGws.map((n) => n.inputs.subnetId)).toEqual(publicIds.slice(0, nats));
        expect(natGws.every((n) => /^eipalloc-/.test(n.inputs.allocationId))).toBe(true);
        expect(mocks.ofType("aws:ec2/eip:Eip")).toHaveLength(nats);
        const routes = mocks.ofType("aws:ec2/route:Route").filter((r) => r.name.startsWith("pn-private"));
        expect(routes).toHaveLength(privateRoutes);
        expect(routes.every((r) => /^nat-/.test(r.inputs.natGatewayId) && r.inputs.destinationCidrBlock === "0.0.0.0/0")).toBe(true);
        if (natStrategy === "perZone") expect(new Set(routes.map((r) => r.inputs.natGatewayId)).size).toBe(3);
        if (natStrategy === "single") expect(new Set(routes.map((r) => r.inputs.natGatewayId)).size).toBe(1);
        expect(mocks.ofType("aws:ec2/routeTable:RouteTable")).toHaveLength(4);
    });

    it.each([
        [{ cidrBlock: "10.0.0.0/26", zoneCount: 6 }, /cidrBlock\/subnetPrefixLength: VPC 10\.0\.0\.0\/26 is too small for 6 subnets/],
        [{ cidrBlock: "10.0.0.1/16" }, /host bits set; write 10\.0\.0\.0\/16/],
        [{ cidrBlock: "10.0.0.0/16", zoneCount: 7 }, /zoneCount 7 must be from 1 to 6/],
        [{ cidrBlock: "10.0.0.0/16", zoneCount: 2, availabilityZones: ["a1"] }, /availabilityZones lists 1 zone\(s\) but zoneCount is 2/],
        [{ cidrBlock: "10.0.0.0/16", availabilityZones: ["x", "x"] }, /lists a zone twice/],
        [{ cidrBlock: "10.0.0.0/16", natStrategy: "single" as const }, /privateSubnets is off; set privateSubnets: true or natStrategy: "none"/],
        [{ cidrBlock: "10.0.0.0/16", subnetPrefixLength: 17 }, /3 subnets of \/17 do not fit/],
    ])("refuses bad arguments before creating anything (%j)", (args, message) => {
        expect(() => new SwarmVpc("bad", args)).toThrow(message);
        expect(() => new SwarmVpc("bad", args)).toThrow(/^SwarmVpc bad: invalid arguments/);
    });
});

function row(r: FirewallRule): string {
    const ports = r.fromPort === undefined ? "" : r.fromPort === r.toPort ? `${r.fromPort}` : `${r.fromPort}-${r.toPort}`;
    return `${r.direction} ${r.key}: ${r.protocol}${ports ? "/" + ports : ""} from ${r.source === "self" ? "self" : r.cidr}`;
}

describe("firewallRules (the rule table)", () => {
    it("with the default config opens swarm, p2p and RPC as designed, and only egress to 0.0.0.0/0", () => {
        const rules = firewallRules(firewallOptionsFromConfig(awsConfig()));
        expect(rules.map(row)).toEqual([
            "ingress swarm-management: tcp/2377 from self",
            "ingress swarm-gossip-tcp: tcp/7946 from self",
            "ingress swarm-gossip-udp: udp/7946 from self",
            "ingress swarm-overlay: udp/4789 from self",
            "ingress swarm-esp: 50 from self",
            "ingress bootnode-hosts: udp/30301 from self",
            "ingress p2p-tcp-hosts: tcp/30303 from self",
            "ingress p2p-udp-hosts: udp/30303 from self",
            "ingress rpc-vpc: tcp/8545 from 10.0.0.0/16",
            "ingress rpc-admin-0: tcp/8545 from 10.8.0.7/32",
            "ingress docker-api-admin-0: tcp/2376 from 10.8.0.7/32",
            "ingress ssh-admin-0: tcp/22 from 10.8.0.7/32",
            "egress egress-all: -1 from 0.0.0.0/0",
        ]);
        expect(rules.filter((r) => r.cidr === "0.0.0.0/0" || r.cidr === "::/0").map((r) => r.key)).toEqual(["egress-all"]);
        for (const r of rules) expect(r.description.length).toBeGreaterThan(10);
    });

    it("opens the visualizer's port to the admin CIDRs only, when it is on (it is off by default)", () => {
        const rules = firewallRules(firewallOptionsFromConfig(awsConfig({ visualizer: true })));
        expect(rules.filter((r) => r.key.startsWith("visualizer")).map(row)).toEqual(["ingress visualizer-admin-0: tcp/8080 from 10.8.0.7/32"]);
    });

    it("follows the configured ports, p2p/RPC CIDRs, no ESP without encrypted overlays, no visualizer rule without it", () => {
        const rules = firewallRules(
            firewallOptionsFromConfig(
                awsConfig({
                    rpcPort: 9545, p2pPort: 31303, bootnodePort: 31301, visualizer: false, encryptedOverlay: false,
                    adminCidrs: ["10.8.0.7/32", "fd00:8::/64"], rpcCidrs: ["10.9.0.0/24", "10.8.0.7/32"], p2pCidrs: ["172.20.0.0/24"],
                }),
            ),
        );
        expect(rules.map(row)).toEqual([
            "ingress swarm-management: tcp/2377 from self",
            "ingress swarm-gossip-tcp: tcp/7946 from self",
            "ingress swarm-gossip-udp: udp/7946 from self",
            "ingress swarm-overlay: udp/4789 from self",
            "ingress bootnode-hosts: udp/31301 from self",
            "ingress p2p-tcp-hosts: tcp/31303 from self",
            "ingress p2p-udp-hosts: udp/31303 from self",
            "ingress bootnode-peers-0: udp/31301 from 172.20.0.0/24",
            "ingress p2p-tcp-peers-0: tcp/31303 from 172.20.0.0/24",
            "ingress p2p-udp-peers-0: udp/31303 from 172.20.0.0/24",
            "ingress rpc-vpc: tcp/9545 from 10.0.0.0/16",
            "ingress rpc-admin-0: tcp/9545 from 10.8.0.7/32",
            "ingress rpc-admin-1: tcp/9545 from fd00:8::/64",
            // rpc-clients-1 (10.8.0.7/32) repeats rpc-admin-0: left out, AWS refuses duplicates
            "ingress rpc-clients-0: tcp/9545 from 10.9.0.0/24",
            "ingress docker-api-admin-0: tcp/2376 from 10.8.0.7/32",
            "ingress docker-api-admin-1: tcp/2376 from fd00:8::/64",
            "ingress ssh-admin-0: tcp/22 from 10.8.0.7/32",
            "ingress ssh-admin-1: tcp/22 from fd00:8::/64",
            "egress egress-all: -1 from 0.0.0.0/0",
        ]);
    });

    it("with wsRpc opens the WebSocket port to exactly whom JSON-RPC is open", () => {
        const rules = firewallRules(firewallOptionsFromConfig(awsConfig({ wsRpc: true, rpcCidrs: ["10.9.0.0/24"] })));
        expect(rules.map(row).filter((r) => /rpc|ws/.test(r))).toEqual([
            "ingress rpc-vpc: tcp/8545 from 10.0.0.0/16",
            "ingress rpc-admin-0: tcp/8545 from 10.8.0.7/32",
            "ingress rpc-clients-0: tcp/8545 from 10.9.0.0/24",
            "ingress ws-vpc: tcp/8546 from 10.0.0.0/16",
            "ingress ws-admin-0: tcp/8546 from 10.8.0.7/32",
            "ingress ws-clients-0: tcp/8546 from 10.9.0.0/24",
        ]);
    });

    it("opens RPC to everyone only when the config allowed it", () => {
        const rules = firewallRules(firewallOptionsFromConfig(awsConfig({ rpcCidrs: ["0.0.0.0/0"], allowPublicRpc: true })));
        expect(rules.filter((r) => r.cidr === "0.0.0.0/0").map(row)).toEqual(["ingress rpc-clients-0: tcp/8545 from 0.0.0.0/0", "egress egress-all: -1 from 0.0.0.0/0"]);
    });
});

describe("SwarmFirewall", () => {
    it("materialises one standalone rule resource per row, with the group as source for host-only rules", async () => {
        const config = awsConfig({ adminCidrs: ["10.8.0.7/32", "fd00:8::/64"] });
        const fw = new SwarmFirewall("fw", { vpcId: "vpc-0123", ...firewallOptionsFromConfig(config) }, { transformations: [mocks.recordParents] });
        const sgId = await valueOf(fw.securityGroupId);
        await settle();
        expect(sgId).toMatch(/^sg-/);
        const sg = mocks.named("aws:ec2/securityGroup:SecurityGroup", "fw-hosts");
        expect(sg.inputs.vpcId).toBe("vpc-0123");
        expect(sg.inputs.ingress).toBeUndefined();
        expect(sg.inputs.egress).toBeUndefined();

        const ingress = mocks.ofType(INGRESS);
        const egress = mocks.ofType(EGRESS);
        expect(ingress.length + egress.length).toBe(fw.rules.length);
        expect(egress.map((e) => e.name)).toEqual(["fw-egress-all"]);
        expect(egress[0].inputs).toMatchObject({ ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", securityGroupId: sgId });
        expect(egress[0].inputs.fromPort).toBeUndefined();

        for (const rule of fw.rules) {
            const r = mocks.named(rule.direction === "ingress" ? INGRESS : EGRESS, `fw-${rule.key}`);
            expect(r.parent).toEqual({ type: "geth-swarm:network:SwarmFirewall", name: "fw" });
            expect(r.inputs.securityGroupId).toBe(sgId);
            expect(r.inputs.ipProtocol).toBe(rule.protocol);
            expect(r.inputs.fromPort).toBe(rule.fromPort);
            expect(r.inputs.toPort).toBe(rule.toPort);
            expect(r.inputs.description).toBe(rule.description);
            if (rule.source === "self") {
                expect(r.inputs.referencedSecurityGroupId).toBe(sgId);
                expect(r.inputs.cidrIpv4).toBeUndefined();
            } else if (rule.cidr!.includes(":")) {
                expect(r.inputs.cidrIpv6).toBe(rule.cidr);
                expect(r.inputs.cidrIpv4).toBeUndefined();
            } else {
                expect(r.inputs.cidrIpv4).toBe(rule.cidr);
                expect(r.inputs.referencedSecurityGroupId).toBeUndefined();
            }
        }
        const esp = mocks.named(INGRESS, "fw-swarm-esp").inputs;
        expect(esp).toMatchObject({ ipProtocol: "50", referencedSecurityGroupId: sgId });
        expect(esp.fromPort).toBeUndefined();
        expect(mocks.named(INGRESS, "fw-docker-api-admin-1").inputs).toMatchObject({ ipProtocol: "tcp", fromPort: 2376, toPort: 2376, cidrIpv6: "fd00:8::/64" });
        const open = [...ingress, ...egress].filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0" || r.inputs.cidrIpv6 === "::/0");
        expect(open.map((r) => r.name)).toEqual(["fw-egress-all"]);
    });

    it.each([
        [{ vpcCidr: "10.0.0.0" }, /vpcCidr "10\.0\.0\.0" is not an IPv4 CIDR/],
        [{ adminCidrs: ["0.0.0.0/0"] }, /adminCidrs entry 0\.0\.0\.0\/0 opens the Docker API and SSH to everyone/],
        [{ rpcCidrs: ["10.1.2.3/16"] }, /rpcCidrs entry 10\.1\.2\.3\/16 has host bits set; write 10\.1\.0\.0\/16/],
        [{ p2pCidrs: ["nope"] }, /p2pCidrs entry "nope" is not a CIDR/],
        [{ ports: { rpc: 0, p2p: 30303, bootnode: 30301, visualizer: 8080 } }, /ports\.rpc 0 is not a port number/],
    ])("refuses bad arguments (%j)", (bad, message) => {
        const base = { vpcId: "vpc-1", ...firewallOptionsFromConfig(awsConfig()) };
        expect(() => new SwarmFirewall("bad-fw", { ...base, ...bad })).toThrow(message);
    });
});
