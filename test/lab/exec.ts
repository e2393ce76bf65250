// Small process helpers shared by the lab modules.
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** PATH for every child: the sbin directories (ip, iptables, dockerd) and Go, whatever the caller's PATH. */
export const LAB_PATH = [
    ...(process.env.PATH ?? "").split(":").filter(Boolean),
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/usr/local/go/bin",
]
    .filter((d, i, all) => all.indexOf(d) === i)
    .join(":");

export const LAB_ENV: NodeJS.ProcessEnv = { ...process.env, PATH: LAB_PATH };

export class CommandError extends Error {
    constructor(
        readonly command: string,
        readonly code: number | string | null,
        readonly stdout: string,
        readonly stderr: string,
    ) {
        super(`command failed (exit ${code}): ${command}\n${stderr.trim() || stdout.trim()}`);
        this.name = "CommandError";
    }
}

export interface RunOptions {
    input?: string | Buffer;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    timeoutMs?: number;
    /** Do not throw on a non-zero exit; return the result instead. */
    allowFailure?: boolean;
}

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a program (no shell), collects its output, throws a CommandError on failure. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            cmd,
            args,
            {
                env: opts.env ?? LAB_ENV,
                cwd: opts.cwd,
                timeout: opts.timeoutMs ?? 120_000,
                maxBuffer: 64 * 1024 * 1024,
                encoding: "utf8",
            },
            (err, stdout, stderr) => {
                const code = err ? ((err as NodeJS.ErrnoException & { code?: number | string }).code ?? 1) : 0;
                if (err && !opts.allowFailure) {
                    reject(new CommandError([cmd, ...args].join(" "), code, stdout, stderr));
                    return;
                }
                resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
            },
        );
        if (opts.input !== undefined) {
            child.stdin?.end(opts.input);
        } else {
            child.stdin?.end();
        }
    });
}

/** Runs a long program with its output appended to a log file (not buffered in memory). */
export function runLogged(cmd: string, args: string[], logFile: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<void> {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const fd = fs.openSync(logFile, "a");
    fs.writeSync(fd, `\n$ ${[cmd, ...args].join(" ")}\n`);
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env: opts.env ?? LAB_ENV, cwd: opts.cwd, stdio: ["ignore", fd, fd] });
        child.on("error", (e) => {
            fs.closeSync(fd);
            reject(e);
        });
        child.on("exit", (code, signal) => {
            fs.closeSync(fd);
            if (code === 0) resolve();
            else reject(new Error(`command failed (exit ${code ?? signal}): ${[cmd, ...args].join(" ")}; see ${logFile}`));
        });
    });
}

/** The absolute path of a program on LAB_PATH, or undefined. */
export function which(name: string): string | undefined {
    for (const dir of LAB_PATH.split(":")) {
        const p = path.join(dir, name);
        try {
            fs.accessSync(p, fs.constants.X_OK);
            if (fs.statSync(p).isFile()) return p;
        } catch {
            // not here
        }
    }
    return undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value other than undefined, or throws after timeoutMs with the last error. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            lastErr = e;
        }
        if (Date.now() > deadline) {
            const detail = lastErr instanceof Error ? `: ${lastErr.message}` : "";
            throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${detail}`);
        }
        await sleep(intervalMs);
    }
}
