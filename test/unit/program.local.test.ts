import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { signerAddress } from "../../components/chain/secp256k1";
import { countByType, installProgramMocks, mockedHex, settle, valueOf } from "./programMocks";
import { expectNetworksBySwarmId } from "./programExpect";

const resources = installProgramMocks("local", {
    "geth-swarm:target": "local",
    "geth-swarm:managerCount": "1",
    "geth-swarm:workerCount": "1",
    "geth-swarm:minerCount": "1",
    "geth-swarm:encryptedOverlay": "false",
});

describe("the program, local target (Pulumi.local.yaml)", async () => {
    const program = await import("../../index");
    await valueOf(program.rpcEndpoints);
    await settle();

    it("builds docker-in-docker hosts, the boot and nodes stacks, and nothing on AWS", () => {
        const counts = countByType(resources);
        expect(Object.keys(counts).filter((t) => t.startsWith("aws:"))).toEqual([]);
        expect(counts["geth-swarm:index:GethSwarm"]).toBe(1);
        expect(counts["docker:index/container:Container"]).toBe(3);
        expect(counts["geth-swarm:stacks:BootStack"]).toBe(1);
        expect(counts["geth-swarm:stacks:NodesStack"]).toBe(1);
        const services = resources.filter((r) => r.type === "docker:index/service:Service").map((r) => r.inputs.name).sort();
        // No visualizer: it is off by default (it mounts the manager's Docker socket).
        expect(services).toEqual(["boot_bootnode", "nodes_miner", "nodes_node"]);
    });

    it("names every child after the component", () => {
        const named = resources.filter((r) => !r.type.startsWith("pulumi:providers:") && r.type !== "pulumi:pulumi:Stack");
        for (const r of named) expect(r.name, r.type).toMatch(/^geth(-|$)/);
    });

    it("exports the enode, RPC endpoints on 127.0.0.1 and the manager API; no visualizer URL (off by default)", async () => {
        const enode = await valueOf(program.enode);
        expect(enode).toMatch(/^enode:\/\/[0-9a-f]{128}@192\.168\.213\.\d+:30301$/);
        expect(await valueOf(program.rpcEndpoints)).toEqual(["http://127.0.0.1:18545", "http://127.0.0.1:18546"]);
        expect(await valueOf(program.managerApi)).toBe("tcp://127.0.0.1:12375");
        expect(await valueOf(program.visualizerUrl)).toBeUndefined();
        expect(program.target).toBe("local");
        expect(await valueOf(program.stackNames)).toEqual({ boot: "boot", nodes: "nodes" });
        const signers = await valueOf(program.signerAddresses);
        expect(signers).toHaveLength(1);
        expect(signers[0]).toMatch(/^0x[0-9a-fA-F]{40}$/);
        expect(program.chainId).toBe(4242);
        expect(await valueOf(program.wsEndpoints)).toBeUndefined();
    });

    it("exports the manager's client TLS material as a secret (what npm run docker-context reads)", async () => {
        expect(await pulumi.isSecret(program.managerTls)).toBe(true);
        const tls = await valueOf(program.managerTls);
        expect(Object.keys(tls).sort()).toEqual(["caPem", "certPem", "keyPem"]);
        expect(tls.keyPem).toMatch(/PRIVATE KEY/);
    });

    it("exports the development account funded in the genesis as a secret: its address and key", async () => {
        expect(await pulumi.isSecret(program.devAccount)).toBe(true);
        const key = mockedHex("geth-nodes-dev-account-key");
        expect(await valueOf(program.devAccount)).toEqual({ address: signerAddress(key), privateKey: `0x${key}` });
        expect(resources.filter((r) => r.type === "random:index/randomBytes:RandomBytes").map((r) => r.name)).toContain("geth-nodes-dev-account-key");
    });

    it("gives every service its networks by swarm ID: the host network's read by each stack from the manager, the overlay's from its resource", () => {
        expectNetworksBySwarmId(resources, { visualizer: false });
    });
});
