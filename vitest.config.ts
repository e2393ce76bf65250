import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    name: "unit",
                    include: ["components/**/*.test.ts", "stacks/**/*.test.ts", "test/unit/**/*.test.ts"],
                    environment: "node",
                    // Where the program writes its files (the stacks' client TLS directories): not the user's home.
                    env: { GETH_SWARM_HOME: join(tmpdir(), "geth-swarm-unit-home") },
                    testTimeout: 20_000,
                    setupFiles: ["test/unit/setup.ts"],
                    // The misbehaving-API cases (components/swarm/edges.test.ts) each wait out their bound:
                    // side by side, not five at a time.
                    maxConcurrency: 24,
                },
            },
            {
                test: {
                    name: "engine",
                    include: ["test/engine/**/*.test.ts"],
                    environment: "node",
                    // One real engine and one stack: the steps run in order, in one fork.
                    pool: "forks",
                    poolOptions: { forks: { singleFork: true } },
                    testTimeout: 30 * 60_000,
                    hookTimeout: 45 * 60_000,
                },
            },
            {
                test: {
                    name: "lab",
                    include: ["test/lab/**/*.test.ts"],
                    environment: "node",
                    // The lab stands up real daemons: one file at a time, in one fork.
                    pool: "forks",
                    poolOptions: { forks: { singleFork: true } },
                    testTimeout: 15 * 60_000,
                    hookTimeout: 30 * 60_000,
                },
            },
        ],
    },
});
