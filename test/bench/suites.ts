// Wall time of the test suites, so that a regression shows: `npm test` (unit, several runs)
// and `npm run test:lab` (warm image cache; one run by default, it takes minutes).
//
// The lab suite takes the machine-wide lab lock itself (test/lab/lock.ts); so that its wall
// time is not time spent waiting for another process's lab, the bench first waits for the lab
// to be free, and a run that still had to wait (someone took the lab in between) is flagged.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { acquireLab, releaseLab } from "../lab/cleanup";
import { Summary, round, summarize } from "./stats";

const ROOT = path.join(__dirname, "..", "..");

export interface SuiteRun {
    seconds: number;
    exitCode: number;
    /** vitest's own summary line ("Tests  123 passed (123)"), when it printed one. */
    tests?: string;
    /** The lab suite waited for another process's lab during the run (its time is not the suite's alone). */
    waitedForLab?: boolean;
}

export interface SuiteResult {
    command: string;
    runs: SuiteRun[];
    wallSeconds: Summary;
    allPassed: boolean;
}

export interface SuitesResults {
    unit: SuiteResult;
    /** Absent when not measured: see labSkipped. */
    lab?: SuiteResult;
    labSkipped?: string;
}

function timeCommand(cmd: string, args: string[], log: (m: string) => void): Promise<SuiteRun> {
    return new Promise((resolve, reject) => {
        const t = Date.now();
        const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } });
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
            if (code !== 0) log(`suites: ${cmd} ${args.join(" ")} exited ${code}; last output:\n${out.split("\n").slice(-15).join("\n")}`);
            resolve({ seconds, exitCode: code ?? -1, tests, waitedForLab });
        });
    });
}

/** Waits (progress lines, 30 min bound) until no other process holds the lab: takes the lab lock and gives it back at once. */
async function waitForFreeLab(log: (m: string) => void): Promise<void> {
    await acquireLab(undefined, (m) => log(`suites: ${m}`));
    releaseLab();
}

async function suite(command: string, runs: number, log: (m: string) => void, before?: () => Promise<void>): Promise<SuiteResult> {
    const [cmd, ...args] = command.split(" ");
    const rs: SuiteRun[] = [];
    for (let i = 0; i < runs; i++) {
        await before?.();
        const r = await timeCommand(cmd, args, log);
        log(`suites: ${command} ${i + 1}/${runs}: ${r.seconds} s, exit ${r.exitCode}${r.tests ? `, tests ${r.tests}` : ""}${r.waitedForLab ? ", WAITED for another lab (time includes the wait)" : ""}`);
        rs.push(r);
    }
    return { command, runs: rs, wallSeconds: summarize(rs.map((r) => r.seconds)), allPassed: rs.every((r) => r.exitCode === 0) };
}

export interface SuitesOptions {
    runs?: number;
    /** Runs of the lab suite (default 1; 0 skips it). */
    labRuns?: number;
    log: (m: string) => void;
    /** The commands timed (default `npm test` and `npm run test:lab`). */
    commands?: { unit: string; lab: string };
}

export async function runSuitesBench(opts: SuitesOptions): Promise<SuitesResults> {
    const commands = opts.commands ?? { unit: "npm test", lab: "npm run test:lab" };
    const unit = await suite(commands.unit, opts.runs ?? 3, opts.log);
    const labRuns = opts.labRuns ?? 1;
    if (labRuns <= 0) return { unit, labSkipped: "--lab-suite-runs 0" };
    const lab = await suite(commands.lab, labRuns, opts.log, () => waitForFreeLab(opts.log));
    return { unit, lab };
}
