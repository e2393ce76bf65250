// Stands up a working geth network on a running lab from the project's own spec, the way
// `pulumi up` would: the config layer's host plan (resolveConfig), node labels with the
// project's applyNodeLabels, swarm secrets for the generated keys, the boot stack (its
// enode read back with verifyBootnodeEnode), then the nodes stack. Both stacks are the
// exported spec functions rendered as compose bundles and deployed with `docker stack deploy`.
//
//   const net = await deployNetwork(lab, { configOverrides: { minerCount: 3 } });
//   await net.waitHealthy(60_000);
//   const v = await net.view("manager");   // { host, peers, number, hash }
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { enodeFromNodeKey, parseEnode, signerAddress } from "../../components/chain";
import { resolveConfig, type RawConfig } from "../../components/config";
import type { GethSwarmConfig } from "../../components/config/types";
import { applyNodeLabels, verifyBootnodeEnode } from "../../components/swarm";
import { DATA_DIR, StackSpec, bootStackSpec, contentDigest, nodesStackSpec, secretValue, secretsToCreate, writeComposeBundle } from "../../stacks";
import { gethConsole, hexToNumber, randomKeyHex, randomPassword, rpc, taskContainer } from "./chain";
import type { Lab } from "./hosts";
import { waitFor } from "./exec";
import { RESULTS_FILE, mergeResults } from "./results";

/** Where an unhealthy network's diagnostics go (kept out of the repository). */
export const DIAGNOSTICS_DIR = path.join(__dirname, "diagnostics");

/** The geth IPC socket inside a node or miner container. */
export const IPC = `${DATA_DIR}/geth.ipc`;

/** The steps of {@link deployNetwork}, in order, as `pulumi up` goes through them. */
export type DeployPhase = "labelsApplied" | "bootRunning" | "enodeReadBack" | "nodesDeployed" | "nodesRunning";

/** What a phase callback may already use at `nodesDeployed` (before the tasks run). */
export type EarlyNetwork = Pick<Network, "view" | "nodeHosts" | "minerHosts" | "allHosts">;

export interface DeployOptions {
    /** Raw config values on top of the lab defaults ({@link LAB_DEFAULTS}). */
    configOverrides?: RawConfig;
    /** Upper bound for the bootnode's enode read-back and for tasks to run. */
    timeoutMs?: number;
    /**
     * Called as each phase ends, with the seconds since the call (`bootRunning` and
     * `enodeReadBack` are watched at once and may come in either order). At `nodesDeployed`
     * it also gets the views of the network, so a caller can watch peering and blocks from
     * the moment the nodes stack is deployed.
     */
    onPhase?: (phase: DeployPhase, seconds: number, net?: EarlyNetwork) => void;
}

/** The lab's config defaults: no visualizer, no encrypted overlay (no IPsec here), 2 s blocks. */
export const LAB_DEFAULTS: RawConfig = { visualizer: false, encryptedOverlay: false, blockPeriod: 2 };

/** What one geth node reports. */
export interface NodeView {
    host: string;
    peers: number;
    number: number;
    hash: string;
}

export interface Network {
    lab: Lab;
    config: GethSwarmConfig;
    bootnodeKey: string;
    signerKeys: string[];
    signerAddresses: string[];
    /** The bootnode's enode URL as the stacks use it (derived from its key). */
    enode: string;
    bootSpec: StackSpec;
    nodesSpec: StackSpec;
    /** Hosts running `node` (RPC), hosts running `miner` (signers), both. */
    nodeHosts: string[];
    minerHosts: string[];
    allHosts: string[];
    bootnodeService: string;
    /** `nodes_node` or `nodes_miner`, whichever runs on the host. */
    serviceOf(host: string): string;
    rpcUrl(host: string): string;
    /** The running container of the host's geth task (on that host's engine). */
    container(host: string): Promise<string>;
    /** Evaluates JavaScript in the geth console of the host's geth task (IPC). */
    console<T = unknown>(host: string, js: string): Promise<T>;
    /** Peers and head of the host's geth: RPC on node hosts, the console on miner hosts. */
    view(host: string): Promise<NodeView>;
    /** Views of several hosts; a host that does not answer gives its error message instead. */
    viewAll(hosts?: string[]): Promise<Array<NodeView | { host: string; error: string }>>;
    /** Hash of block `n` on the host (undefined if it does not have it). */
    blockHash(host: string, n: number): Promise<string | undefined>;
    /** The node IDs of the host's peers. */
    peerIds(host: string): Promise<string[]>;
    /** The host's own node ID and advertised enode. */
    enodeOf(host: string): Promise<string>;
    /** Every given host has a peer and all are on the same head (number and hash); the common view. */
    waitHealthy(timeoutMs: number, hosts?: string[]): Promise<NodeView[]>;
    /** Running tasks of a service: task ID, node ID, container ID. */
    runningTasks(service: string): Promise<Array<{ id: string; nodeId: string; containerId?: string; createdAt: string }>>;
    /** Seconds from deploy of the nodes stack to tasks running, etc. */
    timings: Record<string, number>;
    /**
     * Redeploys the nodes stack for new settings, as `pulumi up` after a config change would:
     * node labels of the new host plan, a generated key and password for each new signer,
     * the swarm secrets that do not exist yet, then `docker stack deploy` of the new spec.
     * Every host of the new plan must already be in the lab. Updates this network's config,
     * hosts and signers; resolves once the deploy command returns.
     */
    redeployNodes(configOverrides: RawConfig): Promise<{ nodesSpec: StackSpec; addedHosts: string[]; addedSigners: string[] }>;
}

export const isView = (v: NodeView | { host: string; error: string }): v is NodeView => !("error" in v);

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/** The generated key material a network's stacks reference as swarm secrets. */
export interface StackKeys {
    readonly bootnodeKey: string;
    readonly signerKeys: readonly string[];
    readonly signerPasswords: readonly string[];
}

/** A new signer: a random key, its keystore password and its address. */
function newSigner(): { key: string; password: string; address: string } {
    const key = randomKeyHex();
    return { key, password: randomPassword(), address: signerAddress(key) };
}

/** Fresh key material for a network: a bootnode key and `signerCount` signers. */
export function newStackKeys(signerCount: number): { bootnodeKey: string; signerKeys: string[]; signerPasswords: string[]; signerAddresses: string[] } {
    const signers = Array.from({ length: signerCount }, newSigner);
    return {
        bootnodeKey: randomKeyHex(),
        signerKeys: signers.map((x) => x.key),
        signerPasswords: signers.map((x) => x.password),
        signerAddresses: signers.map((x) => x.address),
    };
}

/** The hosts of a config's plan that run `node` (RPC), those that run `miner` (signers), and both. */
export function hostsOf(config: GethSwarmConfig): { nodeHosts: string[]; minerHosts: string[]; allHosts: string[] } {
    const nodeHosts = config.hosts.filter((h) => h.class !== "miner").map((h) => h.name);
    const minerHosts = config.hosts.filter((h) => h.class === "miner").map((h) => h.name);
    return { nodeHosts, minerHosts, allHosts: [...nodeHosts, ...minerHosts] };
}


/**
 * Creates the swarm secrets a rendered spec references: values on the Engine API (base64
 * body), never on a command line. With `onlyMissing`, secrets that exist (by name, which
 * carries a digest of the value) are left as they are, as a redeploy needs.
 */
export async function createStackSecrets(lab: Lab, spec: StackSpec, keys: StackKeys, opts: { onlyMissing?: boolean } = {}): Promise<void> {
    const existing = new Set<string>();
    if (opts.onlyMissing) for (const x of (await lab.manager.docker.listSecrets()) as Array<{ Spec: { Name: string } }>) existing.add(x.Spec.Name);
    for (const s of secretsToCreate(spec).filter((x) => !existing.has(x.name))) {
        await lab.manager.docker.createSecret({ Name: s.name, Labels: { ...s.labels }, Data: Buffer.from(secretValue(keys, s.source), "utf8").toString("base64") });
    }
}

/** Writes the compose bundle (compose file + config files) to a temp dir and deploys it from there. */
export async function deploySpec(lab: Lab, spec: StackSpec): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gsl-${spec.stack}-`));
    try {
        const file = writeComposeBundle(spec, dir);
        await lab.deployCompose(spec.stack, fs.readFileSync(file, "utf8"), { cwd: dir });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Deploys the boot and nodes stacks of `config` on the lab, whose host names must be the config's. */
export async function deployNetwork(lab: Lab, opts: DeployOptions = {}): Promise<Network> {
    const t0 = Date.now();
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let config = resolveConfig({ ...LAB_DEFAULTS, ...opts.configOverrides });
    const planned = config.hosts.map((h) => h.name);
    const have = lab.hosts.map((h) => h.name);
    for (const h of planned) if (!have.includes(h)) throw new Error(`the config plans host ${h}, the lab has ${have.join(", ")}`);

    const { bootnodeKey, signerKeys, signerPasswords, signerAddresses } = newStackKeys(config.chain.signerCount);
    // The hosts of the current plan (redeployNodes may change it).
    const plan = () => hostsOf(config);
    const ipOf = (h: string) => lab.host(h).ip;
    const timings: Record<string, number> = {};
    const phase = (p: DeployPhase, net?: EarlyNetwork) => opts.onPhase?.(p, seconds(t0), net);

    const runningTasks: Network["runningTasks"] = async (service) => {
        const tasks = (await lab.manager.docker.listTasks({ filters: { service: [service], "desired-state": ["running"] } })) as Array<{
            ID: string;
            NodeID: string;
            CreatedAt: string;
            Status: { State: string; ContainerStatus?: { ContainerID?: string } };
        }>;
        return tasks
            .filter((x) => x.Status.State === "running")
            .map((x) => ({ id: x.ID, nodeId: x.NodeID, containerId: x.Status.ContainerStatus?.ContainerID, createdAt: x.CreatedAt }));
    };

    const createSecrets = (spec: StackSpec) => createStackSecrets(lab, spec, { bootnodeKey, signerKeys, signerPasswords });

    await applyNodeLabels(
        lab.manager.docker,
        config.hosts.map((h) => ({ name: h.name, labels: { ...h.labels } })),
        { timeoutMs: 60_000 },
    );
    phase("labelsApplied");

    const bootIp = ipOf(config.bootHost);
    const bootSpec = bootStackSpec({ config, bootHostIp: bootIp, bootnodeKeyDigest: contentDigest(bootnodeKey) });
    await createSecrets(bootSpec);
    let t = Date.now();
    await deploySpec(lab, bootSpec);
    const enode = enodeFromNodeKey(bootnodeKey, bootIp, config.ports.bootnode);
    const bootnodeService = bootSpec.services.find((s) => s.key === "bootnode")!.name;
    // The task running and the enode read back are watched at once, polling fast (the times are figures).
    await Promise.all([
        waitFor("the bootnode task running", async () => ((await runningTasks(bootnodeService)).length === 1 ? true : undefined), timeoutMs, 200).then(() => phase("bootRunning")),
        verifyBootnodeEnode(lab.manager.docker, bootnodeService, enode, { timeoutMs, initialDelayMs: 200, maxDelayMs: 500 }).then(() => phase("enodeReadBack")),
    ]);
    timings.bootDeployToEnodeSeconds = seconds(t);

    const renderNodes = () =>
        nodesStackSpec({
            config,
            enode,
            hosts: config.hosts.map((h) => ({ name: h.name, class: h.class, signerIndex: h.signerIndex })),
            signers: signerKeys.map((k, i) => ({ address: signerAddresses[i], keyDigest: contentDigest(k), passwordDigest: contentDigest(signerPasswords[i]) })),
        });
    let nodesSpec = renderNodes();
    const svcName = (key: string) => {
        const s = nodesSpec.services.find((x) => x.key === key);
        if (!s) throw new Error(`no service ${key} in ${nodesSpec.stack}`);
        return s.name;
    };
    const serviceOf = (host: string) => svcName(plan().minerHosts.includes(host) ? "miner" : "node");

    const consoleOf = <T>(host: string, js: string) => gethConsole<T>(lab, host, serviceOf(host), js, IPC);
    const view = async (host: string): Promise<NodeView> => {
        if (plan().nodeHosts.includes(host)) {
            const [peers, block] = await Promise.all([
                rpc<string>(ipOf(host), config.ports.rpc, "net_peerCount", [], 3_000),
                rpc<{ number: string; hash: string }>(ipOf(host), config.ports.rpc, "eth_getBlockByNumber", ["latest", false], 3_000),
            ]);
            return { host, peers: hexToNumber(peers), number: hexToNumber(block.number), hash: block.hash };
        }
        const v = await consoleOf<{ peers: number; number: number; hash: string }>(
            host,
            '(function(){var b=eth.getBlock("latest");return JSON.stringify({peers:admin.peers.length,number:b.number,hash:b.hash})})()',
        );
        return { host, ...v };
    };

    await createSecrets(nodesSpec);
    t = Date.now();
    await deploySpec(lab, nodesSpec);
    phase("nodesDeployed", { view, ...plan() });
    await waitFor(
        "node and miner tasks running on every planned host",
        async () => {
            const [n, m] = await Promise.all([runningTasks(svcName("node")), runningTasks(svcName("miner"))]);
            const on = (tasks: Array<{ nodeId: string }>, hosts: string[]) => hosts.every((h) => tasks.some((x) => x.nodeId === lab.host(h).nodeId));
            return on(n, plan().nodeHosts) && on(m, plan().minerHosts) ? true : undefined;
        },
        timeoutMs,
        250,
    );
    timings.nodesDeployToTasksRunningSeconds = seconds(t);
    phase("nodesRunning");

    const viewAll: Network["viewAll"] = (hosts = plan().allHosts) =>
        Promise.all(hosts.map((h) => view(h).catch((e: unknown) => ({ host: h, error: e instanceof Error ? e.message.split("\n")[0] : String(e) }))));
    const blockHash = async (host: string, n: number) => {
        if (plan().nodeHosts.includes(host)) {
            const b = await rpc<{ hash: string } | null>(ipOf(host), config.ports.rpc, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false], 3_000);
            return b?.hash;
        }
        const h = await consoleOf<string | null>(host, `(function(){var b=eth.getBlock(${n});return b?b.hash:""})()`);
        return h || undefined;
    };
    const peerIds = async (host: string) =>
        (await consoleOf<string[]>(host, "JSON.stringify(admin.peers.map(function(p){return p.enode}))")).map((e) => parseEnode(e).id);
    let lastHealth = "";
    const waitHealthy = (ms: number, hosts = plan().allHosts) =>
        waitFor(
            `every node with a peer and on one head (${hosts.join(", ")}); last: ${(() => lastHealth)()}`,
            async () => {
                const views = await viewAll(hosts);
                lastHealth = JSON.stringify(views);
                const ok = views.filter(isView);
                if (ok.length !== views.length) return undefined;
                return ok.every((v) => v.peers > 0 && v.number > 0 && v.number === ok[0].number && v.hash === ok[0].hash) ? ok : undefined;
            },
            ms,
            250,
        ).catch(async (e: unknown) => {
            const d = await diagnose(hosts);
            throw new Error(`${e instanceof Error ? e.message : String(e)}; last views: ${lastHealth}\n${d.summary}\nfull diagnostics: ${d.file}`);
        });

    /**
     * What each geth says when the network is not healthy: its head, sync state, peers and
     * Clique activity from its console, and the tail of its log. Written in full to a file
     * under {@link DIAGNOSTICS_DIR}; the summary keeps the log lines about blocks and peers.
     */
    const diagnose = async (hosts: string[]): Promise<{ file: string; summary: string }> => {
        const per = await Promise.all(
            hosts.map(async (h) => {
                const state = await consoleOf<unknown>(
                    h,
                    "(function(){var b=eth.getBlock('latest');var s={};try{s=clique.status()}catch(e){s=String(e)}" +
                        "return JSON.stringify({head:{number:b.number,hash:b.hash,difficulty:b.difficulty,td:b.totalDifficulty,miner:b.miner}," +
                        "syncing:eth.syncing,clique:s,peers:admin.peers.map(function(p){return p.network.remoteAddress+(p.network.inbound?' in':' out')})})})()",
                ).catch((err: unknown) => `console: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
                const cid = await taskContainer(lab, h, serviceOf(h)).catch(() => undefined);
                const logs = cid ? await lab.docker(["logs", "--tail", "120", cid], { host: h, allowFailure: true, timeoutMs: 30_000 }) : undefined;
                const lines = logs ? (logs.stdout + logs.stderr).split("\n").filter((l) => l.trim() !== "") : ["no running container"];
                return { host: h, state, lines };
            }),
        );
        fs.mkdirSync(DIAGNOSTICS_DIR, { recursive: true });
        const file = path.join(DIAGNOSTICS_DIR, `unhealthy-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
        fs.writeFileSync(file, per.map((p) => `=== ${p.host}\n${JSON.stringify(p.state, null, 1)}\n${p.lines.join("\n")}\n`).join("\n"));
        const telling = /Imported|sealed|Signed recently|reorg|Synchronisation|sync|Discarded|bad block|Snapshot|geth-swarm:|peer|Fatal|ERROR|WARN/i;
        const summary = per
            .map((p) => `${p.host}: ${typeof p.state === "string" ? p.state : JSON.stringify(p.state)}\n  ${p.lines.filter((l) => telling.test(l)).slice(-8).join("\n  ")}`)
            .join("\n");
        return { file, summary };
    };

    const redeployNodes: Network["redeployNodes"] = async (configOverrides) => {
        const next = resolveConfig({ ...LAB_DEFAULTS, ...opts.configOverrides, ...configOverrides });
        for (const h of next.hosts) if (!lab.hosts.some((x) => x.name === h.name)) throw new Error(`the new config plans host ${h.name}, the lab has ${lab.hosts.map((x) => x.name).join(", ")}`);
        const addedHosts = next.hosts.map((h) => h.name).filter((h) => !config.hosts.some((x) => x.name === h));
        const addedSigners: string[] = [];
        while (signerKeys.length < next.chain.signerCount) {
            const signer = newSigner();
            signerKeys.push(signer.key);
            signerPasswords.push(signer.password);
            signerAddresses.push(signer.address);
            addedSigners.push(signer.address);
        }
        config = next;
        await applyNodeLabels(lab.manager.docker, next.hosts.map((h) => ({ name: h.name, labels: { ...h.labels } })), { timeoutMs: 60_000 });
        nodesSpec = renderNodes();
        await createStackSecrets(lab, nodesSpec, { bootnodeKey, signerKeys, signerPasswords }, { onlyMissing: true });
        await deploySpec(lab, nodesSpec);
        return { nodesSpec, addedHosts, addedSigners };
    };

    return {
        lab,
        get config() {
            return config;
        },
        get nodesSpec() {
            return nodesSpec;
        },
        bootnodeKey,
        signerKeys,
        signerAddresses,
        enode,
        bootSpec,
        get nodeHosts() {
            return plan().nodeHosts;
        },
        get minerHosts() {
            return plan().minerHosts;
        },
        get allHosts() {
            return plan().allHosts;
        },
        bootnodeService,
        serviceOf,
        rpcUrl: (h) => `http://${ipOf(h)}:${config.ports.rpc}/`,
        container: (h) => taskContainer(lab, h, serviceOf(h)),
        console: consoleOf,
        view,
        viewAll,
        blockHash,
        peerIds,
        enodeOf: (h) => consoleOf<string>(h, "admin.nodeInfo.enode"),
        waitHealthy,
        runningTasks,
        timings,
        redeployNodes,
    };
}

/**
 * Sets `reliability.<group>.<key>` in results.json, keeping everything else of the
 * `reliability` section (several lab files write to it) and every other section.
 */
export function recordReliability(group: string, key: string, data: unknown): void {
    let section: Record<string, unknown> = {};
    try {
        const all = JSON.parse(fs.readFileSync(RESULTS_FILE, "utf8")) as Record<string, unknown>;
        const s = all.reliability;
        if (s && typeof s === "object" && !Array.isArray(s)) section = { ...(s as Record<string, unknown>) };
    } catch {
        // no file yet
    }
    delete section.writtenAt;
    const g = section[group];
    section[group] = { ...(g && typeof g === "object" && !Array.isArray(g) ? (g as Record<string, unknown>) : {}), [key]: data };
    mergeResults("reliability", section);
}
