import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { expectSmallProviderClosure } from "./closure.fixtures";
import { expectWithin, measure } from "./timing.fixtures";
import { formationFingerprint, swarmFormationProvider } from "./formResource";
import { describe, expect, it } from "vitest";
import { dockerOptions, FormNode, formSwarm, SwarmEngine, SwarmFormationError, withSwarmPort } from "./form";

// ----------------------------------------------------------------------------------------
// A fake swarm world: engines that behave like the Engine API's /info, /swarm/init,
// /swarm/join, /swarm and /nodes, sharing clusters by advertise address.

interface FakeCluster {
    id: string;
    tokens: { Worker: string; Manager: string };
    nodes: Map<string, { hostname: string; role: "manager" | "worker"; state: string }>;
}

/** Shaped like a real token: `SWMTKN-1-<50 chars of CA digest>-<25 chars of secret>`. */
function fakeToken(seq: string, kind: string): string {
    return `SWMTKN-1-${"0a1b2c3d4e".repeat(5)}-${`${kind}${seq}`.padEnd(25, "x")}`;
}

class World {
    clusters = new Map<string, FakeCluster>();
    engines: FakeEngine[] = [];
    /** Host names whose node never becomes ready (with this state). */
    stuck = new Map<string, string>();
    private seq = 0;
    id(prefix: string): string {
        return `${prefix}${++this.seq}`;
    }
    engine(hostname: string, addr: string): FakeEngine {
        const e = new FakeEngine(this, hostname, addr);
        this.engines.push(e);
        return e;
    }
    /** Every call of every engine, in order. */
    log: Array<{ host: string; method: string; args?: Record<string, unknown> }> = [];
}

class FakeEngine implements SwarmEngine {
    state: "inactive" | "active" | "pending" | "locked" = "inactive";
    nodeId?: string;
    cluster?: FakeCluster;
    /** Method name → number of upcoming calls that fail. */
    failures: Record<string, number> = {};
    /** Message of the injected failures (may echo the request, token included). */
    failureMessage = (_args?: Record<string, unknown>) => "connection reset";
    /** Never answer /info. */
    hang = false;
    constructor(readonly world: World, readonly hostname: string, readonly addr: string) {}

    private enter(method: string, args?: Record<string, unknown>): void {
        this.world.log.push({ host: this.hostname, method, args });
        if ((this.failures[method] ?? 0) > 0) {
            this.failures[method]--;
            throw new Error(this.failureMessage(args));
        }
    }
    private role(): "manager" | "worker" | undefined {
        return this.cluster && this.nodeId ? this.cluster.nodes.get(this.nodeId)?.role : undefined;
    }
    async info(): Promise<unknown> {
        if (this.hang) return new Promise(() => undefined);
        this.enter("info");
        const manager = this.role() === "manager";
        return {
            Name: this.hostname,
            Swarm: {
                LocalNodeState: this.state,
                NodeID: this.nodeId ?? "",
                ControlAvailable: manager,
                ...(manager ? { Cluster: { ID: this.cluster!.id } } : {}),
            },
        };
    }
    async swarmInit(args: Record<string, unknown>): Promise<unknown> {
        this.enter("swarmInit", args);
        if (this.state !== "inactive") throw new Error("This node is already part of a swarm.");
        const c: FakeCluster = {
            id: this.world.id("cluster-"),
            tokens: { Worker: fakeToken(this.world.id("w"), "secretworker"), Manager: fakeToken(this.world.id("m"), "secretmanager") },
            nodes: new Map(),
        };
        this.world.clusters.set(c.id, c);
        this.nodeId = this.world.id("node-");
        c.nodes.set(this.nodeId, { hostname: this.hostname, role: "manager", state: "ready" });
        this.cluster = c;
        this.state = "active";
        return this.nodeId;
    }
    async swarmJoin(args: Record<string, unknown>): Promise<unknown> {
        this.enter("swarmJoin", args);
        if (this.state !== "inactive") throw new Error("This node is already part of a swarm.");
        const remote = (args.RemoteAddrs as string[])[0];
        const mgr = this.world.engines.find((e) => `${e.addr}:2377` === remote && e.role() === "manager");
        if (!mgr) throw new Error(`could not reach ${remote}`);
        const c = mgr.cluster!;
        const role = args.JoinToken === c.tokens.Manager ? "manager" : args.JoinToken === c.tokens.Worker ? "worker" : undefined;
        if (!role) throw new Error("invalid join token");
        this.nodeId = this.world.id("node-");
        c.nodes.set(this.nodeId, { hostname: this.hostname, role, state: this.world.stuck.get(this.hostname) ?? "ready" });
        this.cluster = c;
        this.state = "active";
        return undefined;
    }
    async swarmInspect(): Promise<unknown> {
        this.enter("swarmInspect");
        if (this.role() !== "manager") throw new Error("This node is not a swarm manager.");
        return { ID: this.cluster!.id, JoinTokens: { ...this.cluster!.tokens } };
    }
    async listNodes(): Promise<unknown> {
        this.enter("listNodes");
        if (this.role() !== "manager") throw new Error("This node is not a swarm manager.");
        return [...this.cluster!.nodes.entries()].map(([ID, n]) => ({
            ID,
            Version: { Index: 1 },
            Description: { Hostname: n.hostname },
            Spec: { Role: n.role },
            Status: { State: n.state },
            ...(n.role === "manager" ? { ManagerStatus: { Reachability: n.state === "ready" ? "reachable" : "unreachable" } } : {}),
        }));
    }
}

/** The reference layout: one manager, one worker, one miner worker; optionally more managers. */
function layout(world: World, extraManagers = 0) {
    const mgr = world.engine("manager", "10.0.0.2");
    const managers: FormNode[] = Array.from({ length: extraManagers }, (_, i) => ({
        name: `manager-${i + 2}`,
        role: "manager" as const,
        advertiseAddr: `10.0.0.${10 + i}`,
        docker: world.engine(`manager-${i + 2}`, `10.0.0.${10 + i}`),
    }));
    const workers: FormNode[] = [
        { name: "worker", role: "worker", advertiseAddr: "10.0.0.3", docker: world.engine("worker", "10.0.0.3") },
        { name: "miner-worker", role: "worker", advertiseAddr: "10.0.0.4", docker: world.engine("miner-worker", "10.0.0.4") },
    ];
    return { manager: { name: "manager", advertiseAddr: "10.0.0.2", docker: mgr }, others: [...managers, ...workers] };
}

const fast = { retryDelayMs: 5, maxRetryDelayMs: 20 };

async function formError(p: Promise<unknown>): Promise<SwarmFormationError> {
    try {
        await p;
    } catch (e) {
        expect(e).toBeInstanceOf(SwarmFormationError);
        return e as SwarmFormationError;
    }
    throw new Error("expected formSwarm to fail");
}

function allTokens(world: World): string[] {
    return [...world.clusters.values()].flatMap((c) => [c.tokens.Worker, c.tokens.Manager]);
}

describe("formSwarm", () => {
    it("initialises once on the manager and joins each node with its role's token and the right addresses", async () => {
        const world = new World();
        const l = layout(world, 2);
        const r = await formSwarm({ ...l, timeoutMs: 5_000, ...fast });

        const inits = world.log.filter((c) => c.method === "swarmInit");
        expect(inits).toEqual([{ host: "manager", method: "swarmInit", args: { ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "10.0.0.2:2377" } }]);

        const cluster = [...world.clusters.values()][0];
        const joins = world.log.filter((c) => c.method === "swarmJoin");
        expect(joins.map((j) => [j.host, j.args])).toEqual([
            ["manager-2", { ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "10.0.0.10:2377", RemoteAddrs: ["10.0.0.2:2377"], JoinToken: cluster.tokens.Manager }],
            ["manager-3", { ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "10.0.0.11:2377", RemoteAddrs: ["10.0.0.2:2377"], JoinToken: cluster.tokens.Manager }],
            ["worker", { ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "10.0.0.3:2377", RemoteAddrs: ["10.0.0.2:2377"], JoinToken: cluster.tokens.Worker }],
            ["miner-worker", { ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "10.0.0.4:2377", RemoteAddrs: ["10.0.0.2:2377"], JoinToken: cluster.tokens.Worker }],
        ]);

        expect(r.clusterId).toBe(cluster.id);
        expect(Object.keys(r.nodeIds).sort()).toEqual(["manager", "manager-2", "manager-3", "miner-worker", "worker"]);
        for (const e of world.engines) expect(r.nodeIds[e.hostname]).toBe(e.nodeId);
        expect([...cluster.nodes.values()].map((n) => [n.hostname, n.role])).toEqual([
            ["manager", "manager"], ["manager-2", "manager"], ["manager-3", "manager"], ["worker", "worker"], ["miner-worker", "worker"],
        ]);
    });

    it("joins managers one at a time before the workers", async () => {
        const world = new World();
        await formSwarm({ ...layout(world, 2), timeoutMs: 5_000, ...fast });
        const order = world.log.filter((c) => c.method === "swarmJoin").map((c) => c.host);
        expect(order.slice(0, 2)).toEqual(["manager-2", "manager-3"]);
        // manager-3 joined only after manager-2 was confirmed in the swarm (an /info after its join).
        const i2join = world.log.findIndex((c) => c.host === "manager-2" && c.method === "swarmJoin");
        const i2info = world.log.findIndex((c, i) => i > i2join && c.host === "manager-2" && c.method === "info");
        const i3join = world.log.findIndex((c) => c.host === "manager-3" && c.method === "swarmJoin");
        expect(i2info).toBeGreaterThan(i2join);
        expect(i3join).toBeGreaterThan(i2info);
    });

    it("is idempotent: a re-run over a formed swarm inits and joins nothing and returns the same ids", async () => {
        const world = new World();
        const l = layout(world, 2);
        const first = await formSwarm({ ...l, timeoutMs: 5_000, ...fast });
        world.log = [];
        const second = await formSwarm({ ...l, timeoutMs: 5_000, ...fast });
        expect(second).toEqual(first);
        expect(world.log.filter((c) => c.method === "swarmInit" || c.method === "swarmJoin")).toEqual([]);
        expect(world.clusters.size).toBe(1);
    });

    it("completes a half-formed swarm: joins only the missing nodes", async () => {
        const world = new World();
        const l = layout(world);
        await formSwarm({ manager: l.manager, others: [l.others[0]], timeoutMs: 5_000, ...fast });
        world.log = [];
        const r = await formSwarm({ ...l, timeoutMs: 5_000, ...fast });
        expect(world.log.filter((c) => c.method === "swarmInit")).toEqual([]);
        expect(world.log.filter((c) => c.method === "swarmJoin").map((c) => c.host)).toEqual(["miner-worker"]);
        expect(Object.keys(r.nodeIds)).toHaveLength(3);
    });

    it("retries transient engine errors with backoff, and still joins", async () => {
        const world = new World();
        const l = layout(world);
        const mgr = l.manager.docker as FakeEngine;
        mgr.failures = { info: 2, swarmInspect: 1, listNodes: 1 };
        const w = l.others[0].docker as FakeEngine;
        w.failures = { info: 1, swarmJoin: 2 };
        const r = await formSwarm({ ...l, timeoutMs: 5_000, ...fast });
        expect(Object.keys(r.nodeIds)).toHaveLength(3);
        expect(world.log.filter((c) => c.method === "swarmInit")).toHaveLength(1);
        expect(world.log.filter((c) => c.host === "worker" && c.method === "swarmJoin")).toHaveLength(3);
    });

    it("fails clearly, without retrying for the whole deadline, when a node is in another swarm", async () => {
        const world = new World();
        const other = world.engine("elsewhere", "10.9.9.9");
        await other.swarmInit({});
        const l = layout(world);
        const stray = l.others[1].docker as FakeEngine;
        await stray.swarmJoin({ RemoteAddrs: ["10.9.9.9:2377"], JoinToken: other.cluster!.tokens.Worker });

        const m = await measure(() => formError(formSwarm({ ...l, timeoutMs: 10_000, ...fast })));
        const err = m.value!;
        // It stops at once (no waiting out the 10 s bound).
        expectWithin(m, 0, 2_000);
        expect(err.message).toMatch(/miner-worker is already part of another swarm/);
        expect(err.message).toMatch(/docker swarm leave --force/);
    });

    it("fails when the host meant to initialise the swarm is a worker of another swarm", async () => {
        const world = new World();
        const other = world.engine("elsewhere", "10.9.9.9");
        await other.swarmInit({});
        const l = layout(world);
        await (l.manager.docker as FakeEngine).swarmJoin({ RemoteAddrs: ["10.9.9.9:2377"], JoinToken: other.cluster!.tokens.Worker });
        const err = await formError(formSwarm({ ...l, timeoutMs: 10_000, ...fast }));
        expect(err.message).toMatch(/manager should initialise the swarm but is already a worker/);
    });

    it("fails when a node is in this swarm with the wrong role", async () => {
        const world = new World();
        const l = layout(world);
        const wrong = { ...l.others[0], role: "manager" as const };
        await formSwarm({ manager: l.manager, others: [l.others[0]], timeoutMs: 5_000, ...fast });
        const err = await formError(formSwarm({ manager: l.manager, others: [wrong], timeoutMs: 5_000, ...fast }));
        expect(err.message).toMatch(/worker is in this swarm as a worker but is planned as a manager.*docker node promote/);
    });

    it("times out naming the hosts that are not ready and what the manager saw", async () => {
        const world = new World();
        world.stuck.set("miner-worker", "down");
        const l = layout(world);
        const m = await measure(() => formError(formSwarm({ ...l, timeoutMs: 400, ...fast })));
        const err = m.value!;
        expectWithin(m, 400, 1_100);
        expect(err.message).toMatch(/timed out after 400 ms .* waiting for every node to be Ready/);
        expect(err.message).toMatch(/not ready: miner-worker \(down\)/);
        expect(err.message).not.toMatch(/worker \(down\).*worker/);
    });

    it("never hangs on an engine that does not answer: the error names the host", async () => {
        const world = new World();
        const l = layout(world);
        (l.others[0].docker as FakeEngine).hang = true;
        const m = await measure(() => formError(formSwarm({ ...l, timeoutMs: 300, ...fast })));
        const err = m.value!;
        expectWithin(m, 300, 1_200);
        expect(err.message).toMatch(/waiting for worker \(worker\) to join the swarm of manager/);
        expect(err.message).toMatch(/worker: GET \/info did not answer/);
    });

    it("names every host that failed to join, not only the first", async () => {
        const world = new World();
        const l = layout(world);
        for (const o of l.others) (o.docker as FakeEngine).failures = { swarmJoin: 1_000 };
        const err = await formError(formSwarm({ ...l, timeoutMs: 300, ...fast }));
        expect(err.message).toMatch(/2 hosts did not join/);
        expect(err.message).toMatch(/waiting for worker \(worker\)/);
        expect(err.message).toMatch(/waiting for miner-worker \(worker\)/);
    });

    it("never puts a join token in an error message or a log line, even when the engine echoes it", async () => {
        const seen: string[] = [];
        const world = new World();
        const l = layout(world, 1);
        // Echo the token whole, and its secret part alone.
        const echo = (a?: Record<string, unknown>) => `join refused for token ${String(a?.JoinToken)} (secret ${String(a?.JoinToken).split("-")[3]})`;
        for (const o of l.others) {
            const e = o.docker as FakeEngine;
            e.failures = { swarmJoin: 1_000 };
            e.failureMessage = echo;
        }
        const err = await formError(formSwarm({ ...l, timeoutMs: 300, ...fast, log: (m) => seen.push(m) }));
        seen.push(err.message);

        // And in the other failure modes.
        const w2 = new World();
        w2.stuck.set("worker", "down");
        seen.push((await formError(formSwarm({ ...layout(w2), timeoutMs: 200, ...fast, log: (m) => seen.push(m) }))).message);

        const tokens = [...allTokens(world), ...allTokens(w2)];
        expect(tokens.length).toBe(4);
        expect(seen.join("\n")).toMatch(/join refused for token <redacted>/);
        for (const m of seen) {
            for (const t of tokens) {
                expect(m).not.toContain(t);
                expect(m).not.toContain(t.split("-")[3]);
            }
            expect(m).not.toMatch(/secret(worker|manager)/);
        }
    });

    it("refuses two hosts with one name", async () => {
        const world = new World();
        const l = layout(world);
        const err = await formError(formSwarm({ manager: l.manager, others: [{ ...l.others[0], name: "manager" }], timeoutMs: 1_000 }));
        expect(err.message).toMatch(/host name manager appears twice/);
    });
});

describe("withSwarmPort", () => {
    it.each([
        ["10.0.0.2", "10.0.0.2:2377"],
        ["10.0.0.2:4000", "10.0.0.2:4000"],
        ["fd00::1", "[fd00::1]:2377"],
        ["[fd00::1]:2377", "[fd00::1]:2377"],
    ])("%s → %s", (a, b) => expect(withSwarmPort(a)).toBe(b));
});

describe("dockerOptions", () => {
    it("maps unix:// to a socket path", () => {
        expect(dockerOptions({ host: "unix:///var/run/docker.sock" })).toEqual({ socketPath: "/var/run/docker.sock", timeout: undefined });
    });
    it("maps tcp:// without TLS material to plain HTTP", () => {
        expect(dockerOptions({ host: "tcp://127.0.0.1:2375" }, { timeoutMs: 1000 })).toEqual({ host: "127.0.0.1", port: 2375, protocol: "http", timeout: 1000 });
    });
    it("maps tcp:// with CA, certificate and key to verified HTTPS", () => {
        expect(dockerOptions({ host: "tcp://127.0.0.1:12375", caPem: "CA", certPem: "CERT", keyPem: "KEY" })).toEqual({
            host: "127.0.0.1", port: 12375, protocol: "https", ca: "CA", cert: "CERT", key: "KEY", timeout: undefined,
        });
    });
    it("refuses partial TLS material, naming what is missing (never the key)", () => {
        expect(() => dockerOptions({ host: "tcp://h:2376", caPem: "CA", keyPem: "THE-KEY" })).toThrow(/has caPem, keyPem but not certPem/);
        try {
            dockerOptions({ host: "tcp://h:2376", caPem: "CA", keyPem: "THE-KEY" });
        } catch (e) {
            expect((e as Error).message).not.toContain("THE-KEY");
        }
    });
    it("refuses a malformed endpoint", () => {
        expect(() => dockerOptions({ host: "https://h:2376" })).toThrow(/neither unix/);
        expect(() => dockerOptions({ host: "tcp://h" })).toThrow(/neither unix/);
    });
});

// ----------------------------------------------------------------------------------------
// The SwarmFormation dynamic provider, end to end through real dockerode against fake
// Engine APIs served on unix sockets.


/** Serves a FakeEngine as the Docker Engine API on a unix socket. */
async function serve(engine: FakeEngine, socket: string): Promise<http.Server> {
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", async () => {
            const args = body ? (JSON.parse(body) as Record<string, unknown>) : {};
            const route = `${req.method} ${(req.url ?? "").split("?")[0]}`;
            const call: Record<string, () => Promise<unknown>> = {
                "GET /info": () => engine.info(),
                "POST /swarm/init": () => engine.swarmInit(args),
                "POST /swarm/join": () => engine.swarmJoin(args),
                "GET /swarm": () => engine.swarmInspect(),
                "GET /nodes": () => engine.listNodes(),
            };
            try {
                if (!call[route]) throw new Error(`no route ${route}`);
                const out = await call[route]();
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify(out ?? ""));
            } catch (e) {
                res.writeHead(503, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ message: (e as Error).message }));
            }
        });
    });
    await new Promise<void>((r) => server.listen(socket, r));
    return server;
}

describe("SwarmFormation provider", () => {
    it("forms the swarm through dockerode on create, stores ids, the inputs and a fingerprint without key material", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geth-swarm-form-"));
        const world = new World();
        const names = ["manager", "worker", "miner-worker"];
        const engines = names.map((n, i) => world.engine(n, `10.0.0.${2 + i}`));
        const servers = await Promise.all(engines.map((e, i) => serve(e, path.join(dir, `${names[i]}.sock`))));
        try {
            const inputs = {
                hosts: names.map((n, i) => ({
                    name: n,
                    role: (i === 0 ? "manager" : "worker") as "manager" | "worker",
                    advertiseAddr: `10.0.0.${2 + i}`,
                    endpoint: { host: `unix://${path.join(dir, `${n}.sock`)}` },
                })),
                timeoutSeconds: 10,
                triggers: ["c1", "c2", "c3"],
            };
            const created = await swarmFormationProvider.create(inputs);
            const cluster = [...world.clusters.values()][0];
            expect(created.id).toBe(cluster.id);
            expect(created.outs!.clusterId).toBe(cluster.id);
            expect(created.outs!.nodeIds).toEqual(Object.fromEntries(engines.map((e) => [e.hostname, e.nodeId])));
            expect(world.log.filter((c) => c.method === "swarmJoin").map((c) => [c.host, c.args!.RemoteAddrs, c.args!.AdvertiseAddr])).toEqual([
                ["worker", ["10.0.0.2:2377"], "10.0.0.3:2377"],
                ["miner-worker", ["10.0.0.2:2377"], "10.0.0.4:2377"],
            ]);

            // Re-running (update) is idempotent.
            world.log = [];
            const updated = await swarmFormationProvider.update!(created.id, created.outs!, inputs);
            expect(updated.outs).toEqual(created.outs);
            expect(world.log.filter((c) => c.method === "swarmInit" || c.method === "swarmJoin")).toEqual([]);

            // Diff: same inputs → no change; a new trigger or host → update, never replace.
            expect(await swarmFormationProvider.diff!(created.id, created.outs!, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
            expect((await swarmFormationProvider.diff!(created.id, created.outs!, { ...inputs, triggers: ["c1", "c2", "c4"] })).changes).toBe(true);

            // Refresh: the swarm as formed changes nothing; a host that went down is drift, and the next up forms again.
            const same = await swarmFormationProvider.read!(created.id, created.outs!);
            expect(same).toEqual({ id: created.id, props: created.outs });
            cluster.nodes.get(engines[1].nodeId!)!.state = "down";
            const drifted = await swarmFormationProvider.read!(created.id, created.outs!);
            expect(drifted.props!.fingerprint).toBe("drift: swarm members: worker (down)");
            expect((await swarmFormationProvider.diff!(created.id, drifted.props!, inputs)).changes).toBe(true);
        } finally {
            await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("keeps key material out of the stored fingerprint", () => {
        const fp = formationFingerprint({
            hosts: [{ name: "manager", role: "manager", advertiseAddr: "10.0.0.2", endpoint: { host: "tcp://127.0.0.1:12375", caPem: "CA-PEM", certPem: "CERT-PEM", keyPem: "KEY-PEM" } }],
        });
        expect(fp).toBe('{"hosts":[["manager","manager","10.0.0.2","tcp://127.0.0.1:12375"]],"triggers":[]}');
    });

    it("refuses a host list that does not start with a manager, before connecting anywhere", async () => {
        await expect(
            swarmFormationProvider.create({ hosts: [{ name: "worker", role: "worker", advertiseAddr: "10.0.0.3", endpoint: { host: "tcp://192.0.2.1:2376" } }] }),
        ).rejects.toThrow(/first host must be a manager \(got worker as worker\)/);
    });

    it("serialises to a small closure that loads dockerode at run time and of Pulumi only the engine log client", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { serializeFunction } = require("@pulumi/pulumi/runtime/closure/serializeClosure") as {
            serializeFunction(f: () => unknown, o: { allowSecrets: boolean }): Promise<{ text: string }>;
        };
        const { text } = await serializeFunction(() => swarmFormationProvider, { allowSecrets: true });
        expectSmallProviderClosure(text, "dockerode");
    });
});
