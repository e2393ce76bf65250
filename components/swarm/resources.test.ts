/**
 * The dynamic resources of this folder expose their outputs: under Pulumi mocks that return
 * realistic outputs, each declared output property is an Output resolving to them (a class
 * field initialiser would overwrite what the base constructor set with undefined).
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { BootnodeEnodeCheck, ChainReady, SwarmNetworkId, SwarmNodeLabels, chainObserveTimeoutMs } from "./resources";

const OUTS: Record<string, Record<string, unknown>> = {
    SwarmNodeLabels: { nodeIds: { manager: "n1", worker: "n2" }, fingerprint: "fp" },
    BootnodeEnodeCheck: { reportedEnode: `enode://${"a".repeat(128)}@10.0.1.11:0?discport=30301`, nodeId: "a".repeat(128), fingerprint: "fp" },
    ChainReady: { heads: { "http://198.51.100.10:8545": 12 }, fingerprint: "fp" },
    SwarmNetworkId: { name: "host", networkId: "bael5p9zpd1mx79y4xt9kmx6s" },
};

pulumi.runtime.setMocks(
    {
        newResource(args) {
            const kind = args.type.split(":").pop()!;
            return { id: `${args.name}-id`, state: { ...args.inputs, ...(OUTS[kind] ?? {}) } };
        },
        call(args) {
            return args.inputs;
        },
    },
    "geth-swarm",
    "test",
    false,
);

const value = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => resolve(v)));
const endpoint = { host: "tcp://198.51.100.10:2376" };

describe("dynamic resources expose their outputs", () => {
    it("SwarmNodeLabels.nodeIds", async () => {
        const r = new SwarmNodeLabels("labels", { endpoint, hosts: [{ name: "manager", labels: {} }] });
        expect(await value(r.nodeIds)).toEqual(OUTS.SwarmNodeLabels.nodeIds);
    });

    it("BootnodeEnodeCheck.reportedEnode and nodeId", async () => {
        const r = new BootnodeEnodeCheck("check", { endpoint, serviceName: "boot_bootnode", expectedEnode: OUTS.BootnodeEnodeCheck.reportedEnode as string });
        expect(await value(r.reportedEnode)).toBe(OUTS.BootnodeEnodeCheck.reportedEnode);
        expect(await value(r.nodeId)).toBe(OUTS.BootnodeEnodeCheck.nodeId);
    });

    it("ChainReady.heads", async () => {
        const r = new ChainReady("chain", { rpcUrls: ["http://198.51.100.10:8545"], chainId: 4242 });
        expect(await value(r.heads)).toEqual(OUTS.ChainReady.heads);
    });

    it("SwarmNetworkId.name and networkId", async () => {
        const r = new SwarmNetworkId("host-network", { endpoint, name: "host" });
        expect(await value(r.name)).toBe("host");
        expect(await value(r.networkId)).toBe("bael5p9zpd1mx79y4xt9kmx6s");
    });
});

describe("what pulumi refresh waits for the chain (chainObserveTimeoutMs)", () => {
    // [timeoutSeconds, blockPeriodSeconds, expected ms]
    const cases: Array<[number | undefined, number | undefined, number]> = [
        [600, undefined, 60_000], // no period known: a minute
        [600, 5, 60_000], // 2 × 5 + 30 = 40 s fits in the minute
        [600, 15, 60_000], // 60 s exactly
        [600, 28, 86_000], // 2 × 28 + 30: heads advance within two periods
        [100, 60, 100_000], // never past the resource's own bound
        [45, 5, 45_000], // a bound under a minute stays the bound
        [undefined, 120, 270_000], // no bound given: the period's need
    ];
    it.each(cases)("timeout %s s, block period %s s -> %s ms", (timeout, period, expected) => {
        expect(chainObserveTimeoutMs(timeout, period)).toBe(expected);
    });
});
