// Time to a healthy network on the lab swarm, broken down, at several host counts; and the
// floor it is compared with: geth start-up (init + start until JSON-RPC answers) plus one
// Clique period.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Wallet } from "ethers";
import { renderGenesis } from "../../stacks";
import { Lab, startLab } from "../lab/hosts";
import { DEFAULT_GETH_VERSION, labCacheDir } from "../lab/images";
import { rpc } from "../lab/chain";
import { run } from "../lab/exec";
import { Milestones, benchOverrides, deployTimed, labConfig, labHostsFor } from "./labNetwork";
import { Summary, round, summarize } from "./stats";

const MILESTONES = ["labelsApplied", "bootRunning", "enodeReadBack", "nodesDeployed", "nodesRunning", "firstBlock", "allPeered", "headsEqual"] as const;

export interface LabRun {
    hosts: number;
    round: number;
    /** The host that runs the bootnode (and a node). */
    bootHost: string;
    /** The lab's own set-up (daemons, image load) and the swarm formation inside it, seconds. */
    labSetupSeconds: number;
    swarmFormedSeconds: number;
    /** Seconds from the start of the deploy (labels, boot stack, nodes stack). */
    milestones: Milestones;
    /** Swarm formation + deploy until all heads are equal. */
    totalSeconds: number;
    /** Set when the network did not become healthy in time: why (the run counts in no median). */
    failed?: string;
}

export interface LabSize {
    hosts: number;
    runs: number;
    /** Runs whose network never became healthy within the deploy timeout. */
    failedRuns: number;
    swarmFormedSeconds: Summary;
    milestones: Record<string, Summary>;
    /** Deploy start to heads equal (the stacks' part). */
    deployToHealthySeconds: Summary;
    totalSeconds: Summary;
    /** deployToHealthy median / floor. */
    deployRatioToFloor: number;
    /** total median / floor. */
    totalRatioToFloor: number;
}

export interface Floor {
    /** `geth init` + start of the geth binary as a process until JSON-RPC answers, seconds. */
    processStartSeconds: Summary;
    /** `docker service create` of one geth (init + start) until its host-mode RPC answers, seconds. */
    serviceStartSeconds?: Summary;
    blockPeriodSeconds: number;
    /** serviceStart (else processStart) median + one block period. */
    floorSeconds: number;
    basis: "service" | "process";
}

export interface LabResults {
    blockPeriodSeconds: number;
    floor: Floor;
    sizes: LabSize[];
    runs: LabRun[];
}

const gethBinary = () => path.join(labCacheDir(), `geth-${DEFAULT_GETH_VERSION}`, "bin", "geth");

async function untilRpc(ip: string, port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (child && child.exitCode !== null) throw new Error(`geth exited ${child.exitCode} before its RPC answered`);
        try {
            await rpc(ip, port, "eth_blockNumber", [], 1_000);
            return;
        } catch {
            if (Date.now() > deadline) throw new Error(`no RPC answer at ${ip}:${port} within ${timeoutMs / 1000} s`);
            await new Promise((r) => setTimeout(r, 50));
        }
    }
}

/** geth init + start as a plain process, until RPC answers; no network (no discovery, no peers). */
export async function processStartFloor(genesis: string, chainId: number, reps: number, log: (m: string) => void): Promise<Summary> {
    const geth = gethBinary();
    if (!fs.existsSync(geth)) throw new Error(`${geth} is missing: run \`npx tsx test/lab/images.ts\` first`);
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gsb-floor-"));
        const port = 18_600 + i;
        let child: ChildProcess | undefined;
        try {
            fs.writeFileSync(path.join(dir, "genesis.json"), genesis);
            const t = Date.now();
            await run(geth, ["init", "--datadir", path.join(dir, "d"), path.join(dir, "genesis.json")], { timeoutMs: 60_000 });
            child = spawn(
                geth,
                ["--datadir", path.join(dir, "d"), "--networkid", String(chainId), "--nodiscover", "--maxpeers", "0", "--port", "0", "--ipcdisable",
                    "--http", "--http.addr", "127.0.0.1", "--http.port", String(port), "--authrpc.port", String(port + 100)],
                { stdio: "ignore" },
            );
            await untilRpc("127.0.0.1", port, 60_000, child);
            times.push((Date.now() - t) / 1000);
            log(`floor: geth process ${i + 1}/${reps}: RPC after ${times[times.length - 1].toFixed(2)} s`);
        } finally {
            if (child && child.exitCode === null) {
                const exited = new Promise((r) => child!.once("exit", r));
                child.kill("SIGTERM");
                await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
                if (child.exitCode === null) child.kill("SIGKILL");
            }
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    return summarize(times, 2);
}

/** One geth as a swarm service on a worker: `docker service create` until its host-mode RPC answers. */
export async function serviceStartFloor(lab: Lab, image: string, genesis: string, chainId: number, reps: number, log: (m: string) => void): Promise<Summary> {
    const host = lab.hosts.find((h) => h.role === "worker") ?? lab.manager;
    const port = 8599;
    const config = "bench-floor-genesis";
    await lab.manager.docker.createConfig({ Name: config, Data: Buffer.from(genesis).toString("base64") });
    const times: number[] = [];
    try {
        for (let i = 0; i < reps; i++) {
            const name = `bench-floor-${i}`;
            const script = `geth init --datadir /d /genesis.json && exec geth --datadir /d --networkid ${chainId} --nodiscover --maxpeers 0 --port 30399 --http --http.addr 0.0.0.0 --http.port ${port}`;
            const t = Date.now();
            await lab.docker([
                "service", "create", "--detach", "--quiet", "--name", name,
                "--constraint", `node.hostname==${host.name}`,
                "--publish", `mode=host,target=${port},published=${port},protocol=tcp`,
                "--config", `source=${config},target=/genesis.json`,
                "--restart-condition", "none",
                "--entrypoint", "/bin/sh",
                image, "-c", script,
            ]);
            await untilRpc(host.ip, port, 120_000);
            times.push((Date.now() - t) / 1000);
            log(`floor: geth service ${i + 1}/${reps}: RPC after ${times[times.length - 1].toFixed(2)} s`);
            await lab.docker(["service", "rm", name]);
            const deadline = Date.now() + 60_000;
            while ((await host.docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.name=${name}`] } })).length > 0) {
                if (Date.now() > deadline) throw new Error(`${name}'s container is still there after 60 s`);
                await new Promise((r) => setTimeout(r, 250));
            }
        }
    } finally {
        await lab.docker(["config", "rm", config], { allowFailure: true });
    }
    return summarize(times, 2);
}

export async function runLabBench(opts: { sizes?: number[]; runs?: number; deployTimeoutMs?: number; log: (m: string) => void }): Promise<LabResults> {
    const deployTimeoutMs = opts.deployTimeoutMs ?? 180_000;
    const sizes = opts.sizes ?? [3, 6, 9];
    const rounds = opts.runs ?? 3;
    const log = opts.log;
    const funded = Wallet.createRandom();
    const period = labConfig(3, [funded.address]).chain.blockPeriod;
    const probe = labConfig(3, [funded.address]);
    const genesis = renderGenesis(probe, [Wallet.createRandom().address]);

    log("lab: floor, geth as a process (5 runs)");
    const processStartSeconds = await processStartFloor(genesis, probe.chain.chainId, 5, log);

    const runs: LabRun[] = [];
    let serviceStartSeconds: Summary | undefined;
    for (let r = 0; r < rounds; r++) {
        for (const n of sizes) {
            const config = labConfig(n, [funded.address]);
            log(`lab: round ${r + 1}/${rounds}, ${n} hosts (${config.hosts.map((h) => h.name).join(", ")}), block period ${config.chain.blockPeriod} s`);
            const lab = await startLab({ hosts: labHostsFor(config), log: (m) => log(`  [lab] ${m}`) });
            try {
                if (lab.hosts.map((h) => h.name).join() !== config.hosts.map((h) => h.name).join()) throw new Error("lab hosts do not match the host plan");
                log(`  swarm formed in ${lab.timings.swarmSeconds.toFixed(1)} s (lab set-up ${lab.timings.totalSeconds.toFixed(1)} s)`);
                if (!serviceStartSeconds) {
                    log("lab: floor, geth as one swarm service (3 runs) on an idle swarm");
                    serviceStartSeconds = await serviceStartFloor(lab, config.images.geth, genesis, config.chain.chainId, 3, log);
                }
                const swarmFormedSeconds = round(lab.timings.swarmSeconds);
                const labSetupSeconds = round(lab.timings.totalSeconds);
                try {
                    const m = await deployTimed(lab, benchOverrides(n, [funded.address]), log, deployTimeoutMs);
                    const totalSeconds = round(lab.timings.swarmSeconds + (m.headsEqual ?? NaN));
                    runs.push({ hosts: n, round: r + 1, bootHost: config.bootHost, labSetupSeconds, swarmFormedSeconds, milestones: m, totalSeconds });
                    log(`  healthy ${m.headsEqual} s after the deploy started; ${totalSeconds} s with the swarm formation`);
                } catch (e) {
                    const failed = (e instanceof Error ? e.message : String(e)).slice(0, 2000);
                    runs.push({ hosts: n, round: r + 1, bootHost: config.bootHost, labSetupSeconds, swarmFormedSeconds, milestones: {}, totalSeconds: NaN, failed });
                    log(`  NOT HEALTHY: ${failed}`);
                }
            } finally {
                await lab.teardown();
            }
        }
    }

    const floorBase = serviceStartSeconds ?? processStartSeconds;
    const floorSeconds = round(floorBase.median + period, 2);
    const sizeResults: LabSize[] = sizes.map((n) => {
        const rs = runs.filter((x) => x.hosts === n && !x.failed);
        const milestones: Record<string, Summary> = {};
        for (const k of MILESTONES) milestones[k] = summarize(rs.map((x) => x.milestones[k] ?? NaN));
        const total = summarize(rs.map((x) => x.totalSeconds));
        return {
            hosts: n,
            runs: rs.length,
            failedRuns: runs.filter((x) => x.hosts === n && x.failed).length,
            swarmFormedSeconds: summarize(rs.map((x) => x.swarmFormedSeconds)),
            milestones,
            deployToHealthySeconds: milestones.headsEqual,
            totalSeconds: total,
            deployRatioToFloor: round(milestones.headsEqual.median / floorSeconds, 2),
            totalRatioToFloor: round(total.median / floorSeconds, 2),
        };
    });
    for (const s of sizeResults) {
        log(`lab: ${s.hosts} hosts: healthy ${s.deployToHealthySeconds.median} s after deploy (${s.deployToHealthySeconds.min}–${s.deployToHealthySeconds.max}, n=${s.runs}) = ${s.deployRatioToFloor}x the floor of ${floorSeconds} s; with swarm formation ${s.totalSeconds.median} s = ${s.totalRatioToFloor}x`);
    }
    return {
        blockPeriodSeconds: period,
        floor: { processStartSeconds, serviceStartSeconds, blockPeriodSeconds: period, floorSeconds, basis: serviceStartSeconds ? "service" : "process" },
        sizes: sizeResults,
        runs,
    };
}
