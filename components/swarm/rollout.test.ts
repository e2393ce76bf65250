import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { RolloutApi, RolloutError, waitForRollout } from "./rollout";

/** A manager whose services' answers follow a script: one entry per poll (the last repeats). */
function manager(script: Record<string, Array<{ update?: { State: string; Message?: string }; tasks: string[] }>>) {
    const polls: Record<string, number> = {};
    const api: RolloutApi = {
        getService: (name) => ({
            inspect: async () => {
                const steps = script[name];
                if (!steps) throw new Error(`(HTTP code 404) no such service: ${name}`);
                const i = Math.min(polls[name] ?? 0, steps.length - 1);
                return { ID: `id-${name}`, UpdateStatus: steps[i].update };
            },
        }),
        listTasks: async (opts?: {}) => {
            const name = (opts as { filters: { service: string[] } }).filters.service[0];
            const steps = script[name];
            const i = Math.min(polls[name] ?? 0, steps.length - 1);
            polls[name] = (polls[name] ?? 0) + 1;
            return steps[i].tasks.map((state, n) => ({ ID: `t${n}`, DesiredState: "running", Status: { State: state } }));
        },
    };
    return { api, polls };
}
const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

describe("waitForRollout", () => {
    it("returns at once for services with no update and every task running", async () => {
        const { api, polls } = manager({ nodes_node: [{ tasks: ["running", "running"] }], nodes_miner: [{ update: { State: "completed" }, tasks: ["running"] }] });
        await waitForRollout(api, ["nodes_node", "nodes_miner"], { timeoutMs: 1_000, ...FAST });
        expect(polls).toEqual({ nodes_node: 1, nodes_miner: 1 });
    });

    it("waits while an update rolls a global service out host by host, saying so", async () => {
        const progress: string[] = [];
        const { api, polls } = manager({
            nodes_node: [
                { update: { State: "updating", Message: "update in progress" }, tasks: ["running", "running"] },
                { update: { State: "updating", Message: "update in progress" }, tasks: ["running", "starting"] },
                { update: { State: "completed", Message: "update completed" }, tasks: ["running", "running"] },
            ],
        });
        await waitForRollout(api, ["nodes_node"], { timeoutMs: 5_000, ...FAST, onProgress: (m) => progress.push(m) });
        expect(polls.nodes_node).toBe(3);
        expect(progress).toEqual([
            "waiting for the services to roll out: nodes_node updating (update in progress)",
            "waiting for the services to roll out: nodes_node updating (update in progress)",
        ]);
    });

    it("waits for tasks that are not running yet (a new service, or a host that just joined)", async () => {
        const progress: string[] = [];
        const { api } = manager({ nodes_node: [{ tasks: ["running", "preparing"] }, { tasks: ["running", "running"] }] });
        await waitForRollout(api, ["nodes_node"], { timeoutMs: 5_000, ...FAST, onProgress: (m) => progress.push(m) });
        expect(progress).toEqual(["waiting for the services to roll out: nodes_node: 1 of 2 tasks not running yet (preparing)"]);
    });

    it.each(["paused", "rollback_completed", "rollback_started"])("fails at once, with the swarm's message, when the update %s", async (state) => {
        const { api, polls } = manager({ nodes_node: [{ update: { State: state, Message: "update paused due to failure or early termination of task abc" }, tasks: ["running"] }] });
        const err = await waitForRollout(api, ["nodes_node"], { timeoutMs: 5_000, ...FAST }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(RolloutError);
        expect((err as Error).message).toBe(
            `the update of nodes_node ended ${state.replace("_", " ")}: update paused due to failure or early termination of task abc; see \`docker service ps nodes_node\`.`,
        );
        expect(polls.nodes_node ?? 0).toBeLessThanOrEqual(1);
    });

    it("times out naming what was still rolling out, or what the manager answered", async () => {
        const { api } = manager({ nodes_node: [{ update: { State: "updating", Message: "update in progress" }, tasks: ["running"] }] });
        await expect(waitForRollout(api, ["nodes_node"], { timeoutMs: 100, ...FAST })).rejects.toThrow(
            /^services not rolled out after 100ms: nodes_node updating \(update in progress\)\.$/,
        );
        await expect(waitForRollout(api, ["nodes_gone"], { timeoutMs: 100, ...FAST })).rejects.toThrow(
            /^services not rolled out after 100ms: nodes_gone: \(HTTP code 404\) no such service: nodes_gone\.$/,
        );
    });
});

describe("waitForRollout as Pulumi serialises it into the dynamic-provider process", () => {
    it("works the same from its serialised closure (no Set, Map or other value the serialiser does not carry)", async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { serializeFunction } = require("@pulumi/pulumi/runtime/closure/serializeClosure") as {
            serializeFunction(f: () => unknown, o: { allowSecrets: boolean }): Promise<{ text: string; exportName: string }>;
        };
        const { text, exportName } = await serializeFunction(() => waitForRollout, { allowSecrets: true });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-rollout-"));
        try {
            fs.writeFileSync(path.join(dir, "closure.js"), text);
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const serialised = require(path.join(dir, "closure.js"))[exportName]() as typeof waitForRollout;
            const { api } = manager({
                nodes_node: [{ update: { State: "updating", Message: "update in progress" }, tasks: ["running"] }, { update: { State: "completed" }, tasks: ["running"] }],
                nodes_miner: [{ update: { State: "paused", Message: "update paused" }, tasks: ["running"] }],
            });
            await serialised(api, ["nodes_node"], { timeoutMs: 2_000, ...FAST });
            await expect(serialised(api, ["nodes_miner"], { timeoutMs: 2_000, ...FAST })).rejects.toThrow(/the update of nodes_miner ended paused: update paused/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
