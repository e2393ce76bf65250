import { describe, expect, it } from "vitest";
import { countByType, installProgramMocks, mockedHex, settle, valueOf } from "./programMocks";
import { expectNetworksBySwarmId } from "./programExpect";

const resources = installProgramMocks("dev", {
    "aws:region": "eu-west-1",
    "geth-swarm:target": "aws",
    "geth-swarm:zoneCount": "3",
    "geth-swarm:adminCidrs": '["81.2.69.142/32"]',
    // On here (it is off by default) so that the program's visualizer path is covered.
    "geth-swarm:visualizer": "true",
});

describe("the program, aws target (Pulumi.dev.yaml)", async () => {
    const program = await import("../../index");
    await valueOf(program.rpcEndpoints);
    await settle();

    it("builds the VPC, the firewall, three EC2 hosts and both stacks, and no local host", () => {
        const counts = countByType(resources);
        expect(counts["geth-swarm:index:GethSwarm"]).toBe(1);
        expect(counts["aws:ec2/vpc:Vpc"]).toBe(1);
        expect(counts["aws:ec2/subnet:Subnet"]).toBe(3);
        expect(counts["aws:ec2/securityGroup:SecurityGroup"]).toBe(1);
        expect(counts["aws:ec2/instance:Instance"]).toBe(3);
        expect(counts["aws:ec2/eip:Eip"]).toBe(1);
        expect(counts["docker:index/container:Container"]).toBeUndefined();
        const services = resources.filter((r) => r.type === "docker:index/service:Service").map((r) => r.inputs.name).sort();
        expect(services).toEqual(["boot_bootnode", "boot_visualizer", "nodes_miner", "nodes_node"]);
    });

    it("talks to the swarm through the manager's Elastic IP over TLS", async () => {
        expect(await valueOf(program.managerApi)).toMatch(/^tcp:\/\/203\.0\.113\.\d+:2376$/);
    });

    it("exports the enode on the boot host's private IP and RPC on the node hosts' public IPs", async () => {
        expect(await valueOf(program.enode)).toMatch(/^enode:\/\/[0-9a-f]{128}@10\.0\.\d+\.\d+:30301$/);
        const rpc = await valueOf(program.rpcEndpoints);
        expect(rpc).toHaveLength(2);
        for (const url of rpc) expect(url).toMatch(/^http:\/\/(198\.51\.100|203\.0\.113)\.\d+:8545$/);
        expect(program.target).toBe("aws");
    });

    it("puts no generated key in any resource input outside secrets", () => {
        const keys = resources.filter((r) => r.type === "random:index/randomBytes:RandomBytes").map((r) => mockedHex(r.name));
        expect(keys.length).toBeGreaterThanOrEqual(2); // bootnode key + one signer key
        const plain = JSON.stringify(resources.map((r) => r.inputs), (_k, v) =>
            // Secret inputs arrive wrapped; leave them out, everything else must be free of keys.
            v && typeof v === "object" && v["4dabf18193072939515e22adb298388d"] ? "<secret>" : v,
        );
        for (const k of keys) expect(plain).not.toContain(k);
    });

    it("gives every service its networks by swarm ID: the host network's read by each stack from the manager, the overlay's from its resource", () => {
        expectNetworksBySwarmId(resources, { visualizer: true });
    });
});
