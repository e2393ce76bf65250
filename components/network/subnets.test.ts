import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrsOverlap, hostAddress, parseIpv4Block, planSubnets, splitCidr, SubnetPlanError } from "./subnets";

describe("splitCidr", () => {
    it.each([
        ["10.0.0.0/16", 3, 0, ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]],
        ["10.0.0.0/16", 4, 0, ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18", "10.0.192.0/18"]],
        ["10.0.0.0/16", 1, 0, ["10.0.0.0/16"]],
        ["10.0.0.0/16", 3, 24, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]],
        ["10.0.0.0/16", 6, 0, ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19", "10.0.128.0/19", "10.0.160.0/19"]],
        ["192.168.10.0/24", 2, 0, ["192.168.10.0/25", "192.168.10.128/25"]],
        ["172.31.255.0/24", 16, 0, Array.from({ length: 16 }, (_, i) => `172.31.255.${i * 16}/28`)],
        ["10.1.2.0/28", 1, 28, ["10.1.2.0/28"]],
    ] as const)("%s into %i subnets (prefix %i)", (vpc, count, prefix, expected) => {
        expect(splitCidr(vpc, count, prefix)).toEqual(expected);
    });

    it.each([
        ["10.0.0.0/33", 3, 0, /not an IPv4 CIDR/],
        ["not-a-cidr", 3, 0, /not an IPv4 CIDR/],
        ["fd00::/56", 3, 0, /not an IPv4 CIDR/],
        ["10.0.0.1/16", 3, 0, /host bits set; write 10\.0\.0\.0\/16/],
        ["10.0.0.0/16", 0, 0, /count 0 must be a whole number/],
        ["10.0.0.0/16", 2.5, 0, /count 2.5 must be a whole number/],
        ["10.0.0.0/16", 3, 15, /larger than the VPC/],
        ["10.0.0.0/16", 3, 17, /3 subnets of \/17 do not fit in 10\.0\.0\.0\/16 \(it holds 2\); use a prefix length of 18 or more/],
        ["10.0.0.0/16", 3, 29, /smaller than \/28/],
        ["10.0.0.0/26", 6, 0, /too small for 6 subnets.*\/25 or larger/],
        ["10.0.0.0/16", 3, -1, /must be 0 \(automatic\)/],
    ] as const)("%s into %i subnets (prefix %i) is refused", (vpc, count, prefix, message) => {
        expect(() => splitCidr(vpc, count, prefix)).toThrow(SubnetPlanError);
        expect(() => splitCidr(vpc, count, prefix)).toThrow(message);
    });

    const vpcArb = fc
        .record({ a: fc.integer({ min: 0, max: 255 }), b: fc.integer({ min: 0, max: 255 }), c: fc.integer({ min: 0, max: 255 }), prefix: fc.integer({ min: 16, max: 28 }) })
        .map(({ a, b, c, prefix }) => {
            const base = ((10 << 24) | (a << 16) | (b << 8) | c) >>> 0;
            const net = (base & (~0 << (32 - prefix))) >>> 0;
            return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${prefix}`;
        });

    it("property: subnets are disjoint, inside the VPC, of one size, as many as asked", () => {
        fc.assert(
            fc.property(vpcArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 4 }), (vpc, count, extra) => {
                const { base, prefix: vp } = parseIpv4Block(vpc);
                const auto = vp + Math.ceil(Math.log2(count));
                fc.pre(auto <= 28);
                const prefix = extra === 0 ? 0 : Math.min(28, auto + extra - 1);
                const subnets = splitCidr(vpc, count, prefix);
                expect(subnets).toHaveLength(count);
                const blocks = subnets.map((s) => parseIpv4Block(s));
                const size = 2 ** (32 - blocks[0].prefix);
                for (const b of blocks) {
                    expect(b.prefix).toBe(prefix === 0 ? auto : prefix);
                    expect(b.base).toBeGreaterThanOrEqual(base);
                    expect(b.base + size).toBeLessThanOrEqual(base + 2 ** (32 - vp));
                }
                for (let i = 0; i < subnets.length; i++) {
                    for (let j = i + 1; j < subnets.length; j++) expect(cidrsOverlap(subnets[i], subnets[j])).toBe(false);
                    expect(cidrsOverlap(subnets[i], vpc)).toBe(true);
                }
            }),
        );
    });

    it("property: when the subnets cannot fit, the error says so and names a prefix that fits", () => {
        fc.assert(
            fc.property(vpcArb, fc.integer({ min: 2, max: 64 }), (vpc, count) => {
                const { prefix: vp } = parseIpv4Block(vpc);
                const auto = vp + Math.ceil(Math.log2(count));
                fc.pre(auto <= 28 && auto - 1 >= vp && 2 ** (auto - 1 - vp) < count);
                expect(() => splitCidr(vpc, count, auto - 1)).toThrow(`use a prefix length of ${auto} or more`);
            }),
        );
    });
});

describe("planSubnets", () => {
    it("puts the public subnets first and the private ones after them", () => {
        expect(planSubnets("10.0.0.0/16", 3, { privateSubnets: true })).toEqual({
            public: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
            private: ["10.0.96.0/19", "10.0.128.0/19", "10.0.160.0/19"],
        });
        expect(planSubnets("10.0.0.0/16", 2)).toEqual({ public: ["10.0.0.0/17", "10.0.128.0/17"], private: [] });
    });
});

describe("hostAddress", () => {
    it.each([
        ["10.0.0.0/18", 10, "10.0.0.10"],
        ["10.0.64.0/18", 300, "10.0.65.44"],
        ["10.1.2.16/28", 4, "10.1.2.20"],
        ["10.1.2.16/28", 14, "10.1.2.30"],
    ] as const)("%s + %i = %s", (cidr, offset, expected) => {
        expect(hostAddress(cidr, offset)).toBe(expected);
    });

    it.each([
        ["10.0.0.0/18", 3],
        ["10.1.2.16/28", 15],
        ["10.1.2.16/28", 16],
    ] as const)("refuses %s + %i (reserved by AWS or outside)", (cidr, offset) => {
        expect(() => hostAddress(cidr, offset)).toThrow(/not assignable.*AWS reserves/);
    });
});
