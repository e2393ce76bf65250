/**
 * swarmNetworkId and the SwarmNetworkId dynamic provider: against small fakes, and through
 * real dockerode against a fake Engine API on a unix socket (what reaches the wire). What a
 * real swarm answers is measured in the lab (test/lab/swarm.test.ts).
 */
import type Dockerode from "dockerode";
import * as fs from "node:fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DockerNetworkApi } from "./api";
import { expectSmallProviderClosure } from "./closure.fixtures";
import { SwarmNetworkNotFoundError, swarmNetworkId } from "./networks";
import { swarmNetworkIdProvider } from "./resources";

// Dockerode fits the interface the function takes.
const _dockerodeFits = (d: Dockerode): DockerNetworkApi => d;
void _dockerodeFits;

const FAST = { initialDelayMs: 5, maxDelayMs: 20 };
/** What a swarm manager answered in the lab (engine 20.10): the swarm's `host` network. */
const SWARM_HOST = { Name: "host", Id: "bael5p9zpd1mx79y4xt9kmx6s", Scope: "swarm", Driver: "host" };
/** ... and its local `host` network, which is what `GET /networks/host` without a scope gives. */
const LOCAL_HOST = { Name: "host", Id: "02c9249e0830d1f404d29df750e5e57608f1a9b7d855a756f4e21d3d291ba861", Scope: "local", Driver: "host" };
/** dockerode's error for a 404, as a worker (or an engine outside a swarm) answers. */
const NOT_FOUND = new Error("(HTTP code 404) no such network - network host not found ");

/** A fake engine whose `GET /networks/<id>` answers `answer(id, options, call)`. */
function fake(answer: (id: string, options: unknown, call: number) => unknown): DockerNetworkApi & { calls: { id: string; options: unknown }[] } {
    const calls: { id: string; options: unknown }[] = [];
    return {
        calls,
        getNetwork: (id: string) => ({
            inspect: async (options?: unknown) => {
                calls.push({ id, options });
                const a = answer(id, options, calls.length);
                if (a instanceof Error) throw a;
                return a;
            },
        }),
    };
}

describe("swarmNetworkId", () => {
    it("asks for the swarm-scoped network and returns its ID", async () => {
        const docker = fake(() => SWARM_HOST);
        expect(await swarmNetworkId(docker, "host", { timeoutMs: 1000, ...FAST })).toBe("bael5p9zpd1mx79y4xt9kmx6s");
        expect(docker.calls).toEqual([{ id: "host", options: { scope: "swarm" } }]);
    });

    it("waits while the manager has no swarm network yet (swarm not formed), then returns it", async () => {
        const docker = fake((_id, _o, call) => (call < 3 ? NOT_FOUND : SWARM_HOST));
        expect(await swarmNetworkId(docker, "host", { timeoutMs: 2000, ...FAST })).toBe(SWARM_HOST.Id);
        expect(docker.calls).toHaveLength(3);
    });

    it("finds a network by its swarm ID too", async () => {
        const docker = fake(() => SWARM_HOST);
        expect(await swarmNetworkId(docker, SWARM_HOST.Id, { timeoutMs: 1000, ...FAST })).toBe(SWARM_HOST.Id);
    });

    it("never takes the local network's ID (an engine that ignores the scope): times out saying what it got", async () => {
        const docker = fake(() => LOCAL_HOST);
        const err = await swarmNetworkId(docker, "host", { timeoutMs: 200, manager: "tcp://203.0.113.7:2376", ...FAST }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(SwarmNetworkNotFoundError);
        expect((err as Error).message).toBe(
            `tcp://203.0.113.7:2376: no swarm network host within 200ms; last seen: GET /networks/host?scope=swarm answered a network of scope "local" (${LOCAL_HOST.Id}), not the swarm's.`,
        );
    });

    it("on a worker (404 every time): names the manager and asks whether it is a swarm manager", async () => {
        const err = await swarmNetworkId(fake(() => NOT_FOUND), "host", { timeoutMs: 150, manager: "worker-2", ...FAST }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(SwarmNetworkNotFoundError);
        expect((err as Error).message).toMatch(
            /^worker-2: no swarm network host within 150ms; last seen: GET \/networks\/host\?scope=swarm failed: \(HTTP code 404\) no such network - network host not found \(a worker, or an engine not in a swarm, has no swarm networks: is it a swarm manager\?\)\.$/,
        );
    });

    it("refuses another network than the one asked for", async () => {
        const err = await swarmNetworkId(fake(() => ({ ...SWARM_HOST, Name: "ingress", Id: "gimlpf4u9vd2xl86jovojj0dj" })), "host", { timeoutMs: 100, ...FAST }).catch((e: Error) => e);
        expect((err as Error).message).toContain("answered the network ingress (gimlpf4u9vd2xl86jovojj0dj)");
        expect((err as Error).message).toMatch(/^the manager: /);
    });

    it("refuses a name that would leave the URL path, before asking anything", async () => {
        const docker = fake(() => SWARM_HOST);
        for (const bad of ["", "host?scope=local", "../host", "host/x", " host"]) {
            await expect(swarmNetworkId(docker, bad, { timeoutMs: 100 })).rejects.toThrow(/is not a Docker network name or ID/);
        }
        expect(docker.calls).toEqual([]);
    });
});

// ------------------------------------------------------------------------------------------
// Through dockerode: a fake Engine API on a unix socket.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geth-swarm-networks-"));
const servers: Server[] = [];
afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    fs.rmSync(dir, { recursive: true, force: true });
});

/** A manager's Engine API: the swarm and local `host` networks; records each request's URL. */
async function manager(): Promise<{ socket: string; urls: string[] }> {
    const socket = path.join(dir, `manager-${servers.length}.sock`);
    const urls: string[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const url = (req.url ?? "").replace(/^\/v[\d.]+/, "");
        urls.push(`${req.method} ${url}`);
        const u = new URL(url, "http://engine");
        const body = u.pathname === "/networks/host" ? (u.searchParams.get("scope") === "swarm" ? SWARM_HOST : LOCAL_HOST) : undefined;
        res.writeHead(body ? 200 : 404, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body ?? { message: `network ${u.pathname.split("/").pop()} not found` }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(socket, r));
    return { socket, urls };
}

describe("swarmNetworkId through dockerode", () => {
    it("sends the scope as a query parameter: GET /networks/host?scope=swarm", async () => {
        const m = await manager();
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const Docker = require("dockerode") as typeof Dockerode;
        expect(await swarmNetworkId(new Docker({ socketPath: m.socket }), "host", { timeoutMs: 2000 })).toBe(SWARM_HOST.Id);
        expect(m.urls).toEqual(["GET /networks/host?scope=swarm"]);
    });
});

describe("SwarmNetworkId provider", () => {
    it("reads the ID on create; keeps the inputs for refresh (the resource stores the endpoint as a secret) and a fingerprint of the name only", async () => {
        const m = await manager();
        const endpoint = { host: `unix://${m.socket}` };
        const created = await swarmNetworkIdProvider.create({ endpoint, name: "host", timeoutSeconds: 2 });
        expect(created).toEqual({ id: SWARM_HOST.Id, outs: { endpoint, name: "host", timeoutSeconds: 2, networkId: SWARM_HOST.Id, fingerprint: "host" } });
        expect(m.urls).toEqual(["GET /networks/host?scope=swarm"]);
    });

    it("refresh reads the ID again; a manager that no longer answers is drift", async () => {
        const m = await manager();
        const state = { endpoint: { host: `unix://${m.socket}` }, name: "host", timeoutSeconds: 0.5, networkId: SWARM_HOST.Id, fingerprint: "host" };
        expect(await swarmNetworkIdProvider.read!(SWARM_HOST.Id, state)).toEqual({ id: SWARM_HOST.Id, props: state });
        const gone = { ...state, endpoint: { host: `unix://${path.join(dir, "gone.sock")}` } };
        const read = await swarmNetworkIdProvider.read!(SWARM_HOST.Id, gone);
        expect(read.props!.fingerprint).toMatch(/^drift: swarm network host: unix:\/\/.*gone\.sock: no swarm network host within 500ms/);
        expect((await swarmNetworkIdProvider.diff!(SWARM_HOST.Id, read.props!, { endpoint: gone.endpoint, name: "host" })).changes).toBe(true);
    });

    it("diff: the same name is no change (the swarm ID of a network stays); another name replaces", async () => {
        const endpoint = { host: "tcp://203.0.113.7:2376", caPem: "CA", certPem: "CERT", keyPem: "KEY" };
        const olds = { endpoint, name: "host", networkId: SWARM_HOST.Id, fingerprint: "host" };
        expect(await swarmNetworkIdProvider.diff!(SWARM_HOST.Id, olds, { endpoint, name: "host", timeoutSeconds: 600 })).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        // A new endpoint (a rotated certificate, another address) or timeout alone asks nothing again.
        expect((await swarmNetworkIdProvider.diff!(SWARM_HOST.Id, olds, { endpoint: { host: "tcp://198.51.100.9:2376" }, name: "host", timeoutSeconds: 5 })).changes).toBe(false);
        expect(await swarmNetworkIdProvider.diff!(SWARM_HOST.Id, olds, { endpoint, name: "boot_default" })).toEqual({
            changes: true,
            replaces: ["name"],
            deleteBeforeReplace: false,
        });
    });

    it("fails naming the manager's endpoint and what it saw", async () => {
        const err = await swarmNetworkIdProvider
            .create({ endpoint: { host: `unix://${path.join(dir, "nothing.sock")}` }, name: "host", timeoutSeconds: 0.2 })
            .catch((e: Error) => e);
        expect(err).toBeInstanceOf(SwarmNetworkNotFoundError);
        expect((err as Error).message).toMatch(new RegExp(`^unix://${dir}/nothing\\.sock: no swarm network host within 200ms; last seen: GET /networks/host\\?scope=swarm failed: .*ENOENT`));
    });

    it("serialises to a small closure that loads dockerode at run time and of Pulumi only the engine log client", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { serializeFunction } = require("@pulumi/pulumi/runtime/closure/serializeClosure") as {
            serializeFunction(f: () => unknown, o: { allowSecrets: boolean }): Promise<{ text: string }>;
        };
        const { text } = await serializeFunction(() => swarmNetworkIdProvider, { allowSecrets: true });
        expectSmallProviderClosure(text, "dockerode");
    });
});
