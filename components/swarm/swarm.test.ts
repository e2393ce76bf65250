import type Dockerode from "dockerode";
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { enodeFromNodeKey } from "../chain/enode";
import { DockerApi, SwarmNode, SwarmTask } from "./api";
import {
    BootnodeEnodeMismatchError, BootnodeNoAnswerError, demuxDockerLogs, enodesInLogs, readBootnodeEnode, verifyBootnodeEnode,
} from "./bootnode";
import { ChainNotReadyError, waitForChain } from "./chain";
import { SwarmNodesNotReadyError, applyNodeLabels } from "./labels";

// Dockerode fits the interface the functions take.
const _dockerodeFits = (d: Dockerode): DockerApi => d;
void _dockerodeFits;

const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

function node(id: string, hostname: string, state: string, labels: Record<string, string> = {}, version = 10): SwarmNode {
    return { ID: id, Version: { Index: version }, Spec: { Role: "worker", Availability: "active", Labels: labels }, Description: { Hostname: hostname }, Status: { State: state } };
}

/** A fake engine: node list per call, recorded updates, tasks and logs. */
class FakeDocker implements DockerApi {
    updates: { id: string; options: any }[] = [];
    listCalls = 0;
    constructor(
        public nodes: () => SwarmNode[],
        public tasks: () => SwarmTask[] = () => [],
        public logs: () => Buffer | string = () => "",
        public onUpdate?: (id: string, options: any) => void,
    ) {}
    async listNodes() {
        this.listCalls++;
        return this.nodes();
    }
    getNode(id: string) {
        return {
            update: async (options?: {}) => {
                this.updates.push({ id, options });
                this.onUpdate?.(id, options);
                return undefined;
            },
        };
    }
    async listTasks() {
        return this.tasks();
    }
    getService(_id: string) {
        return { logs: async () => this.logs() };
    }
}

describe("applyNodeLabels", () => {
    it("waits for every host to be Ready, then sets labels with the node's version, keeping other labels", async () => {
        let call = 0;
        const fake = new FakeDocker(() => {
            call++;
            if (call < 3) return [node("m1", "manager", "ready"), node("w1", "worker", "down")];
            return [node("m1", "manager", "ready", { keep: "me" }, 7), node("w1", "worker", "ready", {}, 12)];
        });
        const res = await applyNodeLabels(
            fake,
            [
                { name: "manager", labels: { "geth-swarm.host": "manager" } },
                { name: "worker", labels: { "geth-swarm.host": "worker", "geth-swarm.boot": "true" } },
            ],
            { timeoutMs: 5000, ...FAST },
        );
        expect(call).toBeGreaterThanOrEqual(3);
        expect(res).toEqual([
            { host: "manager", nodeId: "m1", updated: true },
            { host: "worker", nodeId: "w1", updated: true },
        ]);
        expect(fake.updates).toEqual([
            { id: "m1", options: { _query: { version: 7 }, _body: { Role: "worker", Availability: "active", Labels: { keep: "me", "geth-swarm.host": "manager" } } } },
            { id: "w1", options: { _query: { version: 12 }, _body: { Role: "worker", Availability: "active", Labels: { "geth-swarm.host": "worker", "geth-swarm.boot": "true" } } } },
        ]);
    });

    it("does not update a node that already carries the labels", async () => {
        const fake = new FakeDocker(() => [node("m1", "manager", "ready", { role: "miner" })]);
        const res = await applyNodeLabels(fake, [{ name: "manager", labels: { role: "miner" } }], { timeoutMs: 1000, ...FAST });
        expect(res[0].updated).toBe(false);
        expect(fake.updates).toEqual([]);
    });

    it("re-reads and retries with the new version when the update is out of sequence", async () => {
        let version = 3;
        const fake = new FakeDocker(
            () => [node("w1", "worker", "ready", {}, version)],
            undefined,
            undefined,
            (_id, options) => {
                if (options._query.version === 3) {
                    version = 4;
                    throw new Error("(HTTP code 500) server error - update out of sequence");
                }
            },
        );
        // The fake throws from onUpdate: wrap getNode so the throw rejects the promise.
        await applyNodeLabels(fake, [{ name: "worker", labels: { a: "b" } }], { timeoutMs: 1000, ...FAST });
        expect(fake.updates.map((u) => u.options._query.version)).toEqual([3, 4]);
    });

    it("times out naming the missing hosts and what it saw", async () => {
        const fake = new FakeDocker(() => [node("m1abcdef0123456", "manager", "ready"), node("w1", "worker", "down")]);
        const err = await applyNodeLabels(
            fake,
            [{ name: "manager", labels: {} }, { name: "worker", labels: {} }, { name: "miner-worker", labels: {} }],
            { timeoutMs: 100, ...FAST },
        ).catch((e) => e);
        expect(err).toBeInstanceOf(SwarmNodesNotReadyError);
        expect(err.missing).toEqual(["worker (down)", "miner-worker (not in the swarm)"]);
        expect(err.message).toContain("worker (down)");
        expect(err.message).toContain("miner-worker (not in the swarm)");
        expect(err.message).toContain("manager (ready, worker, id m1abcdef0123)");
        expect(fake.listCalls).toBeGreaterThan(1);
        expect(fake.updates).toEqual([]);
    });

    it("refuses two Ready nodes with the same hostname", async () => {
        const fake = new FakeDocker(() => [node("a", "worker", "ready"), node("b", "worker", "ready")]);
        const err = await applyNodeLabels(fake, [{ name: "worker", labels: { x: "y" } }], { timeoutMs: 50, ...FAST }).catch((e) => e);
        expect(err.message).toContain("2 ready nodes share this hostname");
    });
});

const KEY = "11".repeat(32);
const OTHER_KEY = "22".repeat(32);
const ENODE = enodeFromNodeKey(KEY, "10.0.0.12", 30301);
const ID = ENODE.slice("enode://".length, "enode://".length + 128);

function frame(text: string, stream = 1): Buffer {
    const payload = Buffer.from(text);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(payload.length, 4);
    return Buffer.concat([h, payload]);
}

const runningTask: SwarmTask = { ID: "t2", CreatedAt: "2026-01-01T00:00:10.123456789Z", DesiredState: "running", Status: { State: "running" } };

describe("bootnode enode read-back", () => {
    it("demultiplexes Docker log frames and passes plain text through", () => {
        expect(demuxDockerLogs(Buffer.concat([frame("a\n"), frame("b\n", 2)]))).toBe("a\nb\n");
        expect(demuxDockerLogs("plain\n")).toBe("plain\n");
        expect(demuxDockerLogs(Buffer.from("not framed at all"))).toBe("not framed at all");
    });

    it("reads the enode the running task printed, ignoring an earlier task's", async () => {
        const logs = Buffer.concat([
            frame(`2026-01-01T00:00:01.000000000Z enode://${"ab".repeat(64)}@127.0.0.1:0?discport=30301\n`),
            frame(`2026-01-01T00:00:11.000000000Z enode://${ID}@10.0.0.12:0?discport=30301\n`),
            frame(`2026-01-01T00:00:11.000000001Z Note: you're using cmd/bootnode, a developer tool.\n`),
        ]);
        const fake = new FakeDocker(() => [], () => [runningTask], () => logs);
        expect(await readBootnodeEnode(fake, "boot_bootnode", { timeoutMs: 1000, ...FAST })).toBe(`enode://${ID}@10.0.0.12:0?discport=30301`);
        const check = await verifyBootnodeEnode(fake, "boot_bootnode", ENODE, { timeoutMs: 1000, ...FAST });
        expect(check.nodeId).toBe(ID);
    });

    it("fails with a mismatch error when the node IDs differ", async () => {
        const other = enodeFromNodeKey(OTHER_KEY, "127.0.0.1", 30301);
        const fake = new FakeDocker(() => [], () => [runningTask], () => `2026-01-01T00:00:12Z ${other}\n`);
        const err = await verifyBootnodeEnode(fake, "boot_bootnode", ENODE, { timeoutMs: 1000, ...FAST }).catch((e) => e);
        expect(err).toBeInstanceOf(BootnodeEnodeMismatchError);
        expect(err.message).toContain("node IDs differ");
        expect(err.message).toContain(ENODE);
    });

    it("fails with a no-answer error saying what it saw", async () => {
        const failed: SwarmTask = { ID: "t1abcdef0123456", DesiredState: "shutdown", Status: { State: "rejected", Err: "no such image" } };
        const fake = new FakeDocker(() => [], () => [failed]);
        const err = await verifyBootnodeEnode(fake, "boot_bootnode", ENODE, { timeoutMs: 60, ...FAST }).catch((e) => e);
        expect(err).toBeInstanceOf(BootnodeNoAnswerError);
        expect(err.message).toContain("boot_bootnode reported no enode URL within 60ms");
        expect(err.message).toContain("t1abcdef0123 rejected (no such image)");

        const quiet = new FakeDocker(() => [], () => [runningTask], () => "2026-01-01T00:00:12Z starting\n");
        const err2 = await readBootnodeEnode(quiet, "boot_bootnode", { timeoutMs: 40, ...FAST }).catch((e) => e);
        expect(err2.message).toContain("no enode URL in its logs (last lines: 2026-01-01T00:00:12Z starting)");
    });

    it("finds enode URLs in untimestamped text too", () => {
        expect(enodesInLogs(`x ${ENODE} y\n`)).toEqual([{ time: NaN, enode: ENODE }]);
    });
});

describe("waitForChain", () => {
    it("times out listing what each URL answered", async () => {
        const err = await waitForChain(["http://127.0.0.1:9/"], { chainId: 4242, timeoutMs: 150, requestTimeoutMs: 100, initialDelayMs: 20, maxDelayMs: 50 }).catch(
            (e) => e,
        );
        expect(err).toBeInstanceOf(ChainNotReadyError);
        expect(err.message).toContain("chain 4242 not ready after 150ms");
        expect(err.message).toMatch(/http:\/\/127\.0\.0\.1:9\/: error: /);
    });
});

/** A JSON-RPC server answering the three calls waitForChain makes. */
async function fakeNode(chainId: number, peers: number, headStep: number): Promise<{ url: string; server: Server }> {
    let head = 100;
    const server = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            const one = (r: { id: number; method: string }) => {
                let result: string;
                if (r.method === "eth_chainId") result = "0x" + chainId.toString(16);
                else if (r.method === "net_peerCount") result = "0x" + peers.toString(16);
                else result = "0x" + (head += headStep).toString(16);
                return { jsonrpc: "2.0", id: r.id, result };
            };
            const parsed = JSON.parse(body);
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(one) : one(parsed)));
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

describe("waitForChain against JSON-RPC servers", () => {
    const servers: Server[] = [];
    afterEach(() => {
        for (const s of servers.splice(0)) s.close();
    });

    it("resolves once every node has the chain id, peers and an advancing head", async () => {
        const a = await fakeNode(4242, 2, 1);
        const b = await fakeNode(4242, 1, 1);
        servers.push(a.server, b.server);
        const states = await waitForChain([a.url, b.url], { chainId: 4242, timeoutMs: 3000, initialDelayMs: 10, maxDelayMs: 20 });
        expect(states.map((s) => [s.chainId, s.peers, s.head! > s.firstHead!])).toEqual([[4242, 2, true], [4242, 1, true]]);
    });

    it("names the wrong chain id, the missing peers and the stuck head", async () => {
        const wrong = await fakeNode(1337, 1, 1);
        const lonely = await fakeNode(4242, 0, 1);
        const stuck = await fakeNode(4242, 3, 0);
        servers.push(wrong.server, lonely.server, stuck.server);
        const err = await waitForChain([wrong.url, lonely.url, stuck.url], { chainId: 4242, timeoutMs: 200, initialDelayMs: 10, maxDelayMs: 20 }).catch((e) => e);
        expect(err).toBeInstanceOf(ChainNotReadyError);
        expect(err.message).toContain(`${wrong.url}: WRONG chain id 1337`);
        expect(err.message).toContain(`${lonely.url}: chain id 4242, 0 peers`);
        expect(err.message).toContain(`${stuck.url}: chain id 4242, 3 peers, head stuck at 100`);
    });
});

describe("applyNodeLabels with owned labels", () => {
    it("removes owned labels a host should no longer carry and leaves the rest", async () => {
        const fake = new FakeDocker(() => [
            node("w1", "worker", "ready", { "geth-swarm.boot": "true", "geth-swarm.host": "worker", role: "miner", team: "blue" }, 5),
            node("w2", "worker-2", "ready", { "geth-swarm.host": "worker-2" }, 6),
        ]);
        const res = await applyNodeLabels(
            fake,
            [
                { name: "worker", labels: { "geth-swarm.host": "worker" } },
                { name: "worker-2", labels: { "geth-swarm.host": "worker-2" } },
            ],
            { timeoutMs: 1000, ...FAST, owned: { keys: ["role"], prefixes: ["geth-swarm."] } },
        );
        expect(res.map((r) => r.updated)).toEqual([true, false]);
        expect(fake.updates).toEqual([
            { id: "w1", options: { _query: { version: 5 }, _body: { Role: "worker", Availability: "active", Labels: { "geth-swarm.host": "worker", team: "blue" } } } },
        ]);
    });
});
