/**
 * The swarm-talking functions against a Docker Engine API or a JSON-RPC endpoint that is
 * down, slow, or answers garbage: real dockerode / ethers clients against small servers on
 * unix sockets and 127.0.0.1 ports. Each call must end within its bound (plus a small
 * margin: a bound, not a benchmark), and its error must name the host (or service, URL) and
 * what was seen. The clients here have no request timeout of their own, so only the
 * functions' own deadlines stand between a hung request and a hung deployment.
 */
import Docker from "dockerode";
import * as fs from "node:fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { enodeFromNodeKey } from "../chain/enode";
import { BootnodeNoAnswerError, readBootnodeEnode, verifyBootnodeEnode } from "./bootnode";
import { ChainNotReadyError, waitForChain } from "./chain";
import { formSwarm, SwarmFormationError } from "./form";
import { applyNodeLabels, SwarmNodesNotReadyError } from "./labels";
import { SwarmNetworkNotFoundError, swarmNetworkId } from "./networks";
import { PollContext, pollUntil } from "./poll";
import { expectWithin, Measured, measure } from "./timing.fixtures";

/** The bound given to every call. */
const BOUND = 800;
/** How much later than its bound a call may end. */
const MARGIN = 400;
/** Test timeout: the backstop when a call hangs. */
const BACKSTOP = BOUND * 4 + 2000;
const FAST = { initialDelayMs: 20, maxDelayMs: 100 };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geth-swarm-edges-"));
const servers: Server[] = [];
afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    fs.rmSync(dir, { recursive: true, force: true });
});

type Handler = (req: IncomingMessage, res: ServerResponse, route: string) => void;
let sockets = 0;

/** A Docker Engine API on a fresh unix socket; dockerode without a request timeout. */
async function engine(handler: Handler): Promise<Docker> {
    const socketPath = path.join(dir, `engine-${++sockets}.sock`);
    const server = createServer((req, res) => {
        req.resume();
        req.on("end", () => handler(req, res, `${req.method} ${(req.url ?? "").split("?")[0].replace(/^\/v[\d.]+/, "")}`));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(socketPath, r));
    return new Docker({ socketPath });
}

const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
};

/** Ways an API can misbehave; each answers every request that way. */
interface Bad {
    /** What the error must say was seen. */
    readonly seen: RegExp;
    /** A client for this behaviour (Docker); undefined: `handler` serves it. */
    readonly docker?: () => Docker;
    readonly handler?: Handler;
}

function bad(overrides: { garbageShape: unknown }): Record<string, Bad> {
    return {
        "down: no socket at the path": { docker: () => new Docker({ socketPath: path.join(dir, "nothing-here.sock") }), seen: /ENOENT/ },
        "down: nothing listening (connection refused)": {
            docker: () => {
                const p = path.join(dir, `refused-${++sockets}.sock`);
                fs.writeFileSync(p, "");
                return new Docker({ socketPath: p });
            },
            seen: /ECONNREFUSED/,
        },
        "slow: accepts and never answers": { handler: () => undefined, seen: /did not answer within/ },
        "slow: answers after the bound": {
            handler: (_req, res) => setTimeout(() => json(res, 200, overrides.garbageShape), BOUND + 1500).unref(),
            seen: /did not answer within/,
        },
        "garbage: HTTP 200 with a body that is not JSON": {
            handler: (_req, res) => {
                res.writeHead(200, { "Content-Type": "text/html" });
                res.end("<html><body>502 Bad Gateway (proxy)</body></html>");
            },
            seen: /not JSON: .*502 Bad Gateway \(proxy\)/,
        },
        "garbage: JSON of the wrong shape": { handler: (_req, res) => json(res, 200, overrides.garbageShape), seen: /JSON of another shape/ },
        "garbage: HTTP 500 with a message": {
            handler: (_req, res) => json(res, 500, { message: "rpc error: code = Unknown desc = The swarm does not have a leader" }),
            seen: /HTTP code 500.*The swarm does not have a leader/,
        },
        "garbage: a chunked body cut off mid-way": {
            handler: (_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.write('[{"ID":"abc","Spec":');
                setTimeout(() => res.socket?.destroy(), 20);
            },
            seen: /did not answer within/,
        },
    };
}

async function clientFor(b: Bad): Promise<Docker> {
    return b.docker ? b.docker() : engine(b.handler!);
}

/** Runs `call`, returns its error, how long it took and the event loop's delay meanwhile; fails if it resolves. */
async function timed(call: () => Promise<unknown>): Promise<{ err: Error; ms: Measured }> {
    const m = await measure(call);
    const err = m.error === undefined ? new Error("expected the call to fail") : (m.error as Error);
    return { err, ms: m };
}

// ------------------------------------------------------------------------------------------
// formSwarm

/** A manager that already runs a one-node swarm and answers correctly. */
const GOOD_MANAGER: Handler = (_req, res, route) => {
    if (route === "GET /info") return json(res, 200, { Swarm: { LocalNodeState: "active", ControlAvailable: true, NodeID: "n-mgr", Cluster: { ID: "c1" } } });
    if (route === "GET /swarm") return json(res, 200, { ID: "c1", JoinTokens: { Worker: `SWMTKN-1-${"a".repeat(50)}-${"w".repeat(25)}`, Manager: `SWMTKN-1-${"a".repeat(50)}-${"m".repeat(25)}` } });
    if (route === "GET /nodes")
        return json(res, 200, [{ ID: "n-mgr", Description: { Hostname: "edge-manager" }, Spec: { Role: "manager" }, Status: { State: "ready" }, ManagerStatus: { Reachability: "reachable" } }]);
    json(res, 404, { message: `no route ${route}` });
};

describe.concurrent("formSwarm against a misbehaving engine", () => {
    for (const [name, b] of Object.entries(bad({ garbageShape: { ID: "x", Containers: 3 } }))) {
        it(`manager ${name}`, { timeout: BACKSTOP }, async () => {
            const docker = await clientFor(b);
            const { err, ms } = await timed(() =>
                formSwarm({ manager: { name: "edge-manager", docker, advertiseAddr: "10.0.0.2" }, others: [], timeoutMs: BOUND, retryDelayMs: 20, maxRetryDelayMs: 100 }),
            );
            expect(err).toBeInstanceOf(SwarmFormationError);
            expectWithin(ms, BOUND, MARGIN);
            expect(err.message).toContain("edge-manager");
            expect(err.message).toMatch(b.seen);
        });

        it(`worker ${name}`, { timeout: BACKSTOP }, async () => {
            const mgr = await engine(GOOD_MANAGER);
            const docker = await clientFor(b);
            const { err, ms } = await timed(() =>
                formSwarm({
                    manager: { name: "edge-manager", docker: mgr, advertiseAddr: "10.0.0.2" },
                    others: [{ name: "edge-worker", role: "worker", docker, advertiseAddr: "10.0.0.3" }],
                    timeoutMs: BOUND, retryDelayMs: 20, maxRetryDelayMs: 100,
                }),
            );
            expect(err).toBeInstanceOf(SwarmFormationError);
            expectWithin(ms, BOUND, MARGIN);
            expect(err.message).toContain("edge-worker");
            expect(err.message).toMatch(b.seen);
            expect(err.message).not.toMatch(/SWMTKN/);
        });
    }
});

// ------------------------------------------------------------------------------------------
// applyNodeLabels

describe.concurrent("applyNodeLabels against a misbehaving manager", () => {
    for (const [name, b] of Object.entries(bad({ garbageShape: { nodes: [{ hostname: "edge-worker" }] } }))) {
        it(name, { timeout: BACKSTOP }, async () => {
            const docker = await clientFor(b);
            const { err, ms } = await timed(() => applyNodeLabels(docker, [{ name: "edge-worker", labels: { "geth-swarm.host": "edge-worker" } }], { timeoutMs: BOUND, ...FAST }));
            expect(err).toBeInstanceOf(SwarmNodesNotReadyError);
            expectWithin(ms, BOUND, MARGIN);
            expect(err.message).toContain(`swarm nodes not ready after ${BOUND}ms: edge-worker.`);
            expect(err.message).toMatch(b.seen);
        });
    }

    it("a list of things that are not nodes is reported, not a TypeError", { timeout: BACKSTOP }, async () => {
        const docker = await engine((_req, res) => json(res, 200, [{ hostname: "edge-worker" }]));
        const { err, ms } = await timed(() => applyNodeLabels(docker, [{ name: "edge-worker", labels: {} }], { timeoutMs: BOUND, ...FAST }));
        expect(err).toBeInstanceOf(SwarmNodesNotReadyError);
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toContain('GET /nodes answered JSON of another shape: [{"hostname":"edge-worker"}]');
    });

    const readyNode = { ID: "n-w1", Version: { Index: 7 }, Spec: { Role: "worker", Labels: {} }, Description: { Hostname: "edge-worker" }, Status: { State: "ready" } };
    const whenUpdating = (update: Handler): Handler => (req, res, route) => (route === "GET /nodes" ? json(res, 200, [readyNode]) : update(req, res, route));

    it("a label update that never answers ends at the deadline, naming the host and the request", { timeout: BACKSTOP }, async () => {
        const docker = await engine(whenUpdating(() => undefined));
        const { err, ms } = await timed(() => applyNodeLabels(docker, [{ name: "edge-worker", labels: { a: "b" } }], { timeoutMs: BOUND, ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toMatch(/^setting labels on swarm node edge-worker \(n-w1\) failed: POST \/nodes\/n-w1\/update did not answer within/);
    });

    it("a label update answered with HTTP 500 names the host and the status", { timeout: BACKSTOP }, async () => {
        const docker = await engine(whenUpdating((_req, res) => json(res, 500, { message: "raft: no elected cluster leader" })));
        const { err, ms } = await timed(() => applyNodeLabels(docker, [{ name: "edge-worker", labels: { a: "b" } }], { timeoutMs: BOUND, ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toMatch(/edge-worker \(n-w1\) failed: \(HTTP code 500\).*no elected cluster leader/);
    });

    it("a stale-version retry whose re-read hangs ends at the deadline", { timeout: BACKSTOP }, async () => {
        let lists = 0;
        const docker = await engine((_req, res, route) => {
            if (route === "GET /nodes" && ++lists === 1) return json(res, 200, [readyNode]);
            if (route === "GET /nodes") return; // the re-read never answers
            json(res, 500, { message: "update out of sequence" });
        });
        const { err, ms } = await timed(() => applyNodeLabels(docker, [{ name: "edge-worker", labels: { a: "b" } }], { timeoutMs: BOUND, ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toMatch(/edge-worker \(n-w1\) failed: re-reading the node: GET \/nodes did not answer within/);
    });
});

// ------------------------------------------------------------------------------------------
// swarmNetworkId

describe.concurrent("swarmNetworkId against a misbehaving manager", () => {
    for (const [name, b] of Object.entries(bad({ garbageShape: [{ Name: "host", Scope: "swarm" }] }))) {
        it(name, { timeout: BACKSTOP }, async () => {
            const docker = await clientFor(b);
            const { err, ms } = await timed(() => swarmNetworkId(docker, "host", { timeoutMs: BOUND, manager: "edge-manager", ...FAST }));
            expect(err).toBeInstanceOf(SwarmNetworkNotFoundError);
            expectWithin(ms, BOUND, MARGIN);
            expect(err.message).toMatch(new RegExp(`^edge-manager: no swarm network host within ${BOUND}ms; last seen: `));
            expect(err.message).toMatch(b.seen);
        });
    }

    it("a network without an Id is reported, not a TypeError", { timeout: BACKSTOP }, async () => {
        const docker = await engine((_req, res) => json(res, 200, { Name: "host", Scope: "swarm", Id: "" }));
        const { err, ms } = await timed(() => swarmNetworkId(docker, "host", { timeoutMs: BOUND, manager: "edge-manager", ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toContain('GET /networks/host?scope=swarm answered JSON of another shape: {"Name":"host","Scope":"swarm","Id":""}');
    });
});

// ------------------------------------------------------------------------------------------
// readBootnodeEnode / verifyBootnodeEnode

const ENODE = enodeFromNodeKey("11".repeat(32), "10.0.0.12", 30301);

describe.concurrent("readBootnodeEnode / verifyBootnodeEnode against a misbehaving manager", () => {
    for (const [name, b] of Object.entries(bad({ garbageShape: [{ id: "t1", state: "running" }] }))) {
        it(`${name}: ends within its bound`, { timeout: BACKSTOP }, async () => {
            const docker = await clientFor(b);
            const { err, ms } = await timed(() => verifyBootnodeEnode(docker, "boot_bootnode", ENODE, { timeoutMs: BOUND, ...FAST }));
            expectWithin(ms, BOUND, MARGIN);
            expect(err).toBeInstanceOf(Error);
        });

        it(`${name}: names the service and what was seen`, { timeout: BACKSTOP }, async () => {
            const docker = await clientFor(b);
            const { err } = await timed(() => readBootnodeEnode(docker, "boot_bootnode", { timeoutMs: BOUND, ...FAST }));
            expect(err).toBeInstanceOf(BootnodeNoAnswerError);
            expect(err.message).toContain("boot_bootnode");
            expect(err.message).toMatch(b.seen);
        });
    }

    it("logs that never come (tasks fine) end within the bound", { timeout: BACKSTOP }, async () => {
        const docker = await engine((_req, res, route) => {
            if (route === "GET /tasks") return json(res, 200, [{ ID: "t1", CreatedAt: "2026-01-01T00:00:10Z", DesiredState: "running", Status: { State: "running" } }]);
            // /services/boot_bootnode/logs: never answers
        });
        const { err, ms } = await timed(() => readBootnodeEnode(docker, "boot_bootnode", { timeoutMs: BOUND, ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err).toBeInstanceOf(BootnodeNoAnswerError);
        expect(err.message).toContain("boot_bootnode reported no enode URL");
    });
});

// ------------------------------------------------------------------------------------------
// An answer, then a request cut off at the deadline: the error still names the answer

describe.concurrent("a manager that answers HTTP 500 once, then hangs until the deadline", () => {
    const leaderless = { message: "rpc error: code = Unknown desc = The swarm does not have a leader" };
    /** Answers the first request with HTTP 500, leaves every later one hanging. */
    const onceThenHang = (): Handler => {
        let answered = false;
        return (_req, res) => {
            if (answered) return;
            answered = true;
            json(res, 500, leaderless);
        };
    };
    const both = /HTTP code 500.*The swarm does not have a leader.*\(then .*did not answer within/;

    it("readBootnodeEnode", { timeout: BACKSTOP }, async () => {
        const docker = await engine(onceThenHang());
        const { err, ms } = await timed(() => readBootnodeEnode(docker, "boot_bootnode", { timeoutMs: BOUND, ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toMatch(both);
    });

    it("swarmNetworkId", { timeout: BACKSTOP }, async () => {
        const docker = await engine(onceThenHang());
        const { err, ms } = await timed(() => swarmNetworkId(docker, "host", { timeoutMs: BOUND, manager: "edge-manager", ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toMatch(both);
    });

    it("formSwarm", { timeout: BACKSTOP }, async () => {
        const docker = await engine(onceThenHang());
        const { err, ms } = await timed(() =>
            formSwarm({ manager: { name: "edge-manager", docker, advertiseAddr: "10.0.0.2" }, others: [], timeoutMs: BOUND, retryDelayMs: 20, maxRetryDelayMs: 100 }),
        );
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toMatch(/edge-manager/);
        expect(err.message).toMatch(both);
    });
});

// ------------------------------------------------------------------------------------------
// waitForChain

/** A JSON-RPC server on 127.0.0.1; `answer` gives the result (or error) of one call. */
async function rpc(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
    const server = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => handler(req, res, body));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** Answers each call with `answer(method)`: `{ result }` or `{ error }`. */
function jsonRpc(answer: (method: string) => { result: unknown } | { error: { code: number; message: string } }) {
    return (_req: IncomingMessage, res: ServerResponse, body: string) => {
        const parsed = JSON.parse(body);
        const one = (r: { id: number; method: string }) => ({ jsonrpc: "2.0", id: r.id, ...answer(r.method) });
        json(res, 200, Array.isArray(parsed) ? parsed.map(one) : one(parsed));
    };
}
const hex = (n: number) => "0x" + n.toString(16);

/** A port on 127.0.0.1 with nothing listening. */
async function closedPort(): Promise<string> {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    return `http://127.0.0.1:${port}/`;
}

const RPC_BAD: Record<string, { url: () => Promise<string>; seen: RegExp }> = {
    "down: connection refused": { url: closedPort, seen: /ECONNREFUSED/ },
    "slow: accepts and never answers": { url: () => rpc(() => undefined), seen: /eth_chainId did not answer within/ },
    "slow: answers after the bound": {
        url: () => rpc((req, res, body) => setTimeout(() => jsonRpc(() => ({ result: hex(4242) }))(req, res, body), BOUND + 1500).unref()),
        seen: /eth_chainId did not answer within/,
    },
    "garbage: HTTP 200 with a body that is not JSON": {
        url: () => rpc((_req, res) => {
            res.writeHead(200, { "Content-Type": "text/html" });
            res.end("<html>captive portal</html>");
        }),
        seen: /not valid JSON/,
    },
    "garbage: HTTP 500 with a message": {
        url: () => rpc((_req, res) => {
            res.writeHead(500, { "Content-Type": "text/plain" });
            res.end("upstream geth is down");
        }),
        seen: /500/,
    },
    "garbage: a body cut off mid-way": {
        url: () => rpc((_req, res) => {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.write('{"jsonrpc":"2.0","id":');
            setTimeout(() => res.socket?.destroy(), 20);
        }),
        seen: /eth_chainId: aborted/,
    },
    "garbage: results that are not quantities": {
        url: () => rpc(jsonRpc(() => ({ result: { weird: true } }))),
        seen: /eth_chainId answered \{"weird":true\}, not a hex quantity/,
    },
    "wrong chain id": {
        url: () => rpc(jsonRpc((m) => ({ result: m === "eth_chainId" ? hex(1337) : m === "net_peerCount" ? hex(2) : hex(Date.now()) }))),
        seen: /WRONG chain id 1337, 2 peers, head \d+ -> \d+/,
    },
    "net_peerCount errors": {
        url: () => rpc(jsonRpc((m) => (m === "net_peerCount" ? { error: { code: -32601, message: "the method net_peerCount does not exist/is not available" } } : { result: m === "eth_chainId" ? hex(4242) : hex(Date.now()) }))),
        seen: /chain id 4242, head \d+ -> \d+, error: .*net_peerCount/,
    },
    "head never advances": {
        url: () => rpc(jsonRpc((m) => ({ result: m === "eth_chainId" ? hex(4242) : m === "net_peerCount" ? hex(3) : hex(77) }))),
        seen: /chain id 4242, 3 peers, head stuck at 77/,
    },
};

describe.concurrent("waitForChain against a misbehaving JSON-RPC endpoint", () => {
    for (const [name, b] of Object.entries(RPC_BAD)) {
        it(name, { timeout: BACKSTOP }, async () => {
            const url = await b.url();
            // The default request timeout (5 s) is longer than the bound: the bound wins.
            const { err, ms } = await timed(() => waitForChain([url], { chainId: 4242, timeoutMs: BOUND, ...FAST }));
            expect(err).toBeInstanceOf(ChainNotReadyError);
            expectWithin(ms, BOUND, MARGIN);
            const line = err.message.split("\n").find((l) => l.includes(url));
            expect(line, err.message).toBeDefined();
            expect(line).toMatch(b.seen);
        });
    }

    it("a healthy node next to a hung one: both reported, within the bound", { timeout: BACKSTOP }, async () => {
        let head = 10;
        const good = await rpc(jsonRpc((m) => ({ result: m === "eth_chainId" ? hex(4242) : m === "net_peerCount" ? hex(1) : hex(head++) })));
        const hung = await rpc(() => undefined);
        // A request timeout shorter than the bound: the healthy node is asked again meanwhile.
        const { err, ms } = await timed(() => waitForChain([good, hung], { chainId: 4242, timeoutMs: BOUND, requestTimeoutMs: 150, ...FAST }));
        expectWithin(ms, BOUND, MARGIN);
        expect(err.message).toMatch(new RegExp(`${good}: chain id 4242, 1 peer, head \\d+ -> \\d+\n`));
        expect(err.message).toMatch(new RegExp(`${hung}: error: eth_chainId: request timeout`));
    });
});

// ------------------------------------------------------------------------------------------
// pollUntil

describe("pollUntil", () => {
    it("ends at its deadline when an attempt never settles", async () => {
        const m = await measure(() => pollUntil(() => new Promise<undefined>(() => undefined), { timeoutMs: 200 }));
        expect(m.value).toBeUndefined();
        expectWithin(m, 200, 200);
    });

    /** An attempt whose one call (`what`) never answers; `seen` is the error it was cut off with. */
    function hangingCall(what: string) {
        const rec = { seen: "nothing yet" };
        const attempt = async ({ bound }: PollContext): Promise<string | undefined> => {
            try {
                return await bound(new Promise<string>(() => undefined), what);
            } catch (e) {
                rec.seen = (e as Error).message;
                return undefined;
            }
        };
        return { attempt, rec };
    }

    it("bound() cuts a call at the deadline so the attempt can say what hung", async () => {
        const { attempt, rec } = hangingCall("GET /nodes");
        const m = await measure(() => pollUntil(attempt, { timeoutMs: 200 }));
        expect(m.value).toBeUndefined();
        expectWithin(m, 200, 200);
        expect(rec.seen).toMatch(/^GET \/nodes did not answer within \d+ms$/);
    });

    it("lets an attempt record its cut-off when the event loop ran late past the deadline", async () => {
        // Node runs due timers list by list, one list per duration, in the order of each list's
        // first timer. Timers of the durations the poll's own backstop can get (its deadline
        // plus 50 ms of grace), started 100 ms before the poll, put that list ahead of the one
        // of the call's bound; a loop blocked past both then ran the backstop first.
        const early = Array.from({ length: 8 }, (_, i) => setTimeout(() => undefined, 243 + i));
        await new Promise((r) => setTimeout(r, 100));
        const { attempt, rec } = hangingCall("GET /tasks");
        const poll = pollUntil(attempt, { timeoutMs: 200 });
        const blockedUntil = Date.now() + 400;
        while (Date.now() < blockedUntil) {
            // The process not scheduled, as on a loaded machine.
        }
        expect(await poll).toBeUndefined();
        early.forEach(clearTimeout);
        expect(rec.seen).toMatch(/^GET \/tasks did not answer within \d+ms$/);
    });

    it("does not start an attempt at the deadline", async () => {
        let attempts = 0;
        await pollUntil(
            async ({ remainingMs }) => {
                attempts++;
                expect(remainingMs()).toBeGreaterThan(0);
                return undefined;
            },
            { timeoutMs: 100, initialDelayMs: 30, maxDelayMs: 30 },
        );
        expect(attempts).toBeGreaterThanOrEqual(3);
    });
});
