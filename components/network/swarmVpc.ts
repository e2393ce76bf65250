import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { GethSwarmConfig, NatStrategy } from "../config/types";
import { planSubnets, SubnetPlanError } from "./subnets";

/** Largest zone count: AWS regions have at most six zones that need no opt-in. */
export const MAX_ZONES = 6;

export interface SwarmVpcArgs {
    /** IPv4 CIDR of the VPC, a /16 to a /28 (`10.0.0.0/16`). Subnet CIDRs are computed from it. */
    readonly cidrBlock: string;
    /** Number of zones that get a subnet; default 3, or the length of `availabilityZones`. */
    readonly zoneCount?: number;
    /** Zone names to use, in order (`eu-west-1a`, ...); default: the region's first available zones. */
    readonly availabilityZones?: readonly string[];
    /** Prefix length of every subnet; 0 or absent: the largest subnets that fit. */
    readonly subnetPrefixLength?: number;
    /** Also create one private subnet per zone (default false). */
    readonly privateSubnets?: boolean;
    /**
     * Outbound internet for the private subnets: `none` (default; private subnets reach only
     * the VPC), `single` (one NAT gateway in the first zone), `perZone` (one per zone, so a
     * zone outage does not cut the others off).
     */
    readonly natStrategy?: NatStrategy;
    /** Tags added to every resource. */
    readonly tags?: Readonly<Record<string, string>>;
}

/** A subnet as the hosts component needs it. */
export interface SwarmSubnet {
    readonly id: pulumi.Output<string>;
    /** Computed before deployment, so addresses in it can be planned (see `hostAddress`). */
    readonly cidrBlock: string;
    readonly availabilityZone: pulumi.Output<string>;
}

/** The VPC arguments of a validated program config. */
export function swarmVpcArgsFromConfig(config: GethSwarmConfig): SwarmVpcArgs {
    return {
        cidrBlock: config.aws.vpcCidr,
        zoneCount: config.aws.zoneCount,
        availabilityZones: config.aws.availabilityZones.length > 0 ? config.aws.availabilityZones : undefined,
        subnetPrefixLength: config.aws.subnetPrefixLength,
        privateSubnets: config.aws.privateSubnets,
        natStrategy: config.aws.natStrategy,
    };
}

const NAT_STRATEGIES: readonly NatStrategy[] = ["none", "single", "perZone"];

/** Letter of zone `i` (`a` for the first zone used), as the config names zones. */
export function zoneLetter(i: number): string {
    return String.fromCharCode(97 + i);
}

/**
 * A VPC for the swarm hosts: one public subnet per availability zone (instances there get
 * public addresses), an internet gateway and a public route table with a default route;
 * optionally one private subnet per zone with NAT as `natStrategy` says.
 *
 * Subnet CIDRs are computed from `cidrBlock` by pure code ({@link planSubnets}): public
 * subnets first, in zone order, then private ones. Zones are looked up
 * (`aws.getAvailabilityZones`, state `available`, zones that need no opt-in, so no Local or
 * Wavelength Zones) unless given.
 *
 * Child names use the zone letter (`<name>-public-a`), so they stay stable when the
 * zone names are only known at deployment.
 */
export class SwarmVpc extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly cidrBlock: pulumi.Output<string>;
    /** Public subnet ids, in zone order. */
    public readonly subnetIds: pulumi.Output<string>[];
    /** Private subnet ids, in zone order (empty without `privateSubnets`). */
    public readonly privateSubnetIds: pulumi.Output<string>[];
    /** Zone names, in order. */
    public readonly availabilityZones: pulumi.Output<string>[];
    /** Public subnets with their planned CIDRs, in zone order. */
    public readonly publicSubnets: SwarmSubnet[];
    /** Private subnets with their planned CIDRs, in zone order. */
    public readonly privateSubnets: SwarmSubnet[];
    public readonly internetGatewayId: pulumi.Output<string>;
    public readonly natGatewayIds: pulumi.Output<string>[];

    constructor(name: string, args: SwarmVpcArgs, opts?: pulumi.ComponentResourceOptions) {
        const { zoneCount, plan } = checkVpcArgs(name, args);
        super("geth-swarm:network:SwarmVpc", name, {}, opts);

        const natStrategy = args.natStrategy ?? "none";
        const tags = (n: string) => ({ ...args.tags, Name: n });
        const parent = { parent: this };

        const zones: pulumi.Output<string>[] = args.availabilityZones
            ? args.availabilityZones.map((z) => pulumi.output(z))
            : (() => {
                  const found = aws.getAvailabilityZonesOutput(
                      { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
                      parent,
                  );
                  return Array.from({ length: zoneCount }, (_, i) =>
                      found.names.apply((names) => selectZones(name, names, zoneCount)[i]),
                  );
              })();

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: args.cidrBlock, enableDnsSupport: true, enableDnsHostnames: true, tags: tags(name) }, parent);
        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags(`${name}-igw`) }, parent);
        const publicRt = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, tags: tags(`${name}-public`) }, parent);
        new aws.ec2.Route(`${name}-public-default`, { routeTableId: publicRt.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }, parent);

        const publicSubnets = plan.public.map((cidr, i) => {
            const z = zoneLetter(i);
            const subnet = new aws.ec2.Subnet(
                `${name}-public-${z}`,
                { vpcId: vpc.id, cidrBlock: cidr, availabilityZone: zones[i], mapPublicIpOnLaunch: true, tags: tags(`${name}-public-${z}`) },
                parent,
            );
            new aws.ec2.RouteTableAssociation(`${name}-public-${z}`, { subnetId: subnet.id, routeTableId: publicRt.id }, parent);
            return { subnet, cidr };
        });

        const natZones = natStrategy === "perZone" ? plan.private.map((_, i) => i) : natStrategy === "single" ? [0] : [];
        const nats = natZones.map((i) => {
            const z = zoneLetter(i);
            const eip = new aws.ec2.Eip(`${name}-nat-${z}`, { domain: "vpc", tags: tags(`${name}-nat-${z}`) }, parent);
            return new aws.ec2.NatGateway(
                `${name}-nat-${z}`,
                { allocationId: eip.allocationId, subnetId: publicSubnets[i].subnet.id, connectivityType: "public", tags: tags(`${name}-nat-${z}`) },
                { parent: this, dependsOn: [igw] },
            );
        });

        const privateSubnets = plan.private.map((cidr, i) => {
            const z = zoneLetter(i);
            const subnet = new aws.ec2.Subnet(
                `${name}-private-${z}`,
                { vpcId: vpc.id, cidrBlock: cidr, availabilityZone: zones[i], mapPublicIpOnLaunch: false, tags: tags(`${name}-private-${z}`) },
                parent,
            );
            const rt = new aws.ec2.RouteTable(`${name}-private-${z}`, { vpcId: vpc.id, tags: tags(`${name}-private-${z}`) }, parent);
            const nat = natStrategy === "perZone" ? nats[i] : natStrategy === "single" ? nats[0] : undefined;
            if (nat) {
                new aws.ec2.Route(`${name}-private-${z}-default`, { routeTableId: rt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id }, parent);
            }
            new aws.ec2.RouteTableAssociation(`${name}-private-${z}`, { subnetId: subnet.id, routeTableId: rt.id }, parent);
            return { subnet, cidr };
        });

        this.vpcId = vpc.id;
        this.cidrBlock = vpc.cidrBlock;
        this.subnetIds = publicSubnets.map((s) => s.subnet.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.subnet.id);
        this.availabilityZones = zones;
        this.publicSubnets = publicSubnets.map((s, i) => ({ id: s.subnet.id, cidrBlock: s.cidr, availabilityZone: zones[i] }));
        this.privateSubnets = privateSubnets.map((s, i) => ({ id: s.subnet.id, cidrBlock: s.cidr, availabilityZone: zones[i] }));
        this.internetGatewayId = igw.id;
        this.natGatewayIds = nats.map((n) => n.id);

        this.registerOutputs({
            vpcId: this.vpcId,
            cidrBlock: this.cidrBlock,
            subnetIds: this.subnetIds,
            privateSubnetIds: this.privateSubnetIds,
            availabilityZones: this.availabilityZones,
            internetGatewayId: this.internetGatewayId,
            natGatewayIds: this.natGatewayIds,
        });
    }
}

/**
 * The first `count` of the region's zones. Throws, naming the fix, when the region has
 * fewer (the error then fails the deployment before any subnet is created).
 */
export function selectZones(vpcName: string, available: readonly string[], count: number): string[] {
    if (available.length < count) {
        throw new Error(
            `SwarmVpc ${vpcName}: the region has ${available.length} available zone(s) (${available.join(", ")}) but ${count} were asked for; lower zoneCount or list availabilityZones.`,
        );
    }
    return available.slice(0, count);
}

/** Validate args given without the config layer; errors name the argument and the fix. */
function checkVpcArgs(name: string, args: SwarmVpcArgs) {
    const problems: string[] = [];
    const zoneCount = args.zoneCount ?? args.availabilityZones?.length ?? 3;
    if (!Number.isInteger(zoneCount) || zoneCount < 1 || zoneCount > MAX_ZONES) {
        problems.push(`zoneCount ${zoneCount} must be from 1 to ${MAX_ZONES}.`);
    }
    if (args.availabilityZones) {
        if (args.availabilityZones.length !== zoneCount) {
            problems.push(`availabilityZones lists ${args.availabilityZones.length} zone(s) but zoneCount is ${zoneCount}; list exactly zoneCount zones or omit availabilityZones.`);
        }
        if (new Set(args.availabilityZones).size !== args.availabilityZones.length) problems.push("availabilityZones lists a zone twice; list each zone once.");
    }
    const nat = args.natStrategy ?? "none";
    if (!NAT_STRATEGIES.includes(nat)) problems.push(`natStrategy ${JSON.stringify(nat)} must be "none", "single" or "perZone".`);
    else if (nat !== "none" && !args.privateSubnets) problems.push(`natStrategy ${JSON.stringify(nat)} gives NAT to private subnets, but privateSubnets is off; set privateSubnets: true or natStrategy: "none".`);
    let plan = { public: [] as readonly string[], private: [] as readonly string[] };
    if (problems.length === 0) {
        try {
            plan = planSubnets(args.cidrBlock, zoneCount, { privateSubnets: args.privateSubnets, prefixLength: args.subnetPrefixLength ?? 0 });
        } catch (e) {
            if (!(e instanceof SubnetPlanError)) throw e;
            problems.push(`cidrBlock/subnetPrefixLength: ${e.message}`);
        }
    }
    if (problems.length > 0) throw new Error(`SwarmVpc ${name}: invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return { zoneCount, plan };
}
