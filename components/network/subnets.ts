import * as ipaddr from "ipaddr.js";

/** Smallest subnet AWS allows (a /28 holds 16 addresses, 11 usable). */
export const AWS_MIN_SUBNET_PREFIX = 28;

/** Addresses AWS reserves at the start of every subnet (network, router, DNS, future use). */
export const AWS_RESERVED_LEADING_ADDRESSES = 4;

/** Thrown when a CIDR cannot be split as asked; the message names the input and the fix. */
export class SubnetPlanError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SubnetPlanError";
    }
}

function toInt(addr: ipaddr.IPv4): number {
    return addr.toByteArray().reduce((acc, b) => acc * 256 + b, 0);
}

function fromInt(n: number): ipaddr.IPv4 {
    return new ipaddr.IPv4([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** A parsed IPv4 CIDR as a [first address, prefix length] pair of integers. */
export interface Ipv4Block {
    readonly base: number;
    readonly prefix: number;
}

/**
 * Parse an IPv4 CIDR whose host bits are zero (`10.0.0.0/16`). Throws a
 * {@link SubnetPlanError} naming `what` for anything else.
 */
export function parseIpv4Block(cidr: string, what = "CIDR"): Ipv4Block {
    if (!ipaddr.IPv4.isValidCIDR(cidr)) {
        throw new SubnetPlanError(`${what} ${JSON.stringify(cidr)} is not an IPv4 CIDR; write it like 10.0.0.0/16.`);
    }
    const [addr, prefix] = ipaddr.IPv4.parseCIDR(cidr);
    const network = ipaddr.IPv4.networkAddressFromCIDR(cidr);
    if (toInt(addr) !== toInt(network)) {
        throw new SubnetPlanError(`${what} ${cidr} has host bits set; write ${network.toString()}/${prefix}.`);
    }
    return { base: toInt(network), prefix };
}

/** Format a block as a CIDR string. */
export function formatIpv4Block(block: Ipv4Block): string {
    return `${fromInt(block.base).toString()}/${block.prefix}`;
}

/** The prefix length of the largest equal subnets of which `count` fit into a /`vpcPrefix`. */
export function automaticSubnetPrefix(vpcPrefix: number, count: number): number {
    return vpcPrefix + Math.ceil(Math.log2(count));
}

/**
 * Split `vpcCidr` into `count` equal, disjoint subnets, in address order, starting at the
 * VPC's first address.
 *
 * @param prefixLength prefix length of each subnet; `0` (the default) picks the largest
 *   subnets that fit (`/16` split in 3 gives three `/18`s).
 * @throws SubnetPlanError when the CIDR is not a canonical IPv4 CIDR, the count is not a
 *   positive whole number, the prefix is shorter than the VPC's, or the subnets do not fit
 *   (including when they would be smaller than AWS's minimum `/28`).
 */
export function splitCidr(vpcCidr: string, count: number, prefixLength = 0): string[] {
    const vpc = parseIpv4Block(vpcCidr, "VPC CIDR");
    if (!Number.isSafeInteger(count) || count < 1) {
        throw new SubnetPlanError(`subnet count ${count} must be a whole number of at least 1.`);
    }
    if (!Number.isSafeInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
        throw new SubnetPlanError(`subnet prefix length ${prefixLength} must be 0 (automatic) or from ${vpc.prefix} to ${AWS_MIN_SUBNET_PREFIX}.`);
    }
    const needed = automaticSubnetPrefix(vpc.prefix, count);
    const prefix = prefixLength === 0 ? needed : prefixLength;
    if (prefix < vpc.prefix) {
        throw new SubnetPlanError(`subnet prefix /${prefix} is larger than the VPC ${vpcCidr}; use a prefix length from ${needed} to ${AWS_MIN_SUBNET_PREFIX}, or 0 for automatic.`);
    }
    if (prefix > AWS_MIN_SUBNET_PREFIX) {
        throw new SubnetPlanError(
            prefixLength === 0
                ? `VPC ${vpcCidr} is too small for ${count} subnets: each would be smaller than /${AWS_MIN_SUBNET_PREFIX}, the smallest AWS subnet; use a VPC of /${AWS_MIN_SUBNET_PREFIX - Math.ceil(Math.log2(count))} or larger, or fewer subnets.`
                : `subnet prefix /${prefix} is smaller than /${AWS_MIN_SUBNET_PREFIX}, the smallest AWS subnet; use a prefix length of at most ${AWS_MIN_SUBNET_PREFIX}.`,
        );
    }
    if (prefix < needed) {
        throw new SubnetPlanError(`${count} subnets of /${prefix} do not fit in ${vpcCidr} (it holds ${2 ** (prefix - vpc.prefix)}); use a prefix length of ${needed} or more, or 0 for automatic.`);
    }
    const size = 2 ** (32 - prefix);
    return Array.from({ length: count }, (_, i) => formatIpv4Block({ base: vpc.base + i * size, prefix }));
}

/** Public and private subnet CIDRs for `zoneCount` zones: public subnets first, then private ones. */
export interface SubnetPlan {
    readonly public: readonly string[];
    readonly private: readonly string[];
}

/**
 * Plan one public subnet per zone, and with `privateSubnets` one private subnet per zone,
 * all of one size, carved from `vpcCidr` in that order.
 */
export function planSubnets(vpcCidr: string, zoneCount: number, opts: { privateSubnets?: boolean; prefixLength?: number } = {}): SubnetPlan {
    const all = splitCidr(vpcCidr, zoneCount * (opts.privateSubnets ? 2 : 1), opts.prefixLength ?? 0);
    return { public: all.slice(0, zoneCount), private: opts.privateSubnets ? all.slice(zoneCount) : [] };
}

/**
 * The address at `offset` from the start of `cidr` (`10.0.0.0/18`, 10 → `10.0.0.10`).
 * Refuses the addresses AWS reserves (the first four and the last) and addresses outside
 * the block, since an instance cannot be given them.
 */
export function hostAddress(cidr: string, offset: number): string {
    const block = parseIpv4Block(cidr, "subnet CIDR");
    const size = 2 ** (32 - block.prefix);
    if (!Number.isSafeInteger(offset) || offset < AWS_RESERVED_LEADING_ADDRESSES || offset >= size - 1) {
        throw new SubnetPlanError(
            `address offset ${offset} is not assignable in ${cidr}; AWS reserves the first ${AWS_RESERVED_LEADING_ADDRESSES} and the last address, so use ${AWS_RESERVED_LEADING_ADDRESSES} to ${size - 2}.`,
        );
    }
    return fromInt(block.base + offset).toString();
}

/** Whether two IPv4 CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
    const x = parseIpv4Block(a);
    const y = parseIpv4Block(b);
    const xEnd = x.base + 2 ** (32 - x.prefix);
    const yEnd = y.base + 2 ** (32 - y.prefix);
    return x.base < yEnd && y.base < xEnd;
}
