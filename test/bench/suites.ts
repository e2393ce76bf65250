// Wall time of the test suites, so that a regression shows: `npm test` (unit, several runs),
// `npm run test:lab` (warm image cache; one run by default, it takes minutes) and, when asked,
// `npm run test:engine`. With `load` > 0, that many CPU-bound processes run beside every
// timed run, the way a busy CI machine would (what test/tools/under-load.sh does by hand):
// the suites must pass there too, and the figures go to their own section.
//
// The suites run in a git worktree of HEAD (./worktree.ts), so edits made meanwhile do not
// change what is measured.
//
// The lab suite takes the machine-wide lab lock itself (test/lab/lock.ts); so that its wall
// time is not time spent waiting for another process's lab, the bench first waits for the lab
// to be free, and a run that still had to wait (someone took the lab in between) is flagged.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLab, releaseLab } from "../lab/cleanup";
import { Summary, round, summarize } from "./stats";
import { checkoutHead, worktreeEnv } from "./worktree";

export interface SuiteRun {
    seconds: number;
    exitCode: number;
    /** vitest's own summary line ("Tests  123 passed (123)"), when it printed one. */
    tests?: string;
    /** The lab suite waited for another process's lab during the run (its time is not the suite's alone). */
    waitedForLab?: boolean;
}

export interface SuiteResult {
    /** The commit measured, when not the section's: a suite not run again keeps its last figures. */
    commit?: string;
    command: string;
    runs: SuiteRun[];
    wallSeconds: Summary;
    allPassed: boolean;
}

export interface SuitesResults {
    /** The commit measured. */
    commit?: string;
    /** CPU-bound processes that ran beside every timed run (0: none). */
    load?: number;
    unit: SuiteResult;
    /** Absent when not measured: see labSkipped. */
    lab?: SuiteResult;
    labSkipped?: string;
    /** Present when engine runs were asked for. */
    engine?: SuiteResult;
}

/** `n` CPU-bound processes; stop() ends them (also when the bench process exits). */
function cpuLoad(n: number): { stop: () => void } {
    const burners: ChildProcess[] = [];
    for (let i = 0; i < n; i++) burners.push(spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" }));
    const stop = () => {
        for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill("SIGKILL");
    };
    process.once("exit", stop);
    return { stop };
}

function timeCommand(cmd: string, args: string[], cwd: string, log: (m: string) => void): Promise<SuiteRun> {
    return new Promise((resolve, reject) => {
        const t = Date.now();
        const env = worktreeEnv();
        const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env });
        let out = "";
        const take = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        child.on("error", reject);
        child.on("exit", (code) => {
            const seconds = round((Date.now() - t) / 1000, 1);
            const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
            const tests = /^\s*Tests\s+(.+)$/m.exec(plain)?.[1]?.trim();
            const waitedForLab = /the lab is in use by process/.test(plain) || undefined;
            if (code !== 0) {
                // The whole output of a failed run (its last 200 kB) stays for the diagnosis.
                const file = path.join(os.tmpdir(), `geth-swarm-bench-${[cmd, ...args].join("-").replace(/[^a-z0-9-]/gi, "_")}-${Date.now()}.log`);
                fs.writeFileSync(file, plain);
                log(`suites: ${cmd} ${args.join(" ")} exited ${code}; whole output in ${file}; last lines:\n${plain.split("\n").slice(-15).join("\n")}`);
            }
            resolve({ seconds, exitCode: code ?? -1, tests, waitedForLab });
        });
    });
}

/** Waits (progress lines, 30 min bound) until no other process holds the lab: takes the lab lock and gives it back at once. */
async function waitForFreeLab(log: (m: string) => void): Promise<void> {
    await acquireLab(undefined, (m) => log(`suites: ${m}`));
    releaseLab();
}

async function suite(command: string, runs: number, cwd: string, load: number, log: (m: string) => void, before?: () => Promise<void>): Promise<SuiteResult> {
    const [cmd, ...args] = command.split(" ");
    const rs: SuiteRun[] = [];
    for (let i = 0; i < runs; i++) {
        await before?.();
        const burn = cpuLoad(load);
        const r = await timeCommand(cmd, args, cwd, log).finally(burn.stop);
        log(`suites: ${command} ${i + 1}/${runs}${load ? ` (${load} CPU-bound processes beside it)` : ""}: ${r.seconds} s, exit ${r.exitCode}${r.tests ? `, tests ${r.tests}` : ""}${r.waitedForLab ? ", WAITED for another lab (time includes the wait)" : ""}`);
        rs.push(r);
    }
    return { command, runs: rs, wallSeconds: summarize(rs.map((r) => r.seconds)), allPassed: rs.every((r) => r.exitCode === 0) };
}

export interface SuitesOptions {
    runs?: number;
    /** Runs of the lab suite (default 1; 0 skips it). */
    labRuns?: number;
    /** Runs of the engine suite (default 0). */
    engineRuns?: number;
    /** CPU-bound processes beside every timed run (default 0). */
    load?: number;
    log: (m: string) => void;
    /** The commands timed (default `npm test`, `npm run test:lab` and `npm run test:engine`). */
    commands?: { unit: string; lab: string; engine: string };
}

export async function runSuitesBench(opts: SuitesOptions): Promise<SuitesResults> {
    const commands = opts.commands ?? { unit: "npm test", lab: "npm run test:lab", engine: "npm run test:engine" };
    const load = opts.load ?? 0;
    const head = checkoutHead("suites", opts.log);
    try {
        const unit = await suite(commands.unit, opts.runs ?? 3, head.tree, load, opts.log);
        const out: SuitesResults = { commit: head.commit, load, unit };
        const labRuns = opts.labRuns ?? 1;
        if (labRuns > 0) out.lab = await suite(commands.lab, labRuns, head.tree, load, opts.log, () => waitForFreeLab(opts.log));
        else out.labSkipped = "--lab-suite-runs 0";
        const engineRuns = opts.engineRuns ?? 0;
        if (engineRuns > 0) out.engine = await suite(commands.engine, engineRuns, head.tree, load, opts.log, () => waitForFreeLab(opts.log));
        return out;
    } finally {
        head.remove();
    }
}
