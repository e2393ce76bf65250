// The lab bench's network: the project's config with its default chain settings (not the lab
// tests' 2 s blocks), and a deploy of the real boot and nodes stacks that records when each
// milestone a user waits for is first seen.
//
// The deploy is test/lab/deploy.ts's sequence (node labels, boot stack, enode read back, nodes
// stack) built from the same pieces (createStackSecrets, deploySpec, the lab's key and console
// helpers), written out here only because deploy.ts's deployNetwork does not report when each
// phase ends. Anything that needs a network but not its phase timings (the throughput bench)
// uses deploy.ts's deployNetwork with benchOverrides.
import { enodeFromNodeKey, signerAddress } from "../../components/chain";
import { keySpec, resolveConfig, type RawConfig } from "../../components/config";
import type { GethSwarmConfig } from "../../components/config/types";
import { applyNodeLabels, verifyBootnodeEnode } from "../../components/swarm";
import { bootStackSpec, contentDigest, nodesStackSpec, StackSpec } from "../../stacks";
import { gethConsole, hexToNumber, randomKeyHex, randomPassword, rpc } from "../lab/chain";
import { createStackSecrets, deploySpec, IPC, type NodeView } from "../lab/deploy";
import { waitFor } from "../lab/exec";
import type { Lab } from "../lab/hosts";

/**
 * Raw config of a bench network of `hostCount` hosts (manager, hostCount - 2 workers, one
 * miner) with the project's default block period; for deploy.ts's `configOverrides`.
 */
export function benchOverrides(hostCount: number, prefundAccounts: string[]): RawConfig {
    return { workerCount: hostCount - 2, prefundAccounts, blockPeriod: keySpec("blockPeriod")?.default };
}

/** The resolved config of that network, as the lab deploys it (no visualizer, no encrypted overlay). */
export function labConfig(hostCount: number, prefundAccounts: string[]): GethSwarmConfig {
    return resolveConfig({ visualizer: false, encryptedOverlay: false, ...benchOverrides(hostCount, prefundAccounts) });
}

/** Lab host specs that match the config's host plan, in order (the first is the manager). */
export function labHostsFor(config: GethSwarmConfig) {
    return config.hosts.map((h) => ({ name: h.name, role: h.role }));
}

export interface Milestones {
    /** Seconds from the start of the deploy (labels applied first, as BootStack does). */
    labelsApplied?: number;
    bootRunning?: number;
    enodeReadBack?: number;
    /** `docker stack deploy` of the nodes stack returned (secrets created first). */
    nodesDeployed?: number;
    nodesRunning?: number;
    firstBlock?: number;
    allPeered?: number;
    headsEqual?: number;
    /** When each host's geth first had a peer. */
    firstPeerByHost?: Record<string, number>;
}

async function runningTasks(lab: Lab, service: string): Promise<number> {
    const tasks = (await lab.manager.docker.listTasks({ filters: { service: [service], "desired-state": ["running"] } })) as Array<{ Status: { State: string } }>;
    return tasks.filter((t) => t.Status.State === "running").length;
}

/**
 * Deploys boot then nodes on `lab` with `config` and waits until every geth has a peer and
 * all heads are equal (throws after timeoutMs). Milestones are seconds from the call.
 */
export async function deployTimed(lab: Lab, config: GethSwarmConfig, log: (m: string) => void, timeoutMs = 300_000): Promise<Milestones> {
    const t0 = Date.now();
    const since = () => Math.round((Date.now() - t0) / 100) / 10;
    const ms: Milestones = {};
    const nodeHosts = config.hosts.filter((h) => h.class !== "miner").map((h) => h.name);
    const minerHosts = config.hosts.filter((h) => h.class === "miner").map((h) => h.name);
    const bootnodeKey = randomKeyHex();
    const signerKeys = Array.from({ length: config.chain.signerCount }, () => randomKeyHex());
    const signerPasswords = signerKeys.map(() => randomPassword());
    const createSecrets = (spec: StackSpec) => createStackSecrets(lab, spec, { bootnodeKey, signerKeys, signerPasswords });
    const ip = (h: string) => lab.host(h).ip;

    // 1. Node labels (the host plan), as the boot stack applies them.
    await applyNodeLabels(lab.manager.docker, config.hosts.map((h) => ({ name: h.name, labels: { ...h.labels } })), { timeoutMs: 60_000 });
    ms.labelsApplied = since();

    // 2. Boot stack; its task running and the enode read back are watched at once.
    const bootIp = ip(config.bootHost);
    const bootSpec = bootStackSpec({ config, bootHostIp: bootIp, bootnodeKeyDigest: contentDigest(bootnodeKey) });
    await createSecrets(bootSpec);
    await deploySpec(lab, bootSpec);
    const bootSvc = bootSpec.services.find((s) => s.key === "bootnode")!.name;
    const enode = enodeFromNodeKey(bootnodeKey, bootIp, config.ports.bootnode);
    await Promise.all([
        waitFor("the bootnode task", async () => ((await runningTasks(lab, bootSvc)) === 1 ? true : undefined), timeoutMs, 200).then(() => (ms.bootRunning = since())),
        verifyBootnodeEnode(lab.manager.docker, bootSvc, enode, { timeoutMs, initialDelayMs: 200, maxDelayMs: 500 }).then(() => (ms.enodeReadBack = since())),
    ]);
    log(`  boot stack running ${ms.bootRunning} s, enode read back ${ms.enodeReadBack} s`);

    // 3. Nodes stack.
    const nodesSpec = nodesStackSpec({
        config,
        enode,
        hosts: config.hosts.map((h) => ({ name: h.name, class: h.class, signerIndex: h.signerIndex })),
        signers: signerKeys.map((k, i) => ({ address: signerAddress(k), keyDigest: contentDigest(k), passwordDigest: contentDigest(signerPasswords[i]) })),
    });
    await createSecrets(nodesSpec);
    await deploySpec(lab, nodesSpec);
    ms.nodesDeployed = since();
    const svc = (key: string) => nodesSpec.services.find((s) => s.key === key)!.name;
    const nodeView = async (h: string): Promise<NodeView> => {
        const [peers, block] = await Promise.all([
            rpc<string>(ip(h), config.ports.rpc, "net_peerCount", [], 2_000),
            rpc<{ number: string; hash: string }>(ip(h), config.ports.rpc, "eth_getBlockByNumber", ["latest", false], 2_000),
        ]);
        return { host: h, peers: hexToNumber(peers), number: hexToNumber(block.number), hash: block.hash };
    };
    const minerView = async (h: string): Promise<NodeView> => ({
        host: h,
        ...(await gethConsole<{ peers: number; number: number; hash: string }>(
            lab,
            h,
            svc("miner"),
            '(function(){var b=eth.getBlock("latest");return JSON.stringify({peers:admin.peers.length,number:b.number,hash:b.hash})})()',
            IPC,
        )),
    });

    // Watch from the nodes deploy on: tasks running; RPC views of the nodes every 250 ms; the
    // miner (console over `docker exec`, slower) in its own loop so it does not slow the others down.
    const latest = new Map<string, NodeView>();
    let done = false;
    const record = () => {
        const views = [...latest.values()];
        for (const v of views) if (v.peers > 0) (ms.firstPeerByHost ??= {})[v.host] ??= since();
        if (ms.firstBlock === undefined && views.some((v) => v.number > 0)) ms.firstBlock = since();
        if (views.length < nodeHosts.length + minerHosts.length) return;
        if (ms.allPeered === undefined && views.every((v) => v.peers > 0)) ms.allPeered = since();
        if (ms.headsEqual === undefined && views.every((v) => v.number > 0 && v.number === views[0].number && v.hash === views[0].hash)) ms.headsEqual = since();
    };
    const loop = async (hosts: string[], view: (h: string) => Promise<NodeView>, everyMs: number) => {
        while (!done) {
            await Promise.all(
                hosts.map((h) =>
                    view(h).then(
                        (v) => latest.set(h, v),
                        () => latest.delete(h),
                    ),
                ),
            );
            record();
            await new Promise((r) => setTimeout(r, everyMs));
        }
    };
    const loops = [loop(nodeHosts, nodeView, 250), loop(minerHosts, minerView, 250)];
    try {
        await waitFor(
            "node and miner tasks running",
            async () => ((await runningTasks(lab, svc("node"))) === nodeHosts.length && (await runningTasks(lab, svc("miner"))) === minerHosts.length ? true : undefined),
            timeoutMs,
            250,
        );
        ms.nodesRunning = since();
        log(`  nodes stack running ${ms.nodesRunning} s`);
        await waitFor("every geth peered and all heads equal", async () => (ms.allPeered !== undefined && ms.headsEqual !== undefined ? true : undefined), timeoutMs, 100);
    } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}; last views: ${JSON.stringify([...latest.values()])}`);
    } finally {
        done = true;
        await Promise.all(loops);
    }
    log(`  first block ${ms.firstBlock} s, all peered ${ms.allPeered} s, heads equal ${ms.headsEqual} s; first peer by host ${JSON.stringify(ms.firstPeerByHost)}`);
    return ms;
}
