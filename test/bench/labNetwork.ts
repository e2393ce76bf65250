// Stands the project's real boot and nodes stacks up on a lab swarm, the way `pulumi up`
// does it (labels, boot stack, enode read back, nodes stack), and records when each
// milestone a user waits for is first seen.
import { enodeFromNodeKey, signerAddress } from "../../components/chain";
import { resolveConfig } from "../../components/config";
import type { GethSwarmConfig } from "../../components/config/types";
import { applyNodeLabels, verifyBootnodeEnode } from "../../components/swarm";
import { bootStackSpec, contentDigest, nodesStackSpec, StackSpec } from "../../stacks";
import { gethConsole, randomKeyHex, randomPassword } from "../lab/chain";
import { createStackSecrets, deploySpec, IPC } from "../lab/deploy";
import type { Lab } from "../lab/hosts";

/** A JSON-RPC call over HTTP; throws on transport or RPC errors. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<T> {
    const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method} at ${url}: ${body.error.message}`);
    return body.result as T;
}

export const hexNum = (h: string) => Number(BigInt(h));

/** The config for a lab network of `hostCount` hosts: manager, hostCount - 2 workers, one miner. */
export function labConfig(hostCount: number, prefundAccounts: string[], overrides: Record<string, unknown> = {}): GethSwarmConfig {
    return resolveConfig({
        visualizer: false, // no visualizer image in the lab (no registry)
        encryptedOverlay: false, // the lab's kernel refuses IPsec SAs
        workerCount: hostCount - 2,
        prefundAccounts,
        ...overrides,
    });
}

/** Lab host specs that match the config's host plan, in order (the first is the manager). */
export function labHostsFor(config: GethSwarmConfig) {
    return config.hosts.map((h) => ({ name: h.name, role: h.role }));
}

export interface NodeView {
    host: string;
    peers: number;
    number: number;
    hash: string;
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

export interface LabNetwork {
    config: GethSwarmConfig;
    /** Why the network is not fully healthy (with `tolerateUnhealthy`); undefined when it is. */
    unhealthy?: string;
    nodeHosts: string[];
    minerHosts: string[];
    rpcUrl(host: string): string;
    /** Peers and head of every geth (RPC for nodes, the console over IPC for the miner). */
    viewAll(): Promise<NodeView[]>;
    /** Evaluates JavaScript in the geth console of a host's task (all APIs, over IPC). */
    console<T>(host: string, js: string): Promise<T>;
    milestones: Milestones;
    enode: string;
}

async function runningTasks(lab: Lab, service: string): Promise<number> {
    const tasks = (await lab.manager.docker.listTasks({ filters: { service: [service], "desired-state": ["running"] } })) as Array<{ Status: { State: string } }>;
    return tasks.filter((t) => t.Status.State === "running").length;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
        try {
            const v = await f();
            if (v !== undefined) return v;
        } catch (e) {
            last = e instanceof Error ? e.message.split("\n")[0] : String(e);
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

/**
 * Deploys boot then nodes on `lab` with `config` and waits until every geth has a peer and
 * all heads are equal. Milestones are seconds from the call.
 */
export async function deployNetwork(
    lab: Lab,
    config: GethSwarmConfig,
    log: (m: string) => void,
    timeoutMs = 300_000,
    opts: { tolerateUnhealthy?: boolean } = {},
): Promise<LabNetwork> {
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
        until("the bootnode task", async () => ((await runningTasks(lab, bootSvc)) === 1 ? true : undefined), timeoutMs).then(() => (ms.bootRunning = since())),
        verifyBootnodeEnode(lab.manager.docker, bootSvc, enode, { timeoutMs, initialDelayMs: 200, maxDelayMs: 500 }).then(() => (ms.enodeReadBack = since())),
    ]);
    log(`  boot stack running ${ms.bootRunning} s, enode read back ${ms.enodeReadBack} s`);

    // 3. Nodes stack.
    const nodesSpec = nodesStackSpec({
        config,
        enode,
        hosts: config.hosts.map((h) => ({ name: h.name, privateIp: ip(h.name), class: h.class, signerIndex: h.signerIndex })),
        signers: signerKeys.map((k, i) => ({ address: signerAddress(k), keyDigest: contentDigest(k), passwordDigest: contentDigest(signerPasswords[i]) })),
    });
    await createSecrets(nodesSpec);
    await deploySpec(lab, nodesSpec);
    ms.nodesDeployed = since();
    const svc = (key: string) => nodesSpec.services.find((s) => s.key === key)!.name;
    const rpcUrl = (h: string) => `http://${ip(h)}:${config.ports.rpc}/`;
    const console = <T>(host: string, js: string): Promise<T> => gethConsole<T>(lab, host, svc(minerHosts.includes(host) ? "miner" : "node"), js, IPC);
    const nodeView = async (h: string): Promise<NodeView> => {
        const [peers, block] = await Promise.all([
            rpc<string>(rpcUrl(h), "net_peerCount", [], 2_000),
            rpc<{ number: string; hash: string }>(rpcUrl(h), "eth_getBlockByNumber", ["latest", false], 2_000),
        ]);
        return { host: h, peers: hexNum(peers), number: hexNum(block.number), hash: block.hash };
    };
    const minerView = async (h: string): Promise<NodeView> => ({
        host: h,
        ...(await console<{ peers: number; number: number; hash: string }>(h, '(function(){var b=eth.getBlock("latest");return JSON.stringify({peers:admin.peers.length,number:b.number,hash:b.hash})})()')),
    });
    const viewAll = () => Promise.all([...nodeHosts.map(nodeView), ...minerHosts.map(minerView)]);

    // Watch: tasks running; RPC views of the nodes every 250 ms; the miner (console over
    // `docker exec`, slower) in its own loop so it does not slow the others down.
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
    const want = { node: nodeHosts.length, miner: minerHosts.length };
    const tasksWatch = until(
        "node and miner tasks running",
        async () => ((await runningTasks(lab, svc("node"))) === want.node && (await runningTasks(lab, svc("miner"))) === want.miner ? true : undefined),
        timeoutMs,
        250,
    ).then(() => {
        ms.nodesRunning = since();
        log(`  nodes stack running ${ms.nodesRunning} s`);
    });
    const loops = [loop(nodeHosts, nodeView, 250), loop(minerHosts, minerView, 250)];
    let unhealthy: string | undefined;
    try {
        await tasksWatch;
        await until("every geth peered and all heads equal", async () => (ms.allPeered !== undefined && ms.headsEqual !== undefined ? true : undefined), timeoutMs, 100);
    } catch (e) {
        unhealthy = `${e instanceof Error ? e.message : String(e)}; last views: ${JSON.stringify([...latest.values()])}`;
        if (!opts.tolerateUnhealthy) throw new Error(unhealthy);
        log(`  not healthy, going on: ${unhealthy}`);
    } finally {
        done = true;
        await Promise.all(loops);
    }
    log(`  first block ${ms.firstBlock} s, all peered ${ms.allPeered} s, heads equal ${ms.headsEqual} s; first peer by host ${JSON.stringify(ms.firstPeerByHost)}`);
    return { config, unhealthy, nodeHosts, minerHosts, rpcUrl, viewAll, console, milestones: ms, enode };
}
