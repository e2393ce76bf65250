// The real `pulumi up`, timed: runs the engine tier (`npm run test:engine`: preview of a new
// stack, up until healthy, no-op preview, refresh, growth, destroy) several times and keeps
// each run's figures (test/engine/results.json), then the median and spread of each, and the
// ratio of `pulumi up`'s time to a healthy network to the lab's time for the same 3 hosts
// (the `lab` section: swarm formation + stacks deployed until the heads are equal).
//
// A run whose suite failed is kept with its exit code and left out of the medians.
//
// The runs use a git worktree of the commit checked out (HEAD), not the working tree: every
// pulumi command compiles the program anew, so an edit made while the bench runs would
// otherwise change what is measured between (or within) runs.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readResults } from "./results";
import { checkoutHead, worktreeEnv } from "./worktree";
import { round, Summary, summarize } from "./stats";

/** The figures of one engine-tier run (seconds), as test/engine/engine.test.ts writes them. */
export type EngineRunFigures = Record<string, number | string>;

export interface EngineBenchResult {
    /** The commit measured. */
    commit: string;
    runs: Array<{ exitCode: number; wallSeconds: number; figures?: EngineRunFigures }>;
    /** Median (min–max) of every numeric figure over the passing runs. */
    figures: Record<string, Summary>;
    /** Median `pulumi up` (to a healthy network) / the lab's median total for 3 hosts. */
    upToLabRatio?: number;
    labTotalSeconds?: number;
}

function runSuite(tree: string, log: (m: string) => void): Promise<{ exitCode: number; wallSeconds: number }> {
    return new Promise((resolve, reject) => {
        const t = Date.now();
        const env = worktreeEnv();
        const child = spawn("npx", ["vitest", "run", "--project", "engine"], { cwd: tree, stdio: ["ignore", "pipe", "pipe"], env });
        let tail = "";
        const take = (d: Buffer) => (tail = (tail + d.toString()).slice(-20_000));
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        child.on("error", reject);
        child.on("exit", (code) => {
            if (code !== 0) log(`engine: the suite exited ${code}; last output:\n${tail.split("\n").slice(-20).join("\n")}`);
            resolve({ exitCode: code ?? -1, wallSeconds: round((Date.now() - t) / 1000, 1) });
        });
    });
}

export async function runEngineBench(opts: { runs?: number; log: (m: string) => void }): Promise<EngineBenchResult> {
    const runs: EngineBenchResult["runs"] = [];
    const { tree, commit, remove } = checkoutHead("engine", opts.log);
    const results = path.join(tree, "test", "engine", "results.json");
    try {
        for (let i = 0; i < (opts.runs ?? 3); i++) {
            fs.rmSync(results, { force: true });
            opts.log(`engine: run ${i + 1}/${opts.runs ?? 3} (the engine tier, about 10 minutes)`);
            const r = await runSuite(tree, opts.log);
            const figures = fs.existsSync(results) ? (JSON.parse(fs.readFileSync(results, "utf8")).engine as EngineRunFigures) : undefined;
            runs.push({ ...r, figures });
            opts.log(`engine: run ${i + 1}: exit ${r.exitCode} in ${r.wallSeconds} s; up ${figures?.upSeconds ?? "-"} s, no-op preview ${figures?.noopPreviewSeconds ?? "-"} s, grow ${figures?.growSeconds ?? "-"} s, destroy ${figures?.destroySeconds ?? "-"} s`);
        }
    } finally {
        remove();
    }
    const passing = runs.filter((r) => r.exitCode === 0 && r.figures);
    const keys = [...new Set(passing.flatMap((r) => Object.keys(r.figures!)))].filter((k) => passing.every((r) => typeof r.figures![k] === "number"));
    const figures = Object.fromEntries(keys.map((k) => [k, summarize(passing.map((r) => r.figures![k] as number))]));
    const lab = readResults().lab as { sizes?: Array<{ hosts: number; totalSeconds?: Summary }> } | undefined;
    const labTotalSeconds = lab?.sizes?.find((s) => s.hosts === 3)?.totalSeconds?.median;
    const up = figures.upSeconds?.median;
    return {
        commit,
        runs,
        figures,
        labTotalSeconds,
        upToLabRatio: up !== undefined && labTotalSeconds ? round(up / labTotalSeconds, 2) : undefined,
    };
}
