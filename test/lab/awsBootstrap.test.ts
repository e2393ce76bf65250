// The AWS target's host bootstrap on real parts: the user-data the program renders for each
// EC2 instance (AwsSwarmHosts under Pulumi mocks, fixtures/aws-program.ts) applied as
// cloud-init applies it on lab hosts that play the instances (awsLab.ts), against moto as SSM
// through the real AWS CLI, and AWS's EC2 metadata mock as each host's IMDS (IMDSv2 only).
// Runs as root: `npm run test:lab`; the parts come from `bash .ci/aws-lab-prereqs.sh`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../components/config/types";
import { BOOTSTRAP_SCRIPT } from "../../components/hosts/awsBootstrapScript";
import { connectDocker } from "../../components/swarm/form";
import { swarmNodeLabelsProvider } from "../../components/swarm/resources";
import { AwsLab, BootstrapRun, RunningBootstrap, startAwsLab } from "./awsLab";
import { describeLeftovers, isEmpty, listLeftovers } from "./cleanup";
import { waitFor } from "./exec";
import { hostStateDir } from "./paths";
import { httpGet, tcpConnect } from "./probes";
import { mergeResults } from "./results";
import { Needle, ProcessWatch, netnsId, scanFiles, treeState } from "./secretScan";
import { DockerTlsMaterial, makeDockerTls, pemBodyLines } from "./tlsMaterial";
import type { ProgramOutput, ProgramRequest } from "./fixtures/aws-program";

const ROOT_DIR = path.join(__dirname, "..", "..");
const SUBNET = "10.213.0.0/24";
/**
 * The program's hosts: three managers (the leader and two that join as managers), a worker
 * and a miner worker. `late` and `stalled` are swarms whose leader never boots, each with
 * one worker named `spare` (the lab's spare host): with 3 join attempts for the host whose
 * token never appears, with 1 for the hosts whose SSM or IMDS hangs.
 */
const PROGRAMS: ProgramRequest[] = [
    { name: "hosts", config: { managerCount: 3, workerCount: 1, minerCount: 1, vpcCidr: SUBNET } },
    { name: "late", config: { managerName: "late-leader", workerName: "spare", minerName: "late-miner", vpcCidr: SUBNET }, joinAttempts: 3 },
    { name: "stalled", config: { managerName: "stalled-leader", workerName: "spare", minerName: "stalled-miner", vpcCidr: SUBNET }, joinAttempts: 1 },
];
const SPARE = "spare";
const DOCKER_TLS_PORT = 2376;

/** The bounds the script declares, read from it (so the test follows the product). */
function scriptBounds() {
    const num = (re: RegExp) => {
        const m = re.exec(BOOTSTRAP_SCRIPT);
        if (!m) throw new Error(`bootstrap script: no match for ${re}`);
        return Number(m[1]);
    };
    const imds = { maxTime: num(/IMDS_CURL=\(.*--max-time (\d+)/), retries: num(/IMDS_CURL=\(.*--retry (\d+)/), delay: num(/IMDS_CURL=\(.*--retry-delay (\d+)/) };
    const ssm = { read: num(/--cli-read-timeout (\d+)/), attempts: num(/AWS_MAX_ATTEMPTS=(\d+)/) };
    return {
        /** Seconds the metadata service gets before the script gives up: every request times out. */
        imdsSeconds: (imds.retries + 1) * imds.maxTime + imds.retries * imds.delay,
        /** Seconds one SSM call gets when SSM hangs: every attempt hits the read timeout (backoff below 1 + 2 s). */
        ssmCallSeconds: ssm.attempts * ssm.read + 3,
        /** Waits between join attempts: 5 s doubling to 60 s. */
        joinWaits: (attempts: number) => Array.from({ length: attempts - 1 }, (_, i) => Math.min(5 * 2 ** i, 60)).reduce((a, b) => a + b, 0),
    };
}
const BOUNDS = scriptBounds();
/** What a loaded two-core machine adds to a bound: AWS CLI start-ups, process start, scheduling. */
const SLACK_SECONDS = 20;

/** Seconds since the script's start at which a step began (its "=== <step> (at Ns)" line). */
function stepAt(log: string, step: string): number {
    const m = new RegExp(`=== ${step.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.* \\(at (\\d+)s\\)`).exec(log);
    if (!m) throw new Error(`no step "${step}" in:\n${log}`);
    return Number(m[1]);
}
/** Seconds since the script's start at which it failed. */
function failedAfter(log: string): number {
    const m = /FAILED \(exit \d+\) during step: .* \(after (\d+)s\)/.exec(log);
    if (!m) throw new Error(`no FAILED line in:\n${log}`);
    return Number(m[1]);
}

function loadPrograms(): Promise<ProgramOutput[]> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "fixtures", "aws-program.ts"), JSON.stringify({ programs: PROGRAMS })], {
            cwd: ROOT_DIR,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr.on("data", (c: Buffer) => (err += c.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
        child.on("exit", (code) => {
            clearTimeout(timer);
            if (code !== 0) reject(new Error(`aws-program fixture exited ${code}: ${err}`));
            else resolve((JSON.parse(out) as { programs: ProgramOutput[] }).programs);
        });
    });
}

/** GET over TLS with the given client material (or none); resolves with the status, rejects on a refused handshake. */
function httpsGet(host: string, port: number, tls: { ca: string; cert?: string; key?: string }, urlPath = "/version"): Promise<number> {
    return new Promise((resolve, reject) => {
        const req = https.get({ host, port, path: urlPath, ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 10_000 }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

interface SsmParameter {
    Name: string;
    Type: string;
    Value: string;
    Version: number;
}

/** Every run's instance log is kept here (the lab's own files go at teardown). */
const LOG_DIR = path.join(os.tmpdir(), "geth-swarm-aws-bootstrap-logs");
let runCount = 0;
function keepLog(run: BootstrapRun, what: string): BootstrapRun {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    fs.writeFileSync(path.join(LOG_DIR, `${String(++runCount).padStart(2, "0")}-${run.host}-${what}.log`), `${run.log}\n--- cloud-init output ---\n${run.output}`);
    return run;
}

let lab: AwsLab | undefined;
let programs: ProgramOutput[] = [];
let tls: DockerTlsMaterial;
let watch: ProcessWatch;
const figures: Record<string, unknown> = {};

const program = (name: string) => programs.find((p) => p.name === name)!;
const planHosts = () => program("hosts").hosts;
const leaderPlan = () => planHosts()[0];
const userData = (prog: string, host: string) => program(prog).hosts.find((h) => h.name === host)!.userData;
const getParameter = async (name: string) => (await lab!.ssm<{ Parameter: SsmParameter }>("GetParameter", { Name: name, WithDecryption: true })).Parameter;

/** Every secret of the swarm: both join tokens, the TLS server key, the IMDSv2 session tokens handed out. */
async function needles(): Promise<Needle[]> {
    const l = lab!;
    const names = program("hosts").parameters;
    const out: Needle[] = [];
    for (const kind of ["worker", "manager"]) {
        const p = await getParameter(names.find((x) => x.name.endsWith(`/join-token/${kind}`))!.name);
        if (p.Value.startsWith("SWMTKN-")) out.push({ label: `${kind} join token`, value: p.Value });
    }
    pemBodyLines(tls.server.keyPem).forEach((v, i) => out.push({ label: `TLS server key (line ${i + 1})`, value: v }));
    for (const h of l.hosts) l.imdsTokens(h.name).forEach((v) => out.push({ label: `IMDSv2 session token of ${h.name}`, value: v }));
    return out;
}

/** Where secrets are on a host, but for the intended 0600 files: its logs, its files, its engine's state directory. */
function secretsOnHost(host: string, found: readonly Needle[], runs: readonly BootstrapRun[]): string[] {
    const h = lab!.host(host);
    const allowed = ["ca.pem", "server-cert.pem", "server-key.pem"].map((f) => path.join(h.root, "etc/docker/geth-swarm-tls", f));
    const inFiles = scanFiles([h.root, hostStateDir(host)], found, allowed).map((f) => `${f.label} in ${f.where}`);
    const inRuns = runs.flatMap((r) => [...new Set(found.filter((n) => r.log.includes(n.value) || r.output.includes(n.value)).map((n) => `${n.label} in the log of the run on ${r.host}`))]);
    return [...inFiles, ...inRuns];
}

beforeAll(async () => {
    fs.rmSync(LOG_DIR, { recursive: true, force: true });
    console.log(`instance logs of every run: ${LOG_DIR}`);
    programs = await loadPrograms();
    const plan = program("hosts");
    const leader = plan.hosts[0];
    expect(leader.privateIp, "the program gives the leader a fixed address").toBe("10.213.0.10");
    // The lab's hosts: the program's (the leader on its fixed address), then the spare one.
    const specs = [
        ...plan.hosts.map((h, i) => ({ name: h.name, ip: h.privateIp ?? `10.213.0.${11 + i}`, instanceId: h.instanceId, availabilityZone: `eu-west-1${"abc"[i % 3]}` })),
        { name: SPARE, ip: "10.213.0.20", instanceId: program("late").hosts.find((h) => h.name === SPARE)!.instanceId },
    ];
    lab = await startAwsLab({ hosts: specs });
    // What `pulumi up` creates before any instance: every program's parameters, with real TLS material.
    tls = await makeDockerTls({ ipAddresses: [leader.privateIp!, "127.0.0.1"] });
    for (const p of programs) {
        for (const param of p.parameters) {
            const value =
                param.placeholder ??
                (param.name.endsWith("/tls/ca-cert") ? tls.caPem : param.name.endsWith("/tls/server-cert") ? tls.server.certPem : param.name.endsWith("/tls/server-key") ? tls.server.keyPem : undefined);
            if (value === undefined) throw new Error(`no value for the program's parameter ${param.name}`);
            await lab.ssm("PutParameter", { Name: param.name, Type: param.type, Value: value, Description: param.description });
        }
    }
    watch = new ProcessWatch(new Set(lab.hosts.map((h) => netnsId(h.netnsPath))));
    console.log(`aws lab setup (s): ${JSON.stringify(lab.timings)}`);
    figures.setupSeconds = lab.timings;
});

afterAll(async () => {
    watch?.stop();
    if (Object.keys(figures).length > 0) mergeResults("awsBootstrap", figures);
    await lab?.teardown();
});

describe("the AWS hosts' user-data, run on lab hosts against the real AWS CLI, moto (SSM) and the EC2 metadata mock", () => {
    const joining = new Map<string, RunningBootstrap>();
    let leaderRun: BootstrapRun;
    /** When the leader began to publish the tokens (its step line; the writes take a second or two more). */
    let publishAt = 0;
    const joinRuns: BootstrapRun[] = [];

    it("1. the leader inits the swarm and writes both join tokens as SecureString to the program's parameters, printing no secret", async () => {
        const l = lab!;
        const leader = leaderPlan();
        watch.start();
        // The other hosts boot first, as they do when the leader is slower: each looks for its token once and finds none.
        for (const h of planHosts().slice(1)) joining.set(h.name, l.startBootstrap(h.name, h.userData, { timeoutMs: 300_000 }));
        await waitFor(
            "every joining host to have looked for its join token once",
            async () => ([...joining.values()].every((r) => /join token is not published yet/.test(r.logSoFar())) ? true : undefined),
            120_000,
            250,
        );
        const started = l.startBootstrap(leader.name, leader.userData, { timeoutMs: 300_000 });
        leaderRun = keepLog(await started.done, "first-boot");
        publishAt = started.startedAt + stepAt(leaderRun.log, "publish the join tokens to SSM") * 1000;
        console.log(`leader bootstrap: ${leaderRun.seconds.toFixed(1)} s`);
        figures.leaderSeconds = leaderRun.seconds;
        expect(leaderRun.code, leaderRun.log).toBe(0);

        // Its own identity from its own metadata service; installs skipped because the tools are there.
        expect(leaderRun.log).toContain(`host manager, role leader, address ${leader.privateIp}, region ${l.region}`);
        expect(leaderRun.log).toContain("the Docker engine is installed");
        expect(leaderRun.log).toContain("the AWS CLI is installed");
        expect(fs.existsSync(l.host("manager").refusedCalls), "a package manager was called").toBe(false);
        for (const step of ["configure the Docker API on TLS port 2376", `initialise the swarm on ${leader.privateIp}`, "publish the join tokens to SSM", "done"]) {
            expect(leaderRun.log).toContain(`=== ${step}`);
        }

        // The swarm: initialised on the leader's address with the program's address pool.
        const d = l.host("manager").docker;
        const info = (await d.info()) as { Swarm: { LocalNodeState: string; ControlAvailable: boolean; NodeAddr: string } };
        expect(info.Swarm).toMatchObject({ LocalNodeState: "active", ControlAvailable: true, NodeAddr: leader.privateIp });
        const swarm = (await d.swarmInspect()) as { JoinTokens: { Worker: string; Manager: string }; DefaultAddrPool: string[] };
        expect(swarm.DefaultAddrPool).toEqual(["10.200.0.0/16"]);

        // The tokens, in the parameters the program created: still SecureString, one version more than the placeholder.
        const params = program("hosts").parameters;
        for (const [kind, token] of [["worker", swarm.JoinTokens.Worker], ["manager", swarm.JoinTokens.Manager]]) {
            const p = await getParameter(params.find((x) => x.name.endsWith(`/join-token/${kind}`))!.name);
            expect(p).toMatchObject({ Type: "SecureString", Value: token, Version: 2 });
        }
        const key = await getParameter(params.find((x) => x.name.endsWith("/tls/server-key"))!.name);
        expect(key).toMatchObject({ Type: "SecureString", Version: 1 });

        // The TLS files: 0600 in a 0700 directory, the program's material; the engine runs with them.
        const tlsDir = path.join(l.host("manager").root, "etc/docker/geth-swarm-tls");
        expect(fs.statSync(tlsDir).mode & 0o777).toBe(0o700);
        for (const [f, pem] of [["ca.pem", tls.caPem], ["server-cert.pem", tls.server.certPem], ["server-key.pem", tls.server.keyPem]]) {
            expect(fs.statSync(path.join(tlsDir, f)).mode & 0o777).toBe(0o600);
            expect(fs.readFileSync(path.join(tlsDir, f), "utf8").trim()).toBe(pem.trim());
        }
        const cmdline = fs.readFileSync(`/proc/${l.dockerdPid("manager")}/cmdline`, "utf8").split("\0");
        expect(cmdline).toEqual(expect.arrayContaining(["--tlsverify", `tcp://0.0.0.0:${DOCKER_TLS_PORT}`, `--tlskey=${tlsDir}/server-key.pem`]));

        // No secret in the run's log, the console, syslog, any file but the TLS ones, the scratch directory (gone).
        const found = await needles();
        expect(found.map((n) => n.label)).toEqual(expect.arrayContaining(["worker join token", "manager join token", "TLS server key (line 1)", "IMDSv2 session token of manager"]));
        expect(secretsOnHost("manager", found, [leaderRun])).toEqual([]);
        expect(fs.readdirSync(path.join(l.host("manager").root, "tmp"))).toEqual([]);
        // ... nor in the process list while it ran (sampled every 25 ms: it saw the AWS CLI's command lines,
        // which live a second or more; a curl to the metadata service lives milliseconds and may fall between samples).
        watch.sample();
        expect(watch.find(found)).toEqual([]);
        expect(watch.commandLines(/ssm put-parameter .*--value file:\/\//).length).toBeGreaterThan(0);
        console.log(`process list: ${watch.samples} samples, ${watch.processes.size} processes seen`);
    });

    it("2. the second and third manager and the workers read their tokens and join, with the host plan's roles and labels (the miner carries role=miner)", async () => {
        const l = lab!;
        for (const [name, r] of joining) {
            const run = keepLog(await r.done, "first-boot");
            joinRuns.push(run);
            const plan = planHosts().find((h) => h.name === name)!;
            const kind = plan.role === "manager" ? "manager" : "worker";
            expect(run.code, `${name}:\n${run.log}`).toBe(0);
            expect(run.log).toContain(`host ${name}, role ${kind}, address ${l.host(name).ip}, region ${l.region}`);
            expect(run.log).toContain(`=== join the swarm of ${leaderPlan().instanceId} at ${leaderPlan().privateIp} as a ${kind}`);
            expect(run.log).toContain(`the ${kind} join token is in /geth-swarm/dev/hosts/join-token/${kind}`);
            expect(run.log).toContain(`in the swarm as a ${kind}`);
            expect(fs.existsSync(l.host(name).refusedCalls), `${name}: a package manager was called`).toBe(false);
        }
        const ends = Object.fromEntries(joinRuns.map((r) => [r.host, Number(((joining.get(r.host)!.startedAt + r.seconds * 1000 - publishAt) / 1000).toFixed(1))]));
        console.log(`joined (bootstrap done), seconds after the leader began to publish the tokens: ${JSON.stringify(ends)}`);
        figures.joinedSecondsAfterPublish = ends;
        figures.joiningRunSeconds = Object.fromEntries(joinRuns.map((r) => [r.host, r.seconds]));

        // The swarm as the manager's API shows it: every planned host, Ready, in its role.
        type Node = { ID: string; Spec: { Role: string; Labels?: Record<string, string> }; Description: { Hostname: string }; Status: { State: string }; ManagerStatus?: { Leader?: boolean; Reachability?: string } };
        const nodes = (await l.host("manager").docker.listNodes()) as Node[];
        expect(nodes.map((n) => n.Description.Hostname).sort()).toEqual(planHosts().map((h) => h.name).sort());
        for (const h of planHosts()) {
            const n = nodes.find((x) => x.Description.Hostname === h.name)!;
            expect([h.name, n.Spec.Role, n.Status.State]).toEqual([h.name, h.role, "ready"]);
            if (h.role === "manager") expect(n.ManagerStatus?.Reachability, h.name).toBe("reachable");
        }
        expect(nodes.find((n) => n.Description.Hostname === "manager")!.ManagerStatus?.Leader).toBe(true);

        // The host plan's labels, set the way the program sets them: its SwarmNodeLabels provider over the TLS API.
        const endpoint = { host: `tcp://${leaderPlan().privateIp}:${DOCKER_TLS_PORT}`, caPem: tls.caPem, certPem: tls.client.certPem, keyPem: tls.client.keyPem };
        await swarmNodeLabelsProvider.create({
            endpoint,
            hosts: planHosts().map((h) => ({ name: h.name, labels: h.labels })),
            timeoutSeconds: 60,
            owned: { keys: [LABELS.role], prefixes: ["geth-swarm."] },
        });
        const labelled = (await l.host("manager").docker.listNodes()) as Node[];
        for (const h of planHosts()) expect(labelled.find((n) => n.Description.Hostname === h.name)!.Spec.Labels ?? {}, h.name).toEqual(h.labels);
        expect(labelled.find((n) => n.Description.Hostname === "miner-worker")!.Spec.Labels).toMatchObject({ role: "miner" });
        expect(labelled.filter((n) => n.Spec.Labels?.role === "miner").map((n) => n.Description.Hostname)).toEqual(["miner-worker"]);

        // No token anywhere on the joining hosts, nor in any process's command line or environment.
        watch.sample();
        watch.stop();
        const found = await needles();
        for (const h of planHosts().slice(1)) {
            expect(secretsOnHost(h.name, found, joinRuns)).toEqual([]);
            expect(fs.readdirSync(path.join(l.host(h.name).root, "tmp"))).toEqual([]);
        }
        expect(watch.find(found)).toEqual([]);
        expect(watch.commandLines(/ssm get-parameter .*join-token/).length).toBeGreaterThan(0);
        expect(watch.commandLines(/curl .*--unix-socket .*swarm\/join/).length, "the joins' curl was seen").toBeGreaterThan(0);
        figures.processListSamples = watch.samples;
    });

    it("3. the manager's Docker API answers on 2376 only with the program's client certificate; 2375 is closed", async () => {
        const ip = leaderPlan().privateIp!;
        const endpoint = { host: `tcp://${ip}:${DOCKER_TLS_PORT}`, caPem: tls.caPem, certPem: tls.client.certPem, keyPem: tls.client.keyPem };
        const api = connectDocker(endpoint, { timeoutMs: 15_000 });
        const info = (await api.info()) as { Name: string; Swarm: { LocalNodeState: string; ControlAvailable: boolean } };
        expect(info.Name).toBe("manager");
        expect(info.Swarm).toMatchObject({ LocalNodeState: "active", ControlAvailable: true });
        expect(await httpsGet(ip, DOCKER_TLS_PORT, { ca: tls.caPem, cert: tls.client.certPem, key: tls.client.keyPem })).toBe(200);

        // Without a client certificate, or with one from another CA: the handshake is refused.
        await expect(httpsGet(ip, DOCKER_TLS_PORT, { ca: tls.caPem })).rejects.toThrow(/certificate|alert|handshake|socket hang up|ECONNRESET/i);
        const other = await makeDockerTls({ ipAddresses: [ip], caName: "another CA" });
        await expect(httpsGet(ip, DOCKER_TLS_PORT, { ca: tls.caPem, cert: other.client.certPem, key: other.client.keyPem })).rejects.toThrow(/certificate|alert|handshake|socket hang up|ECONNRESET/i);
        await expect(connectDocker({ ...endpoint, certPem: other.client.certPem, keyPem: other.client.keyPem }, { timeoutMs: 10_000 }).info()).rejects.toThrow();
        // Plain HTTP on the TLS port is an error page, not the API; nothing listens on 2375.
        const plain = await httpGet(ip, DOCKER_TLS_PORT, "/version");
        expect(plain.status).toBe(400);
        expect(plain.body).toMatch(/HTTP request to an HTTPS server/);
        await expect(tcpConnect(ip, 2375)).rejects.toThrow(/ECONNREFUSED/);
        // Only the leader serves the API on the network.
        for (const h of planHosts().slice(1)) await expect(tcpConnect(lab!.host(h.name).ip, DOCKER_TLS_PORT)).rejects.toThrow(/ECONNREFUSED/);
    });

    it("4. a host that boots before the tokens exist waits and joins once they appear; one whose token never appears fails within its bound, naming the parameter", async () => {
        // The joining hosts above booted first: each found no token, waited, then joined.
        for (const run of joinRuns) {
            const waited = (run.log.match(/join token is not published yet in SSM parameter/g) ?? []).length;
            expect(waited, run.host).toBeGreaterThanOrEqual(1);
            expect(run.log).toMatch(/the (worker|manager) join token is in .* \(attempt \d+ of 30\)/);
        }
        // A worker of a swarm whose leader never boots: its token parameter holds the program's placeholder for good.
        const late = program("late");
        const param = late.parameters.find((p) => p.name.endsWith("/join-token/worker"))!.name;
        const attempts = PROGRAMS.find((p) => p.name === "late")!.joinAttempts!;
        const run = keepLog(await lab!.runBootstrap(SPARE, userData("late", SPARE), { timeoutMs: 300_000 }), "token-never-published");
        expect(run.timedOut).toBe(false);
        expect(run.code, run.log).toBe(1);
        expect(run.log).toContain(`the worker join token is not published yet in SSM parameter ${param} (attempt 1 of ${attempts})`);
        expect(run.log).toContain(`could not join the swarm at ${late.leaderPrivateIp}:2377 after ${attempts} attempts: the worker join token is not published yet in SSM parameter ${param}`);
        const step = `join the swarm of ${late.hosts[0].instanceId} at ${late.leaderPrivateIp} as a worker`;
        expect(run.log).toContain(`FAILED (exit 1) during step: ${step}`);
        expect(run.log.match(/FAILED \(exit/g)).toHaveLength(1);
        const spent = failedAfter(run.log) - stepAt(run.log, step);
        const bound = BOUNDS.joinWaits(attempts) + attempts * BOUNDS.ssmCallSeconds;
        console.log(`token never published: failed after ${spent} s of joining (waits ${BOUNDS.joinWaits(attempts)} s, bound ${bound} s); run ${run.seconds.toFixed(1)} s`);
        figures.neverPublished = { joinPhaseSeconds: spent, waitsSeconds: BOUNDS.joinWaits(attempts), boundSeconds: bound, runSeconds: run.seconds };
        expect(spent).toBeGreaterThanOrEqual(BOUNDS.joinWaits(attempts));
        expect(spent).toBeLessThanOrEqual(bound + SLACK_SECONDS);
        const info = (await lab!.host(SPARE).docker.info()) as { Swarm: { LocalNodeState: string } };
        expect(info.Swarm.LocalNodeState).toBe("inactive");
        expect(fs.readFileSync(lab!.host(SPARE).console, "utf8")).toContain(`FAILED (exit 1) during step: ${step}`);
        expect(fs.readFileSync(lab!.host(SPARE).syslog, "utf8")).toContain(`geth-swarm-bootstrap: FAILED (exit 1) during step: ${step}`);
    });

    it("5. running the user-data again on hosts in the swarm changes nothing", async () => {
        const l = lab!;
        const hosts = planHosts();
        type Node = { ID: string; Spec: unknown; Description: { Hostname: string }; Status: { State: string }; ManagerStatus?: { Reachability?: string; Leader?: boolean } };
        // What the bootstrap could change (not the objects' version counters, which the swarm's own status updates move).
        const state = async () => {
            const d = l.host("manager").docker;
            const nodes = ((await d.listNodes()) as Node[])
                .map((n) => ({ id: n.ID, host: n.Description.Hostname, spec: n.Spec, state: n.Status.State, manager: n.ManagerStatus ?? null }))
                .sort((a, b) => a.host.localeCompare(b.host));
            const swarm = (await d.swarmInspect()) as { ID: string; Spec: unknown; JoinTokens: unknown };
            const params = await Promise.all(program("hosts").parameters.map(async (p) => (await getParameter(p.name)).Version));
            // Every file of the instance but the logs; the TLS files and the drop-in down to their modification time.
            const trees = Object.fromEntries(
                hosts.map((h) => {
                    const root = l.host(h.name).root;
                    const untouched = (p: string) => p.startsWith(path.join(root, "etc/docker")) || p.startsWith(path.join(root, "etc/systemd"));
                    return [h.name, treeState(root, { skip: [path.join(root, "var/log"), path.join(root, "dev")], withMtime: untouched })];
                }),
            );
            const engines = Object.fromEntries(hosts.map((h) => [h.name, l.dockerdPid(h.name)]));
            return { nodes, swarm: { id: swarm.ID, spec: swarm.Spec, tokens: swarm.JoinTokens }, params, trees, engines };
        };
        const before = await state();
        const rerun = new ProcessWatch(new Set(l.hosts.map((h) => netnsId(h.netnsPath))));
        rerun.start();
        const t = Date.now();
        const runs = (await Promise.all(hosts.map((h) => l.runBootstrap(h.name, h.userData, { timeoutMs: 300_000 })))).map((r) => keepLog(r, "again"));
        rerun.stop();
        figures.rerunSeconds = (Date.now() - t) / 1000;
        for (const r of runs) expect(r.code, `${r.host}:\n${r.log}`).toBe(0);
        const after = await state();
        expect(after).toEqual(before);

        const leaderLog = runs[0].log;
        expect(leaderLog).toContain("TLS settings unchanged, port 2376 open: the engine keeps running");
        expect(leaderLog).toContain("in a swarm already: nothing to initialise");
        expect(leaderLog).toContain("holds the worker join token already");
        expect(leaderLog).toContain("holds the manager join token already");
        expect(leaderLog).not.toMatch(/put-parameter/);
        for (const r of runs.slice(1)) {
            expect(r.log).toMatch(/in the swarm as a (manager|worker)/);
            expect(r.log).not.toMatch(/swarm\/join|join token is in/);
        }
        const found = await needles();
        expect(rerun.find(found)).toEqual([]);
        for (const h of hosts) expect(secretsOnHost(h.name, found, runs)).toEqual([]);
    });

    it("6. every network call is bounded: with IMDS or SSM hanging, the script fails within its bound and says what did not answer", async () => {
        const l = lab!;
        // IMDS accepts connections and never answers (the mock stopped).
        l.pauseImds(SPARE);
        const imdsRun = keepLog(await l.runBootstrap(SPARE, userData("stalled", SPARE), { timeoutMs: 300_000 }).finally(() => l.resumeImds(SPARE)), "imds-hanging");
        const imdsStep = "read the instance's address and region (IMDSv2)";
        expect(imdsRun.timedOut).toBe(false);
        expect(imdsRun.code, imdsRun.log).not.toBe(0);
        expect(imdsRun.log).toContain(`no IMDSv2 session token from the instance metadata service (http://169.254.169.254) within ${BOUNDS.imdsSeconds} s`);
        expect(imdsRun.log).toMatch(/curl: \(28\) (Operation|Connection) timed out/);
        expect(imdsRun.log).toContain(`FAILED (exit 1) during step: ${imdsStep}`);
        expect(imdsRun.log.match(/FAILED \(exit/g)).toHaveLength(1);
        const imdsSpent = failedAfter(imdsRun.log) - stepAt(imdsRun.log, imdsStep);
        console.log(`IMDS hanging: failed after ${imdsSpent} s (bound ${BOUNDS.imdsSeconds} s); run ${imdsRun.seconds.toFixed(1)} s`);
        expect(imdsSpent).toBeGreaterThanOrEqual(BOUNDS.imdsSeconds - 5);
        expect(imdsSpent).toBeLessThanOrEqual(BOUNDS.imdsSeconds + SLACK_SECONDS);

        // SSM accepts connections and never answers (moto stopped).
        const stalled = program("stalled");
        const param = stalled.parameters.find((p) => p.name.endsWith("/join-token/worker"))!.name;
        l.pauseSsm();
        const ssmRun = keepLog(await l.runBootstrap(SPARE, userData("stalled", SPARE), { timeoutMs: 300_000 }).finally(() => l.resumeSsm()), "ssm-hanging");
        const ssmStep = `join the swarm of ${stalled.hosts[0].instanceId} at ${stalled.leaderPrivateIp} as a worker`;
        expect(ssmRun.timedOut).toBe(false);
        expect(ssmRun.code, ssmRun.log).toBe(1);
        expect(ssmRun.log).toMatch(/Read timeout on endpoint URL: "http:\/\/10\.213\.0\.2:5000\/"/);
        expect(ssmRun.log).toContain(`could not join the swarm at ${stalled.leaderPrivateIp}:2377 after 1 attempts: could not read the worker join token from SSM parameter ${param}`);
        expect(ssmRun.log).toContain(`FAILED (exit 1) during step: ${ssmStep}`);
        expect(ssmRun.log.match(/FAILED \(exit/g)).toHaveLength(1);
        const ssmSpent = failedAfter(ssmRun.log) - stepAt(ssmRun.log, ssmStep);
        console.log(`SSM hanging: failed after ${ssmSpent} s of joining (bound ${BOUNDS.ssmCallSeconds} s); run ${ssmRun.seconds.toFixed(1)} s`);
        expect(ssmSpent).toBeGreaterThanOrEqual(BOUNDS.ssmCallSeconds - 10);
        expect(ssmSpent).toBeLessThanOrEqual(BOUNDS.ssmCallSeconds + SLACK_SECONDS);
        figures.hangs = {
            imds: { phaseSeconds: imdsSpent, boundSeconds: BOUNDS.imdsSeconds, runSeconds: imdsRun.seconds },
            ssm: { phaseSeconds: ssmSpent, boundSeconds: BOUNDS.ssmCallSeconds, runSeconds: ssmRun.seconds },
        };
    });

    it("tears down, leaving nothing on the machine", async () => {
        await lab!.teardown();
        const left = await listLeftovers();
        expect(isEmpty(left), describeLeftovers(left)).toBe(true);
    });
});
