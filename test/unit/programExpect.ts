// Assertions both program tests make (vitest only: programMocks.ts also runs outside vitest).
import { expect } from "vitest";
import { ProgramResource, mockedSwarmNetworkId } from "./programMocks";

/**
 * Both targets' program: each stack reads the host network's swarm ID from the manager
 * (a `SwarmNetworkId` named `geth-<stack>-host-network`), and every service names its
 * networks by ID: the host network by that ID, the boot overlay (the visualizer's, when
 * the stack runs one) by its resource's id.
 */
export function expectNetworksBySwarmId(resources: readonly ProgramResource[], opts: { visualizer: boolean }): void {
    const reads = resources.filter((r) => r.type === "pulumi-nodejs:dynamic/geth-swarm:SwarmNetworkId");
    expect(reads.map((r) => [r.name, r.inputs.name]).sort()).toEqual([
        ["geth-boot-host-network", "host"],
        ["geth-nodes-host-network", "host"],
    ]);
    const overlays = resources.filter((r) => r.type === "docker:index/network:Network" && r.name.startsWith("geth-boot-"));
    expect(overlays.map((r) => [r.name, r.inputs.name])).toEqual([["geth-boot-network-default", "boot_default"]]);
    const services = resources.filter((r) => r.type === "docker:index/service:Service");
    expect(Object.fromEntries(services.map((s) => [s.inputs.name, s.inputs.taskSpec.networksAdvanceds]))).toEqual({
        boot_bootnode: [{ id: mockedSwarmNetworkId("host") }],
        ...(opts.visualizer ? { boot_visualizer: [{ id: "geth-boot-network-default-id" }] } : {}),
        nodes_node: [{ id: mockedSwarmNetworkId("host") }],
        nodes_miner: [{ id: mockedSwarmNetworkId("host") }],
    });
}
