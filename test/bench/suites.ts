// Wall time of the test suites, so that a regression shows: `npm test` (unit, several runs)
// and `npm run test:lab` (warm image cache; one run by default, it takes minutes).
import { spawn } from "node:child_process";
import * as path from "node:path";
import { Summary, round, summarize } from "./stats";

const ROOT = path.join(__dirname, "..", "..");

export interface SuiteRun {
    seconds: number;
    exitCode: number;
    /** vitest's own summary line ("Tests  123 passed (123)"), when it printed one. */
    tests?: string;
}

export interface SuiteResult {
    command: string;
    runs: SuiteRun[];
    wallSeconds: Summary;
    allPassed: boolean;
}

export interface SuitesResults {
    unit: SuiteResult;
    lab?: SuiteResult;
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
            const tests = /^\s*Tests\s+(.+)$/m.exec(out.replace(/\x1b\[[0-9;]*m/g, ""))?.[1]?.trim();
            if (code !== 0) log(`suites: ${cmd} ${args.join(" ")} exited ${code}; last output:\n${out.split("\n").slice(-15).join("\n")}`);
            resolve({ seconds, exitCode: code ?? -1, tests });
        });
    });
}

async function suite(command: string, runs: number, log: (m: string) => void): Promise<SuiteResult> {
    const [cmd, ...args] = command.split(" ");
    const rs: SuiteRun[] = [];
    for (let i = 0; i < runs; i++) {
        const r = await timeCommand(cmd, args, log);
        log(`suites: ${command} ${i + 1}/${runs}: ${r.seconds} s, exit ${r.exitCode}${r.tests ? `, tests ${r.tests}` : ""}`);
        rs.push(r);
    }
    return { command, runs: rs, wallSeconds: summarize(rs.map((r) => r.seconds)), allPassed: rs.every((r) => r.exitCode === 0) };
}

export async function runSuitesBench(opts: { runs?: number; labRuns?: number; log: (m: string) => void }): Promise<SuitesResults> {
    const unit = await suite("npm test", opts.runs ?? 3, opts.log);
    const labRuns = opts.labRuns ?? 1;
    const lab = labRuns > 0 ? await suite("npm run test:lab", labRuns, opts.log) : undefined;
    return { unit, lab };
}
