// The engine tier: the project's own program (`index.ts`, stack `local`) run by a real Pulumi
// engine with real providers, as a user runs it: `pulumi preview`, `pulumi up`, a no-op
// preview, `pulumi refresh`, growth, `pulumi destroy`. The local target's hosts are
// docker-in-docker containers on an engine this tier starts (test/engine/engine.ts), with
// DOCKER_HOST naming it, as users of the local target have it set.
//
// The steps depend on each other and run in order; the figures (seconds per step) go to
// test/engine/results.json.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enodesInLogs } from "../../components/swarm/bootnode";
import { dindCgroupDirs, Engine, startEngine } from "./engine";
import { run } from "../lab/exec";
import { dockerCli } from "../lab/hosts";
import { EndpointState, ProbeRequest, TransferResult } from "./probe";
import { createWorkspace, ensurePulumi, PreviewStep, REPO_ROOT, Workspace } from "./pulumi";

const RESULTS_FILE = path.join(__dirname, "results.json");
const log = (m: string) => process.stderr.write(`[engine] ${m}\n`);

/** A stand-in for the visualizer image (no registry here): busybox httpd on the visualizer's port. */
const VISUALIZER_STANDIN = "geth-swarm-lab/visualizer:standin";

/** Resource types whose replacement or deletion takes the network (or part of it) down. */
const LASTING = ["docker:index/container:Container", "docker:index/service:Service", "docker:index/network:Network", "docker:index/volume:Volume"];

const typeOf = (s: PreviewStep) => s.newState?.type ?? s.oldState?.type ?? s.urn.split("::")[2]?.split("$").pop() ?? "";
const nameOf = (s: PreviewStep) => s.urn.split("::").pop() ?? s.urn;
const describeStep = (s: PreviewStep) =>
    `${s.op} ${typeOf(s)} ${nameOf(s)}${s.detailedDiff ? ` ${JSON.stringify(s.detailedDiff)}` : s.diffReasons ? ` [${s.diffReasons.join(", ")}]` : ""}`;

/**
 * How long the steps of a `pulumi up` took, from its own display (`<type> <name> created (12s)`):
 * the slowest host container, the image copy, the swarm formation, the enode read-back, the
 * slowest service, and the chain readiness wait.
 */
function upPhases(display: string): Record<string, number> {
    const took = (type: string) =>
        Math.max(0, ...[...display.matchAll(new RegExp(`${type.replace(/[$:/]/g, "\\$&")} \\S+ created \\((\\d+(?:\\.\\d+)?)s\\)`, "g"))].map((m) => Number(m[1])));
    return {
        upHostContainerSeconds: took("docker:index:Container"),
        upImageCopySeconds: took("pulumi-nodejs:dynamic/geth-swarm:LocalImagePreload"),
        upSwarmFormationSeconds: took("pulumi-nodejs:dynamic/geth-swarm:SwarmFormation"),
        upEnodeCheckSeconds: took("pulumi-nodejs:dynamic/geth-swarm:BootnodeEnodeCheck"),
        upServiceSeconds: took("docker:index:Service"),
        upChainReadySeconds: took("pulumi-nodejs:dynamic/geth-swarm:ChainReady"),
    };
}

describe("pulumi up of the program on a real engine (local target)", () => {
    let engine: Engine;
    let ws: Workspace;
    const figures: Record<string, number | string> = {};
    let outputs: Record<string, unknown> = {};

    /** Probes the endpoints from inside the engine's namespace (test/engine/probe.ts). */
    async function probe(urls: string[], timeoutMs: number, alsoCall: string[] = []): Promise<EndpointState[]> {
        const req: ProbeRequest = { urls, timeoutMs, minPeers: 1, alsoCall };
        const r = await engine.inNetns(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "probe.ts"), JSON.stringify(req)], {
            cwd: REPO_ROOT,
            timeoutMs: timeoutMs + 60_000,
        });
        return JSON.parse(r.stdout.trim()) as EndpointState[];
    }

    /** Runs test/engine/probe.ts with `request` inside the engine's namespace; its JSON answer. */
    async function inNetnsProbe<T>(request: unknown, timeoutMs: number): Promise<T> {
        const r = await engine.inNetns(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "probe.ts"), JSON.stringify(request)], {
            cwd: REPO_ROOT,
            timeoutMs: timeoutMs + 60_000,
        });
        return JSON.parse(r.stdout.trim()) as T;
    }

    /** `docker <args>` on the swarm manager (inside its host container). */
    const onManager = (args: string[]) => engine.cli(["exec", "geth-hosts-manager", "docker", ...args]);

    beforeAll(async () => {
        engine = await startEngine(log);
        figures.engineStartSeconds = engine.timings.daemonSeconds + engine.timings.loadSeconds;
        await engine.cli(["build", "-q", "-t", VISUALIZER_STANDIN, "-"], {
            input: `FROM ${engine.images.tools}\nCMD ["httpd", "-f", "-p", "8080", "-h", "/tmp"]\n`,
        });
        const cli = await ensurePulumi(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "geth-swarm-pulumi-")), log);
        figures.pulumi = `${cli.version} (${cli.source})`;
        ws = await createWorkspace({
            cli,
            dockerHost: engine.dockerHost,
            netnsPath: engine.netnsPath,
            stack: "local",
            log,
            // Pulumi.local.yaml as it is, plus what this machine needs: no privileged
            // containers, no registry (images preloaded from the engine, the visualizer a stand-in).
            config: {
                dindImage: engine.images.dind,
                dindPrivileges: "capabilities",
                preloadImages: true,
                // On (it is off by default): the tier checks that it runs and answers.
                visualizer: true,
                visualizerImage: VISUALIZER_STANDIN,
                readinessTimeoutSeconds: 300,
            },
        });
    }, 45 * 60_000);

    afterAll(async () => {
        try {
            if (ws) {
                const left = await ws.outputs().catch(() => ({}));
                if (Object.keys(left).length > 0) {
                    log("destroying what a failed step left");
                    await ws.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
                }
            }
        } finally {
            await engine?.stop();
            ws?.remove();
            const previous = fs.existsSync(RESULTS_FILE) ? JSON.parse(fs.readFileSync(RESULTS_FILE, "utf8")) : {};
            fs.writeFileSync(RESULTS_FILE, `${JSON.stringify({ ...previous, engine: { ...figures, writtenAt: new Date().toISOString() } }, null, 2)}\n`);
        }
    }, 10 * 60_000);

    it("previews a new stack: only creates; the outputs derived from generated keys are unknown until the first up", async () => {
        const { steps, seconds } = await ws.previewSteps();
        figures.previewNewSeconds = seconds;
        expect(steps.filter((s) => s.op !== "create").map(describeStep)).toEqual([]);
        // `preview --json` carries no stack outputs; the text preview lists them.
        const text = (await ws.pulumi(["preview"], { quiet: true })).stdout;
        const section = text.slice(text.indexOf("Outputs:"));
        // Known from the config alone:
        expect(section).toMatch(/rpcEndpoints\s*: \[\s*\[0\]: "http:\/\/127\.0\.0\.1:18545"\s*\[1\]: "http:\/\/127\.0\.0\.1:18546"\s*\]/);
        expect(section).toMatch(/visualizerUrl\s*: "http:\/\/127\.0\.0\.1:8080"/);
        // Derived from what random and tls resources create during up (the bootnode and signer
        // keys, the manager's TLS material, which managerApi travels with): unknown until then.
        expect(section).toMatch(/enode\s*: \[unknown\]/);
        expect(section).toMatch(/signerAddresses\s*: \[unknown\]/);
        expect(section).toMatch(/managerApi\s*: \[unknown\]/);
    });

    it("pulumi up stands the network up: every RPC endpoint has the chain id, peers and an advancing head", async () => {
        const up = await ws.pulumi(["up", "--yes"], { timeoutMs: 25 * 60_000 });
        figures.upSeconds = up.seconds;
        Object.assign(figures, upPhases(up.stdout));
        // The readiness gates said what they waited for, on their own rows.
        expect(up.stdout).toMatch(/ChainReady geth-nodes-chain-ready creating \(\d+s\) waiting for chain 4242 \(chain id, peers, head advancing\): http:\/\/127\.0\.0\.1:18545 /);
        outputs = await ws.outputs();
        const urls = outputs.rpcEndpoints as string[];
        expect(urls).toEqual(["http://127.0.0.1:18545", "http://127.0.0.1:18546"]);
        const states = await probe(urls, 120_000);
        for (const s of states) {
            expect(s, JSON.stringify(s)).toMatchObject({ chainId: 4242 });
            expect(s.peers, JSON.stringify(s)).toBeGreaterThanOrEqual(1);
            expect(s.head!, JSON.stringify(s)).toBeGreaterThan(s.firstHead!);
        }
        expect(outputs.target).toBe("local");
        expect(outputs.managerApi).toBe("tcp://127.0.0.1:12375");
    });

    it("the bootnode reports the enode output, docker stack ls shows both stacks, the visualizer answers", async () => {
        const logs = await onManager(["service", "logs", "--raw", "--timestamps", "boot_bootnode"]);
        // The bootnode prints `enode://<id>@<ip>:0?discport=<port>` (discovery only, no TCP port).
        const reported = enodesInLogs(`${logs.stdout}\n${logs.stderr}`).map((e) => e.enode);
        expect(reported.length).toBeGreaterThan(0);
        const [, id, ip, port] = /^enode:\/\/([0-9a-f]{128})@([0-9.]+):(\d+)$/.exec(outputs.enode as string)!;
        expect(reported[reported.length - 1]).toBe(`enode://${id}@${ip}:0?discport=${port}`);
        const stacks = await onManager(["stack", "ls", "--format", "{{.Name}} {{.Services}}"]);
        expect(stacks.stdout.trim().split("\n").sort()).toEqual(["boot 2", "nodes 2"]);
        // The stand-in serves an empty directory: a 404 is an answer from the visualizer's port.
        const status = await engine.inNetns(process.execPath, [
            "-e",
            "fetch(process.argv[1], { signal: AbortSignal.timeout(10000) }).then((r) => console.log(r.status), (e) => console.log(String(e.cause ?? e)))",
            `${outputs.visualizerUrl as string}/`,
        ]);
        expect(status.stdout.trim()).toBe("404");
    });

    it("the development account (secret output devAccount) is funded: a transfer from it through a node's RPC is mined", async () => {
        expect(outputs.devAccount).toBe("[secret]");
        const dev = (await ws.outputs(true)).devAccount as { address: string; privateKey: string };
        expect(dev.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
        const to = "0x000000000000000000000000000000000000dEaD";
        const r = await inNetnsProbe<TransferResult>(
            { transfer: { url: (outputs.rpcEndpoints as string[])[1], key: dev.privateKey, to, valueEth: "2.5", chainId: 4242, timeoutMs: 60_000 } },
            60_000,
        );
        expect(r, JSON.stringify(r)).toMatchObject({ from: dev.address, balanceBefore: "1000000.0", status: 1 });
        const after = await probe((outputs.rpcEndpoints as string[]).slice(0, 1), 60_000, []);
        expect(after[0].head!).toBeGreaterThanOrEqual(r.blockNumber!);
    });

    it("npm run docker-context writes a Docker context from the stack's outputs; with it the docker CLI reads the miner's logs", async () => {
        const dockerConfig = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "gs-docker-config-"));
        try {
            const env: NodeJS.ProcessEnv = { ...ws.env, DOCKER_CONFIG: dockerConfig };
            const made = await run("bash", [path.join(REPO_ROOT, "examples", "docker-context.sh"), "--stack", "local", "--cwd", ws.projectDir], { env, timeoutMs: 120_000 });
            expect(made.stdout).toMatch(/Docker context geth-swarm-local: the swarm manager at tcp:\/\/127\.0\.0\.1:12375/);
            // The context is all the CLI needs: no DOCKER_HOST, no TLS files of the program's.
            const cliEnv = { PATH: env.PATH, DOCKER_CONFIG: dockerConfig, HOME: dockerConfig };
            const logs = await engine.inNetns(dockerCli(), ["--context", "geth-swarm-local", "service", "logs", "--raw", "nodes_miner"], { env: cliEnv, timeoutMs: 60_000 });
            expect(`${logs.stdout}${logs.stderr}`).toMatch(/Successfully sealed new block|Commit new sealing work/);
            const services = await engine.inNetns(dockerCli(), ["--context", "geth-swarm-local", "service", "ls", "--format", "{{.Name}}"], { env: cliEnv });
            expect(services.stdout.trim().split("\n").sort()).toEqual(["boot_bootnode", "boot_visualizer", "nodes_miner", "nodes_node"]);
            // The key is in the CLI's store only, readable by its owner.
            const keys = (fs.readdirSync(dockerConfig, { recursive: true }) as string[]).filter((f) => f.endsWith("key.pem"));
            expect(keys).toHaveLength(1);
            expect(fs.statSync(path.join(dockerConfig, keys[0])).mode & 0o077).toBe(0);
        } finally {
            fs.rmSync(dockerConfig, { recursive: true, force: true });
        }
    });

    it("keeps key material out of the state's plain text", async () => {
        const plain = JSON.stringify(await ws.exportState(false));
        const revealed = JSON.stringify(await ws.exportState(true));
        expect(plain).not.toMatch(/PRIVATE KEY/);
        expect(revealed).toMatch(/PRIVATE KEY/);
        // Every generated key and password: the secret outputs of the key and password resources
        // (`--show-secrets` shows a secret as {<secret signature>, plaintext: <JSON of the value>}).
        const plaintext = (v: unknown) => (v && typeof v === "object" && "plaintext" in v ? JSON.parse(String((v as { plaintext: string }).plaintext)) : v);
        const secrets = (await ws.exportState(true)).deployment.resources!
            .filter((r) => /random:index\/(randomBytes|randomPassword):/.test(r.type))
            .map((r) => String(plaintext(r.outputs?.hex ?? r.outputs?.result) ?? ""));
        expect(secrets.length).toBeGreaterThanOrEqual(3);
        for (const s of secrets) {
            expect(s.length).toBeGreaterThanOrEqual(32);
            expect(plain.includes(s)).toBe(false);
        }
    });

    it("a preview right after up changes nothing (pulumi preview --expect-no-changes)", async () => {
        const { steps, seconds } = await ws.previewSteps();
        figures.noopPreviewSeconds = seconds;
        expect(steps.filter((s) => s.op !== "same").map(describeStep)).toEqual([]);
        const r = await ws.pulumi(["preview", "--expect-no-changes"], { quiet: true });
        expect(r.code).toBe(0);
    });

    it("pulumi refresh finds no drift, and the preview after it changes nothing", async () => {
        const r = await ws.pulumi(["refresh", "--yes", "--expect-no-changes"], { quiet: true });
        figures.refreshSeconds = r.seconds;
        const { steps } = await ws.previewSteps();
        expect(steps.filter((s) => s.op !== "same").map(describeStep)).toEqual([]);
    });

    it("pulumi refresh sees a node label removed by hand, and the next pulumi up sets it again", async () => {
        await onManager(["node", "update", "--label-rm", "geth-swarm.host", "worker"]);
        await ws.pulumi(["refresh", "--yes"], { quiet: true });
        const { steps } = await ws.previewSteps();
        expect(steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${nameOf(s)}`)).toEqual(["update geth-boot-node-labels"]);
        await ws.pulumi(["up", "--yes"], { quiet: true });
        const label = await onManager(["node", "inspect", "worker", "--format", '{{index .Spec.Labels "geth-swarm.host"}}']);
        expect(label.stdout.trim()).toBe("worker");
        const again = await ws.previewSteps();
        expect(again.steps.filter((s) => s.op !== "same").map(describeStep)).toEqual([]);
    });

    it("a changed node setting (rpcApis gains txpool) updates the node service in place, and up waits for the chain again", async () => {
        const before = await probe(outputs.rpcEndpoints as string[], 60_000, ["txpool_status"]);
        for (const s of before) expect(s.answers?.txpool_status, s.url).toMatch(/^error: .*txpool_status/);
        ws.setConfig({ rpcApis: ["eth", "net", "web3", "txpool"] });
        const { steps } = await ws.previewSteps();
        expect(steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${nameOf(s)}`).sort()).toEqual(["update geth-nodes-chain-ready", "update geth-nodes-service-node"]);
        const up = await ws.pulumi(["up", "--yes"], { timeoutMs: 20 * 60_000 });
        figures.updateSeconds = up.seconds;
        expect(up.stdout).toMatch(/ChainReady geth-nodes-chain-ready updating \(\d+s\) \[diff: ~triggers\]; waiting for chain 4242/);
        const after = await probe(outputs.rpcEndpoints as string[], 120_000, ["txpool_status"]);
        for (const s of after) {
            expect(s.readyAfterMs, JSON.stringify(s)).toBeDefined();
            expect(JSON.parse(s.answers!.txpool_status), s.url).toMatchObject({ pending: expect.any(String), queued: expect.any(String) });
        }
    });

    it("growth: workerCount 1 -> 2 only adds (no replace, no delete, no update of a host, network or service), then the new node peers and syncs", async () => {
        ws.setConfig({ workerCount: 2 });
        const { steps } = await ws.previewSteps();
        const changed = steps.filter((s) => s.op !== "same");
        expect(changed.filter((s) => !["create", "update"].includes(s.op)).map(describeStep)).toEqual([]);
        expect(changed.filter((s) => s.op === "update" && LASTING.includes(typeOf(s))).map(describeStep)).toEqual([]);
        expect(changed.filter((s) => s.op === "create").map(nameOf).sort()).toEqual(
            ["geth-hosts-worker-2", "geth-hosts-worker-2-data", "geth-hosts-worker-2-tls", "geth-hosts-worker-2-tls-csr", "geth-hosts-worker-2-tls-key"].sort(),
        );

        const before = await probe((outputs.rpcEndpoints as string[]).slice(0, 1), 60_000);
        const up = await ws.pulumi(["up", "--yes"], { timeoutMs: 20 * 60_000 });
        figures.growSeconds = up.seconds;
        outputs = await ws.outputs();
        const urls = outputs.rpcEndpoints as string[];
        // worker-2 is in slot 4 (managers, workers and miners interleave), so its RPC is on base + 4.
        expect(urls).toEqual(["http://127.0.0.1:18545", "http://127.0.0.1:18546", "http://127.0.0.1:18549"]);
        const states = await probe(urls, 120_000);
        for (const s of states) {
            expect(s, JSON.stringify(s)).toMatchObject({ chainId: 4242 });
            expect(s.peers, JSON.stringify(s)).toBeGreaterThanOrEqual(1);
            expect(s.head!, JSON.stringify(s)).toBeGreaterThan(s.firstHead!);
        }
        // The signer sealed on through the growth, and the new node holds the same chain.
        const heads = states.map((s) => s.head!);
        expect(Math.min(...heads)).toBeGreaterThan(before[0].head!);
        expect(Math.max(...heads) - Math.min(...heads)).toBeLessThanOrEqual(2);

        const again = await ws.previewSteps();
        expect(again.steps.filter((s) => s.op !== "same").map(describeStep)).toEqual([]);
    });

    it("pulumi destroy leaves no container, volume, network, client TLS directory or cgroup of the stack", async () => {
        const r = await ws.pulumi(["destroy", "--yes", "--skip-preview"], { timeoutMs: 15 * 60_000 });
        figures.destroySeconds = r.seconds;
        expect((await engine.docker.listContainers({ all: true })).map((c) => c.Names.join(","))).toEqual([]);
        expect(((await engine.docker.listVolumes()).Volumes ?? []).map((v) => v.Name)).toEqual([]);
        expect((await engine.docker.listNetworks()).map((n) => n.Name).sort()).toEqual(["bridge", "host", "none"]);
        expect(fs.readdirSync(path.join(ws.env.GETH_SWARM_HOME!), { recursive: true })).toEqual([]);
        expect(dindCgroupDirs()).toEqual([]);
    });
});
