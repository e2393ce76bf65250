/**
 * The whole program (`index.ts`) under Pulumi mocks with bad stack configs: the import
 * fails with the ConfigError listing each problem (namespaced key, value, fix), and not one
 * resource is registered. The bad configs run one after the other in one process
 * (program.badconfig.run.ts loads the program afresh for each); the good config, which
 * registers resources into Pulumi's global runtime state, in a process of its own.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

interface Run {
    error?: { name: string; message: string; problems?: { key: string; value: unknown; message: string }[] };
    resources: { type: string; name: string }[];
}

const ROOT = path.resolve(__dirname, "../..");

function runProgram<T extends Record<string, string> | Record<string, string>[]>(config: T): Promise<T extends unknown[] ? Run[] : Run> {
    return new Promise((resolve, reject) => {
        execFile(
            path.join(ROOT, "node_modules/.bin/tsx"),
            [path.join(__dirname, "program.badconfig.run.ts"), JSON.stringify(config)],
            { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
            (err, stdout, stderr) => {
                if (err) return reject(new Error(`program run failed: ${err.message}\n${stderr}`));
                resolve(JSON.parse(stdout.trim().split("\n").pop()!));
            },
        );
    });
}

/** A valid local stack (Pulumi.local.yaml's settings); each case spoils it. */
const GOOD = {
    "geth-swarm:target": "local",
    "geth-swarm:managerCount": "1",
    "geth-swarm:workerCount": "1",
    "geth-swarm:minerCount": "1",
    "geth-swarm:encryptedOverlay": "false",
};

/** Each bad config: the settings over GOOD, and per problem key the fix its line must give. */
const CASES: Array<[string, Record<string, string>, Record<string, RegExp>]> = [
    ["a public chain id", { "geth-swarm:chainId": "1" }, { chainId: /Ethereum mainnet.*allowPublicChainId/ }],
    ["an even manager count", { "geth-swarm:managerCount": "2" }, { managerCount: /1, 3 or 5/ }],
    ["RPC open to the world", { "geth-swarm:rpcCidrs": '["0.0.0.0/0"]' }, { rpcCidrs: /allowPublicRpc/ }],
    ["an unknown key (typo)", { "geth-swarm:chainid": "4242" }, { chainid: /did you mean chainId/ }],
    ["a key of ours under a misspelled namespace", { "gethswarm:minerCount": "3" }, { "gethswarm:minerCount": /not read.*write it as geth-swarm:minerCount/ }],
    ["a geth that cannot seal Clique", { "geth-swarm:gethImage": "ethereum/client-go:v1.14.3" }, { gethImage: /cannot seal Clique.*gethImageCheck to off/ }],
    [
        "all of them at once",
        { "geth-swarm:chainId": "1", "geth-swarm:managerCount": "2", "geth-swarm:rpcCidrs": '["0.0.0.0/0"]', "geth-swarm:chainid": "4242", "geth_swarm:blockPeriod": "2" },
        { chainId: /Ethereum mainnet/, managerCount: /1, 3 or 5/, rpcCidrs: /allowPublicRpc/, chainid: /did you mean chainId/, "geth_swarm:blockPeriod": /write it as geth-swarm:blockPeriod/ },
    ],
];

describe.concurrent("the program with a bad stack config", () => {
    // One process for every bad config; each test awaits its own run.
    let runs: Promise<Run[]> | undefined;
    const badRuns = () => (runs ??= runProgram(CASES.map(([, bad]) => ({ ...GOOD, ...bad }))));
    CASES.forEach(([name, , problems], i) => {
        it(`fails on ${name} with the ConfigError listing each problem, and registers no resource`, { timeout: 90_000 }, async () => {
            const run = (await badRuns())[i];
            expect(run.error, "the program's import did not fail").toBeDefined();
            expect(run.error!.name).toBe("ConfigError");
            const keys = Object.keys(problems);
            expect(run.error!.problems!.map((p) => p.key).sort()).toEqual([...keys].sort());
            expect(run.error!.message).toMatch(new RegExp(`^geth-swarm config has ${keys.length} problems?:\\n`));
            for (const [key, fix] of Object.entries(problems)) {
                // A key of another namespace (a misspelled one) is named as written.
                const shown = key.includes(":") ? key : `geth-swarm:${key}`;
                const line = run.error!.message.split("\n").find((l) => l.startsWith(`  - ${shown} = `));
                expect(line, `no line for ${shown} in:\n${run.error!.message}`).toBeDefined();
                expect(line).toMatch(fix);
            }
            expect(run.resources).toEqual([]);
        });
    });

    it("(control) the same harness records the resources of a good config", { timeout: 90_000 }, async () => {
        const run = await runProgram(GOOD);
        expect(run.error).toBeUndefined();
        expect(run.resources.map((r) => r.type)).toContain("geth-swarm:index:GethSwarm");
        expect(run.resources.length).toBeGreaterThan(10);
    });
});
