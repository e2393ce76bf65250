// The bench's figures: one JSON file, one section per part, each part rewriting only its own.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const BENCH_RESULTS = path.join(__dirname, "results.json");

export function readResults(file = BENCH_RESULTS): Record<string, unknown> {
    try {
        const v = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
        return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}

/** Sets `section` (and the machine description) in the results file, keeping the other sections. */
export function writeSection(section: string, data: unknown, file = BENCH_RESULTS): void {
    const all = readResults(file);
    all.machine = machine();
    all[section] = { ...(data as Record<string, unknown>), writtenAt: new Date().toISOString() };
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all, null, 2) + "\n");
    fs.renameSync(tmp, file);
}

export interface Machine {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    kernel: string;
    node: string;
    gitCommit?: string;
}

export function machine(): Machine {
    let cpuModel = os.cpus()[0]?.model ?? "unknown";
    try {
        cpuModel = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
    } catch {
        // not Linux: os.cpus() is as good
    }
    let gitCommit: string | undefined;
    try {
        gitCommit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" }).trim();
    } catch {
        // not a clone
    }
    return {
        cpus: os.cpus().length,
        cpuModel,
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        kernel: os.release(),
        node: process.version,
        gitCommit,
    };
}
