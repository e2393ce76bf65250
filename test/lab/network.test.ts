// The project's own boot and nodes stacks on a real 3-host swarm with real geth v1.13.15:
// the config layer's host plan and labels (applied with the project's applyNodeLabels),
// the boot stack's bootnode (enode read back with the project's read-back code), the nodes
// stack (Clique signer on the miner host, RPC nodes elsewhere, the p2p services on the
// swarm's host network with no published ports), a transaction across hosts, and no key
// material outside swarm secrets.
// Runs as root: `npx vitest run --project lab test/lab/network.test.ts`.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import { afterAll, describe, expect, it } from "vitest";
import { enodeFromNodeKey, parseEnode } from "../../components/chain";
import { resolveConfig } from "../../components/config";
import type { GethSwarmConfig } from "../../components/config/types";
import { applyNodeLabels, enodeNodeId, readBootnodeEnode, verifyBootnodeEnode } from "../../components/swarm";
import {
    BOOTNODE_KEY_SECRET,
    DATA_DIR,
    StackSpec,
    bootStackSpec,
    contentDigest,
    nodesStackSpec,
    writeComposeBundle,
} from "../../stacks";
import { RpcError, gethConsole, hexToNumber, rpc, taskContainer } from "./chain";
import { describeLeftovers, isEmpty, listLeftovers } from "./cleanup";
import { Lab, startLab, waitFor } from "./hosts";
import { discv4Ping, tcpConnect } from "./probes";
import { mergeResults } from "./results";
import { createStackSecrets, deploySpec, hostsOf, newStackKeys } from "./deploy";

const BLOCK_PERIOD = 2;
const IPC = `${DATA_DIR}/geth.ipc`;
/** Upper bounds that only catch hangs; the measured figures are far below. */
const BOUND = { enode: 120_000, firstBlock: 90_000, peers: 90_000, heads: 90_000, tx: 60_000 };
/** Blocks on top of the transaction's block before both nodes' receipts are compared. */
const CONFIRMATIONS = 3;

// --- what the test generates (as `pulumi up` would) ---------------------------------------
const funded = Wallet.createRandom();
const config: GethSwarmConfig = resolveConfig({
    visualizer: false,
    encryptedOverlay: false,
    blockPeriod: BLOCK_PERIOD,
    prefundAccounts: [funded.address],
});
const { bootnodeKey, signerKeys, signerPasswords, signerAddresses } = newStackKeys(config.chain.signerCount);
const { nodeHosts, minerHosts } = hostsOf(config);

/** Every piece of key material, in the spellings it could leak in. */
function needles(): string[] {
    const keys = [bootnodeKey, ...signerKeys, funded.privateKey.slice(2)];
    return [...keys, ...signerPasswords].map((s) => s.toLowerCase());
}
function leaks(where: string, text: string): string[] {
    const hay = text.toLowerCase();
    return needles()
        .map((n, i) => (hay.includes(n) ? `${where} holds secret #${i}` : undefined))
        .filter((x): x is string => x !== undefined);
}

// --- state shared by the steps ------------------------------------------------------------
let lab: Lab | undefined;
let bootSpec: StackSpec | undefined;
let nodesSpec: StackSpec | undefined;
let expectedEnode = "";
let nodesDeployedAt = 0;
const figures: Record<string, unknown> = {};

const L = () => {
    if (!lab) throw new Error("the lab is not up (an earlier step failed)");
    return lab;
};
const ipOf = (name: string) => L().host(name).ip;
const service = (spec: StackSpec | undefined, key: string) => {
    const s = spec?.services.find((x) => x.key === key);
    if (!s) throw new Error(`no service ${key} in ${spec?.stack ?? "(no spec)"}`);
    return s.name;
};
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/** What one geth node reports: peers and head. RPC for node hosts, the console over IPC for miners. */
interface NodeView {
    host: string;
    peers: number;
    number: number;
    hash: string;
}
async function viewOf(host: string): Promise<NodeView> {
    if (nodeHosts.includes(host)) {
        const [peers, block] = await Promise.all([
            rpc<string>(ipOf(host), config.ports.rpc, "net_peerCount"),
            rpc<{ number: string; hash: string }>(ipOf(host), config.ports.rpc, "eth_getBlockByNumber", ["latest", false]),
        ]);
        return { host, peers: hexToNumber(peers), number: hexToNumber(block.number), hash: block.hash };
    }
    const v = await gethConsole<{ peers: number; number: number; hash: string }>(
        L(),
        host,
        service(nodesSpec, "miner"),
        '(function(){var b=eth.getBlock("latest");return JSON.stringify({peers:admin.peers.length,number:b.number,hash:b.hash})})()',
        IPC,
    );
    return { host, ...v };
}
const allHosts = () => [...nodeHosts, ...minerHosts];
const viewAll = () => Promise.all(allHosts().map(viewOf));

/**
 * Watches the chain from the nodes-stack deploy on, recording when each milestone is first
 * seen: a block above genesis, every node with a peer, every node on the same head.
 */
interface Milestones {
    firstBlock?: number;
    allPeers?: number;
    headsEqual?: number;
    /** Per host: when it first had a peer. */
    firstPeer: Record<string, number>;
    last?: NodeView[];
    lastError?: string;
}
const milestones: Milestones = { firstPeer: {} };
let watching = false;
async function watchChain(): Promise<void> {
    watching = true;
    const deadline = Date.now() + Math.max(BOUND.firstBlock, BOUND.peers, BOUND.heads);
    while (watching && Date.now() < deadline && milestones.headsEqual === undefined) {
        try {
            const views = await viewAll();
            milestones.last = views;
            milestones.lastError = undefined;
            const t = (Date.now() - nodesDeployedAt) / 1000;
            if (milestones.firstBlock === undefined && views.some((v) => v.number > 0)) milestones.firstBlock = t;
            for (const v of views) if (v.peers > 0 && milestones.firstPeer[v.host] === undefined) milestones.firstPeer[v.host] = t;
            if (milestones.allPeers === undefined && views.every((v) => v.peers > 0)) milestones.allPeers = t;
            if (views.every((v) => v.number > 0 && v.number === views[0].number && v.hash === views[0].hash)) milestones.headsEqual = t;
        } catch (e) {
            milestones.lastError = e instanceof Error ? e.message.split("\n")[0] : String(e);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
    watching = false;
}
let watcher: Promise<void> | undefined;
const describeWatch = () => `last views: ${JSON.stringify(milestones.last ?? [])}; last error: ${milestones.lastError ?? "none"}`;
async function milestone(key: "firstBlock" | "allPeers" | "headsEqual", timeoutMs: number): Promise<number> {
    return waitFor(`${key} (${describeWatch()})`, async () => milestones[key], timeoutMs, 250);
}

/** Why the services of a stack are not running: task states and errors, and the last log lines. */
async function diagnose(stack: string): Promise<string> {
    const l = L();
    const ps = await l.docker(["stack", "ps", "--no-trunc", "--format", "{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}", stack], { allowFailure: true });
    const logs = await l.docker(["service", "logs", "--raw", "--tail", "30", `${stack}_node`], { allowFailure: true });
    const mlogs = await l.docker(["service", "logs", "--raw", "--tail", "30", `${stack}_miner`], { allowFailure: true });
    return `stack ps:\n${ps.stdout}${ps.stderr}\nnode logs:\n${logs.stdout}${logs.stderr}\nminer logs:\n${mlogs.stdout}${mlogs.stderr}`;
}

interface ServiceInspect {
    ID: string;
    Spec: {
        Name: string;
        Labels?: Record<string, string>;
        TaskTemplate: {
            ContainerSpec: { Args?: string[]; Command?: string[]; Env?: string[]; Labels?: Record<string, string>; Hostname?: string };
            Networks?: Array<{ Target: string }>;
        };
        EndpointSpec?: { Mode?: string; Ports?: Array<{ PublishMode?: string; TargetPort: number; Protocol: string }> };
    };
    Endpoint?: { Ports?: Array<{ PublishMode?: string }>; VirtualIPs?: Array<{ NetworkID: string }> };
}
async function inspectServices(stack: string): Promise<ServiceInspect[]> {
    const ids = (await L().docker(["service", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${stack}`])).stdout.trim().split("\n").filter(Boolean);
    if (ids.length === 0) return [];
    return JSON.parse((await L().docker(["service", "inspect", ...ids])).stdout) as ServiceInspect[];
}

afterAll(async () => {
    watching = false;
    await watcher;
    if (lab) await lab.teardown();
});

describe("the project's boot and nodes stacks on a real 3-host swarm", () => {
    it("stands up a lab whose hosts are the config's host plan (manager, worker, miner-worker)", async () => {
        const t = Date.now();
        lab = await startLab({ hostCount: config.hosts.length });
        figures.labSetupSeconds = seconds(t);
        expect(lab.hosts.map((h) => h.name)).toEqual(config.hosts.map((h) => h.name));
        expect(config.hosts.map((h) => [h.name, h.class])).toEqual([
            ["manager", "manager"],
            ["worker", "worker"],
            ["miner-worker", "miner"],
        ]);
        expect(config.bootHost).toBe("worker");
        // The images the config names are the ones the lab loaded.
        expect([config.images.geth, config.images.tools]).toEqual([lab.images.geth, lab.images.alltools]);
        const version = await lab.docker(["run", "--rm", "--network", "none", config.images.geth, "version"], { host: "manager" });
        figures.gethVersion = /Version: (\S+)/.exec(version.stdout)?.[1];
        expect(figures.gethVersion).toBe("1.13.15-stable");
    });

    it("labels the swarm nodes from the host plan with the project's applyNodeLabels", async () => {
        const l = L();
        const wanted = config.hosts.map((h) => ({ name: h.name, labels: { ...h.labels } }));
        const results = await applyNodeLabels(l.manager.docker, wanted, { timeoutMs: 60_000 });
        expect(results.map((r) => [r.host, r.nodeId, r.updated])).toEqual(l.hosts.map((h) => [h.name, h.nodeId, true]));
        const nodes = (await l.manager.docker.listNodes()) as Array<{ ID: string; Spec: { Labels?: Record<string, string> } }>;
        for (const h of config.hosts) {
            const node = nodes.find((n) => n.ID === l.host(h.name).nodeId);
            expect(node?.Spec.Labels, h.name).toEqual(h.labels);
        }
        // Idempotent: a second run changes nothing.
        const again = await applyNodeLabels(l.manager.docker, wanted, { timeoutMs: 10_000 });
        expect(again.every((r) => !r.updated)).toBe(true);
    });

    it("1. deploys the boot stack; the bootnode's read-back enode has the node ID derived from its key", async () => {
        const l = L();
        const bootIp = ipOf(config.bootHost);
        bootSpec = bootStackSpec({ config, bootHostIp: bootIp, bootnodeKeyDigest: contentDigest(bootnodeKey) });
        expect(bootSpec.services.map((s) => s.key)).toEqual(["bootnode"]);
        await createStackSecrets(L(), bootSpec, { bootnodeKey, signerKeys, signerPasswords });
        const t = Date.now();
        await deploySpec(L(), bootSpec);

        expectedEnode = enodeFromNodeKey(bootnodeKey, bootIp, config.ports.bootnode);
        const name = service(bootSpec, "bootnode");
        const check = await verifyBootnodeEnode(l.manager.docker, name, expectedEnode, { timeoutMs: BOUND.enode });
        figures.bootDeployToEnodeSeconds = seconds(t);
        expect(check.nodeId).toBe(parseEnode(expectedEnode).id);
        const reported = await readBootnodeEnode(l.manager.docker, name, { timeoutMs: 10_000 });
        expect(enodeNodeId(reported)).toBe(parseEnode(expectedEnode).id);
        // The bootnode listens on the boot host's private IP (`-addr <ip>:<port>`, host network) and
        // prints that address, with TCP port 0 and its discovery port as `?discport=`.
        const got = parseEnode(reported);
        expect([got.id, got.host, got.port, got.discport]).toEqual([parseEnode(expectedEnode).id, bootIp, 0, config.ports.bootnode]);

        // It runs on the boot host, and its discovery port answers there, signed by that key.
        const tasks = (await l.manager.docker.listTasks({ filters: { service: [name], "desired-state": ["running"] } })) as Array<{ NodeID: string }>;
        expect(tasks.map((x) => x.NodeID)).toEqual([l.host(config.bootHost).nodeId]);
        const pong = await discv4Ping(bootIp, config.ports.bootnode);
        expect(pong.nodeId).toBe(parseEnode(expectedEnode).id);
    });

    it("deploys the nodes stack: one node per non-miner host, the signer on the miner host", async () => {
        const l = L();
        expect(expectedEnode).not.toBe("");
        nodesSpec = nodesStackSpec({
            config,
            enode: expectedEnode,
            hosts: config.hosts.map((h) => ({ name: h.name, privateIp: ipOf(h.name), class: h.class, signerIndex: h.signerIndex })),
            signers: signerKeys.map((k, i) => ({ address: signerAddresses[i], keyDigest: contentDigest(k), passwordDigest: contentDigest(signerPasswords[i]) })),
        });
        await createStackSecrets(L(), nodesSpec, { bootnodeKey, signerKeys, signerPasswords });
        nodesDeployedAt = Date.now();
        await deploySpec(L(), nodesSpec);
        watcher = watchChain();

        const placed = async (svc: string) => {
            const tasks = (await l.manager.docker.listTasks({ filters: { service: [svc], "desired-state": ["running"] } })) as Array<{ NodeID: string; Status: { State: string } }>;
            return tasks.filter((x) => x.Status.State === "running").map((x) => x.NodeID).sort();
        };
        const want = {
            node: nodeHosts.map((h) => l.host(h).nodeId).sort(),
            miner: minerHosts.map((h) => l.host(h).nodeId).sort(),
        };
        try {
            await waitFor(
                "running node and miner tasks on their hosts",
                async () => {
                    const [n, m] = await Promise.all([placed(service(nodesSpec, "node")), placed(service(nodesSpec, "miner"))]);
                    return JSON.stringify(n) === JSON.stringify(want.node) && JSON.stringify(m) === JSON.stringify(want.miner) ? true : undefined;
                },
                120_000,
            );
        } catch (e) {
            throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await diagnose(nodesSpec.stack)}`);
        }
        figures.nodesDeployToTasksRunningSeconds = seconds(nodesDeployedAt);
    });

    it("2. every geth node has peers, found through the bootnode; the miner is a peer of a node", async () => {
        const l = L();
        try {
            figures.nodesDeployToAllPeersSeconds = await milestone("allPeers", BOUND.peers);
            figures.nodesDeployToFirstPeerSecondsByHost = { ...milestones.firstPeer };
        } catch (e) {
            throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await diagnose(nodesSpec!.stack)}`);
        }
        for (const v of await viewAll()) expect(v.peers, `${v.host} peers`).toBeGreaterThan(0);
        // Same through the console of each node (the miner has no RPC).
        for (const h of minerHosts) {
            expect(await gethConsole<number>(l, h, service(nodesSpec, "miner"), "admin.peers.length", IPC)).toBeGreaterThan(0);
        }

        // Each node advertises its host's private IP (`--nat extip:` from the hosts map, looked up by
        // the container's host name, which on the host network is the host's own).
        const ids: Record<string, string> = {};
        for (const h of allHosts()) {
            const svc = service(nodesSpec, minerHosts.includes(h) ? "miner" : "node");
            const enode = await gethConsole<string>(l, h, svc, "admin.nodeInfo.enode", IPC);
            const parsed = parseEnode(enode);
            expect(`${parsed.host}:${parsed.port}`, `${h} advertises`).toBe(`${ipOf(h)}:${config.ports.p2p}`);
            ids[h] = parsed.id;
        }
        // The miner is a peer of some node.
        const minerIds = minerHosts.map((h) => ids[h]);
        const peersOf = async (h: string) =>
            (await gethConsole<string[]>(l, h, service(nodesSpec, "node"), "JSON.stringify(admin.peers.map(function(p){return p.enode}))", IPC)).map((e) => parseEnode(e).id);
        const seen = await waitFor(
            "the miner among a node's peers",
            async () => {
                const all = (await Promise.all(nodeHosts.map(peersOf))).flat();
                return minerIds.every((id) => all.includes(id)) ? all : undefined;
            },
            60_000,
        );
        expect(seen).toEqual(expect.arrayContaining(minerIds));
        // Across hosts in every direction: each node ends up peered with every other node.
        const mesh = await waitFor(
            "every node peered with every other node",
            async () => {
                const peerIds: Record<string, string[]> = {};
                for (const h of allHosts()) {
                    const svc = service(nodesSpec, minerHosts.includes(h) ? "miner" : "node");
                    peerIds[h] = (await gethConsole<string[]>(l, h, svc, "JSON.stringify(admin.peers.map(function(p){return p.enode}))", IPC)).map((e) => parseEnode(e).id);
                }
                return allHosts().every((h) => allHosts().every((o) => o === h || peerIds[h].includes(ids[o]))) ? peerIds : undefined;
            },
            60_000,
        );
        for (const h of allHosts()) expect(mesh[h].length, h).toBe(allHosts().length - 1);

        // No static peers: the only way to find each other is the bootnode.
        for (const s of nodesSpec!.services) {
            const i = s.args.indexOf("--bootnodes");
            expect(i, `${s.key} has --bootnodes`).toBeGreaterThanOrEqual(0);
            expect(s.args[i + 1]).toBe(expectedEnode);
            expect(s.args.join(" ")).not.toMatch(/static|trusted|--nodiscover|--maxpeers 0/);
            expect(s.configs.map((c) => c.target).join(" ")).not.toMatch(/static-nodes|trusted-nodes|config\.toml/);
        }
        for (const svc of await inspectServices(nodesSpec!.stack)) {
            const args = svc.Spec.TaskTemplate.ContainerSpec.Args ?? [];
            expect(args[args.indexOf("--bootnodes") + 1], svc.Spec.Name).toBe(expectedEnode);
        }
        for (const h of allHosts()) {
            const cid = await taskContainer(l, h, service(nodesSpec, minerHosts.includes(h) ? "miner" : "node"));
            const ls = await l.docker(["exec", cid, "ls", "-a", DATA_DIR, `${DATA_DIR}/geth`], { host: h });
            expect(ls.stdout, h).not.toMatch(/static-nodes|trusted-nodes/);
        }
    });

    it("3. the Clique signer seals blocks, and all nodes agree on the head", async () => {
        const l = L();
        figures.nodesDeployToFirstBlockSeconds = await milestone("firstBlock", BOUND.firstBlock);
        figures.nodesDeployToHeadsEqualSeconds = await milestone("headsEqual", BOUND.heads);

        // Every node recovers the signer of its head block (and of block 1) from the seal.
        const signers = signerAddresses.map((a) => a.toLowerCase());
        for (const h of allHosts()) {
            const svc = service(nodesSpec, minerHosts.includes(h) ? "miner" : "node");
            const r = await gethConsole<{ number: number; head: string; first: string }>(
                l,
                h,
                svc,
                '(function(){var b=eth.getBlock("latest");return JSON.stringify({number:b.number,head:clique.getSigner(b.hash),first:clique.getSigner(eth.getBlock(1).hash)})})()',
                IPC,
            );
            expect(r.number, `${h} head`).toBeGreaterThan(0);
            expect(signers, `${h} head signer`).toContain(r.head.toLowerCase());
            expect(signers, `${h} block 1 signer`).toContain(r.first.toLowerCase());
        }
        // Same block number, same hash, on every node.
        const views = await viewAll();
        const n = Math.min(...views.map((v) => v.number));
        expect(n).toBeGreaterThan(0);
        const hashes: Record<string, string> = {};
        for (const h of nodeHosts) {
            hashes[h] = (await rpc<{ hash: string }>(ipOf(h), config.ports.rpc, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false])).hash;
        }
        for (const h of minerHosts) {
            hashes[h] = await gethConsole<string>(l, h, service(nodesSpec, "miner"), `eth.getBlock(${n}).hash`, IPC);
        }
        expect(new Set(Object.values(hashes)).size, JSON.stringify(hashes)).toBe(1);
        // And the chain goes on: two more periods give at least one more block.
        await waitFor("the head to advance", async () => ((await viewOf(nodeHosts[0])).number > n ? true : undefined), BLOCK_PERIOD * 10_000);
    });

    it("4. the p2p services are on the host network with no published ports and no ingress; p2p, discovery and RPC answer on the hosts' own addresses", async () => {
        const l = L();
        for (const h of nodeHosts) {
            const chainId = await waitFor(`RPC on ${h}`, () => rpc<string>(ipOf(h), config.ports.rpc, "eth_chainId"), 30_000);
            expect(hexToNumber(chainId), h).toBe(config.chain.chainId);
        }
        for (const h of minerHosts) {
            const err = await rpc(ipOf(h), config.ports.rpc, "eth_chainId").then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(err).toBeInstanceOf(RpcError);
            expect((err as RpcError).code, (err as Error).message).toBe("ECONNREFUSED");
        }

        // The services, as the swarm holds them: on Docker's predefined host network (the manager
        // resolves the compose name `host` to the swarm's host network), no published port, no
        // custom hostname, no VIP on ingress.
        const ingress = JSON.parse((await l.docker(["network", "inspect", "ingress"])).stdout) as Array<{ Id: string }>;
        const p2pServices = [service(bootSpec, "bootnode"), service(nodesSpec, "node"), service(nodesSpec, "miner")];
        const seen: string[] = [];
        for (const stack of [bootSpec!.stack, nodesSpec!.stack]) {
            const svcs = await inspectServices(stack);
            expect(svcs.length, stack).toBe(stack === bootSpec!.stack ? bootSpec!.services.length : nodesSpec!.services.length);
            for (const svc of svcs) {
                const name = svc.Spec.Name;
                seen.push(name);
                expect(p2pServices, name).toContain(name);
                const targets = (svc.Spec.TaskTemplate.Networks ?? []).map((n) => n.Target);
                expect(targets.length, name).toBe(1);
                const net = JSON.parse((await l.docker(["network", "inspect", targets[0]])).stdout) as Array<{ Name: string; Driver: string }>;
                expect([net[0].Name, net[0].Driver], name).toEqual(["host", "host"]);
                expect(svc.Spec.EndpointSpec?.Ports ?? [], name).toEqual([]);
                expect(svc.Endpoint?.Ports ?? [], name).toEqual([]);
                expect(svc.Spec.TaskTemplate.ContainerSpec.Hostname ?? "", name).toBe("");
                expect((svc.Endpoint?.VirtualIPs ?? []).map((v) => v.NetworkID), name).not.toContain(ingress[0].Id);
            }
        }
        expect(seen.sort()).toEqual([...p2pServices].sort());

        // Each task's container, on its own host: host network mode, no port bindings, and the host's name
        // (what the start script looks up in the hosts map).
        const tasks: Array<[string, string]> = [
            [config.bootHost, service(bootSpec, "bootnode")],
            ...nodeHosts.map((h): [string, string] => [h, service(nodesSpec, "node")]),
            ...minerHosts.map((h): [string, string] => [h, service(nodesSpec, "miner")]),
        ];
        for (const [h, svc] of tasks) {
            const cid = await taskContainer(l, h, svc);
            const inspect = await l.host(h).docker.getContainer(cid).inspect();
            expect(inspect.HostConfig.NetworkMode, `${svc} on ${h}`).toBe("host");
            expect(Object.keys(inspect.HostConfig.PortBindings ?? {}), `${svc} on ${h}`).toEqual([]);
            const name = await l.docker(["exec", cid, "hostname"], { host: h });
            expect(name.stdout.trim(), `hostname in ${svc} on ${h}`).toBe(h);
        }

        // The p2p ports answer on each host's own address, as that host's node.
        for (const h of allHosts()) {
            const svc = service(nodesSpec, minerHosts.includes(h) ? "miner" : "node");
            const id = parseEnode(await gethConsole<string>(l, h, svc, "admin.nodeInfo.enode", IPC)).id;
            const pong = await discv4Ping(ipOf(h), config.ports.p2p);
            expect(pong.nodeId, `${h} ${config.ports.p2p}/udp`).toBe(id);
            await tcpConnect(ipOf(h), config.ports.p2p);
        }
        // Discovery answers on the boot host's own address, as the bootnode.
        const pong = await discv4Ping(ipOf(config.bootHost), config.ports.bootnode);
        expect(pong.nodeId, `${config.bootHost} ${config.ports.bootnode}/udp`).toBe(parseEnode(expectedEnode).id);
    });

    it("5. a transaction sent through one node host's RPC is mined and visible through the other's", async () => {
        expect(nodeHosts.length).toBeGreaterThanOrEqual(2);
        const [from, other] = nodeHosts;
        const provider = (h: string) => {
            const p = new JsonRpcProvider(`http://${ipOf(h)}:${config.ports.rpc}/`, config.chain.chainId, { staticNetwork: true });
            p.pollingInterval = 500;
            return p;
        };
        const p1 = provider(from);
        const p2 = provider(other);
        try {
            const wallet = new Wallet(funded.privateKey, p1);
            expect(await p2.getBalance(funded.address)).toBe(config.chain.prefundBalanceWei);
            const to = Wallet.createRandom().address;
            const value = parseEther("1.25");
            const t = Date.now();
            const tx = await wallet.sendTransaction({ to, value });
            const first = await tx.wait(1, BOUND.tx);
            expect(first?.status).toBe(1);
            // Compare once it is buried: both nodes must then hold the same canonical receipt.
            await tx.wait(CONFIRMATIONS, BOUND.tx);
            const mined = await p1.getTransactionReceipt(tx.hash);
            figures.txSendToReceiptSeconds = seconds(t);
            expect(mined?.status).toBe(1);
            const seen = await waitFor(`the receipt through ${other}`, async () => (await p2.getTransactionReceipt(tx.hash)) ?? undefined, BOUND.tx);
            expect(seen.status).toBe(1);
            if (seen.blockHash !== mined!.blockHash) {
                const n = mined!.blockNumber;
                const rows: string[] = [];
                for (let b = n - 2; b <= n + 2; b++) {
                    const views = await Promise.all(
                        nodeHosts.map(async (h) => `${h}=${(await rpc<{ hash: string; miner: string; timestamp: string } | null>(ipOf(h), config.ports.rpc, "eth_getBlockByNumber", [`0x${b.toString(16)}`, false]))?.hash ?? "-"}`),
                    );
                    rows.push(`#${b}: ${views.join(" ")}`);
                }
                const again = await p1.getTransactionReceipt(tx.hash);
                const logs = await L().docker(["service", "logs", "--raw", service(nodesSpec, "node")], { allowFailure: true });
                const mlogs = await L().docker(["service", "logs", "--raw", service(nodesSpec, "miner")], { allowFailure: true });
                const pick = (t: string) => t.split("\n").filter((x) => /reorg|side|split|sealed|Imported new chain|Commit new sealing/i.test(x)).slice(-40).join("\n");
                console.log(
                    `receipt block differs: ${from} #${mined!.blockNumber} ${mined!.blockHash} (first seen in ${first?.blockHash}), ${other} #${seen.blockNumber} ${seen.blockHash}; ` +
                        `${from} now #${again?.blockNumber} ${again?.blockHash}\n${rows.join("\n")}\n--- node logs\n${pick(logs.stdout + logs.stderr)}\n--- miner logs\n${pick(mlogs.stdout + mlogs.stderr)}`,
                );
            }
            expect(seen.blockHash).toBe(mined!.blockHash);
            await waitFor(`the balance through ${other}`, async () => ((await p2.getBalance(to, seen.blockNumber)) === value ? true : undefined), 30_000);
            expect(await p2.getBalance(to, seen.blockNumber)).toBe(value);
            const fee = seen.gasUsed * seen.gasPrice;
            expect(await p2.getBalance(funded.address, seen.blockNumber)).toBe(config.chain.prefundBalanceWei - value - fee);
        } finally {
            p1.destroy();
            p2.destroy();
        }
    });

    it("6. key material is only in swarm secrets: not in specs, compose files, services, containers, configs or logs", async () => {
        const l = L();
        const found: string[] = [];
        for (const spec of [bootSpec!, nodesSpec!]) {
            found.push(...leaks(`${spec.stack} spec`, JSON.stringify(spec)));
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gsl-scan-"));
            try {
                writeComposeBundle(spec, dir);
                for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
                    const p = path.join(dir, f);
                    if (fs.statSync(p).isFile()) found.push(...leaks(`${spec.stack} bundle ${f}`, fs.readFileSync(p, "utf8")));
                }
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
            const svcs = await inspectServices(spec.stack);
            expect(svcs.length).toBe(spec.services.length);
            for (const svc of svcs) {
                found.push(...leaks(`service ${svc.Spec.Name} (inspect)`, JSON.stringify(svc)));
                const cs = svc.Spec.TaskTemplate.ContainerSpec;
                expect(cs.Env ?? [], svc.Spec.Name).toEqual([]);
                const logs = await l.docker(["service", "logs", "--raw", svc.Spec.Name]);
                found.push(...leaks(`service ${svc.Spec.Name} logs`, logs.stdout + logs.stderr));
            }
            const configIds = (await l.docker(["config", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${spec.stack}`])).stdout.trim().split("\n").filter(Boolean);
            expect(configIds.length).toBe(spec.configs.length);
            if (configIds.length > 0) {
                const configs = JSON.parse((await l.docker(["config", "inspect", ...configIds])).stdout) as Array<{ Spec: { Name: string; Data: string } }>;
                for (const c of configs) found.push(...leaks(`config ${c.Spec.Name}`, JSON.stringify(c) + Buffer.from(c.Spec.Data, "base64").toString("utf8")));
            }
        }
        for (const h of l.hosts) {
            const containers = await h.docker.listContainers({ all: true });
            for (const c of containers) {
                const inspect = await h.docker.getContainer(c.Id).inspect();
                found.push(...leaks(`container ${c.Names[0]} on ${h.name}`, JSON.stringify(inspect)));
            }
        }
        expect(found).toEqual([]);

        // The keys are swarm secrets, named as the specs say and labelled with their stack.
        const secrets = (await l.docker(["secret", "ls", "--format", "{{.Name}} {{.Labels}}"])).stdout.trim().split("\n").sort();
        const want = [bootSpec!, nodesSpec!].flatMap((s) => s.secrets.map((x) => `${x.name} com.docker.stack.namespace=${s.stack}`)).sort();
        expect(secrets).toEqual(want);
        expect(want.length).toBe(1 + 2 * config.chain.signerCount);
        // Only the miner's task gets the signer secrets; plain nodes have none.
        for (const h of nodeHosts) {
            const cid = await taskContainer(l, h, service(nodesSpec, "node"));
            const ls = await l.docker(["exec", cid, "ls", "/run/secrets"], { host: h, allowFailure: true });
            expect(ls.stdout.trim(), h).toBe("");
        }
    });

    it("7. geth and the bootnode run unprivileged: uid 10001 owns the process, the datadir and the password; the raw signer key is root's", async () => {
        const l = L();
        const exec = async (host: string, cid: string, args: string[], user?: string) =>
            l.docker(["exec", ...(user ? ["-u", user] : []), cid, ...args], { host, allowFailure: true });
        const uids = async (host: string, cid: string) => {
            const status = (await exec(host, cid, ["cat", "/proc/1/status"])).stdout;
            return /^Uid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/);
        };
        const seen: Record<string, unknown> = {};
        for (const h of [...nodeHosts, ...minerHosts]) {
            const svc = service(nodesSpec, minerHosts.includes(h) ? "miner" : "node");
            const cid = await taskContainer(l, h, svc);
            // PID 1 is geth itself (the start script and su exec in place): real, effective, saved and fs uid.
            const comm = (await exec(h, cid, ["cat", "/proc/1/comm"])).stdout.trim();
            const data = (await exec(h, cid, ["stat", "-c", "%u:%g", "/data", "/data/geth", "/data/geth.ipc"])).stdout.trim().split("\n");
            seen[h] = { comm, uids: await uids(h, cid), data };
            expect(comm, h).toBe("geth");
            expect(await uids(h, cid), h).toEqual(["10001", "10001", "10001", "10001"]);
            expect(data, h).toEqual(["10001:10001", "10001:10001", "10001:10001"]);
        }
        for (const h of minerHosts) {
            const cid = await taskContainer(l, h, service(nodesSpec, "miner"));
            const files = (await exec(h, cid, ["sh", "-c", "stat -c '%n %u %a' /run/secrets/*"])).stdout.trim().split("\n").sort();
            seen[`${h} secrets`] = files;
            expect(files, h).toEqual(
                signerKeys.flatMap((_, i) => [`/run/secrets/signer-${i}-key 0 400`, `/run/secrets/signer-${i}-password 10001 400`]).sort(),
            );
            // geth's user cannot read a raw key; it reads its password.
            const key = await exec(h, cid, ["cat", "/run/secrets/signer-0-key"], "10001:10001");
            expect(key.code, `${h}: uid 10001 read the raw key`).not.toBe(0);
            expect(key.stdout).toBe("");
            expect((await exec(h, cid, ["cat", "/run/secrets/signer-0-password"], "10001:10001")).stdout.length, h).toBeGreaterThan(0);
        }
        const boot = await taskContainer(l, config.bootHost, service(bootSpec, "bootnode"));
        const bootKey = (await exec(config.bootHost, boot, ["stat", "-c", "%u %a", `/run/secrets/${BOOTNODE_KEY_SECRET}`])).stdout.trim();
        seen.bootnode = { uids: await uids(config.bootHost, boot), key: bootKey };
        expect(await uids(config.bootHost, boot)).toEqual(["10001", "10001", "10001", "10001"]);
        expect(bootKey).toBe("10001 400");
        figures.unprivileged = seen;
    });

    it("removes both stacks with docker stack rm: services, secrets, configs and the network go", async () => {
        const l = L();
        watching = false;
        await watcher;
        await l.removeStack(nodesSpec!.stack);
        await l.removeStack(bootSpec!.stack);
        expect((await l.docker(["service", "ls", "-q"])).stdout.trim()).toBe("");
        expect((await l.docker(["secret", "ls", "-q"])).stdout.trim()).toBe("");
        expect((await l.docker(["config", "ls", "-q"])).stdout.trim()).toBe("");
        expect((await l.docker(["network", "ls", "-q", "--filter", `name=${bootSpec!.networks[0].name}`])).stdout.trim()).toBe("");
    });

    it("tears down leaving nothing behind, and records the figures", async () => {
        const l = L();
        figures.hostCount = l.hosts.length;
        figures.blockPeriodSeconds = BLOCK_PERIOD;
        await l.teardown();
        lab = undefined;
        const left = await listLeftovers();
        expect(isEmpty(left), describeLeftovers(left)).toBe(true);
        mergeResults("network", figures);
        console.log(
            `network: ${figures.hostCount} hosts, geth ${figures.gethVersion}, period ${BLOCK_PERIOD} s; from nodes-stack deploy: ` +
                `first block ${figures.nodesDeployToFirstBlockSeconds} s, every node has a peer ${figures.nodesDeployToAllPeersSeconds} s, ` +
                `heads equal ${figures.nodesDeployToHeadsEqualSeconds} s; tx receipt ${figures.txSendToReceiptSeconds} s; lab setup ${figures.labSetupSeconds} s`,
        );
    });
});
