// One lab per machine: an exclusive lock file naming its holder as `<pid> <process start time>`
// (the start time tells a live holder from a new process that got the same pid).
//
// - Taking it is atomic: the content is written to a private temp file first, then hard-linked
//   to the lock path (link fails if the lock exists), so no reader ever sees it half written.
// - A lock whose holder is gone (dead pid, pid reused by another process, unreadable content)
//   is stale: it is removed, with a log line, under a short-lived `<lock>.takeover` directory
//   so that two waiters cannot both remove it and one of them remove a fresh lock instead.
// - The holding process may take it again (vitest's lab project runs its files one after the
//   other in one process: a file that did not release must not make the next one wait on itself).
// - While another live process holds it, the caller waits: a progress line every ~10 s naming
//   the holder, and after the bound (30 min by default) an error naming the holder.
// - It is released by releaseLock, and when the process exits (a process killed by a signal
//   leaves a stale lock, which the next taker removes).
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { sleep } from "./exec";

export interface LockHolder {
    pid: number;
    /** Field 22 of /proc/<pid>/stat (clock ticks after boot); absent in a lock that carries only a pid. */
    startTime?: string;
}

export interface AcquireOptions {
    /** Give up after this long while another live process holds the lock (default 30 min). */
    waitMs?: number;
    /** How often to look again while waiting (default 1 s). */
    pollMs?: number;
    /** A progress line every this long while waiting (default 10 s). */
    progressMs?: number;
    log?: (m: string) => void;
}

export const DEFAULT_LOCK_WAIT_MS = 30 * 60_000;
/** A takeover directory older than this was left by a process that died inside the takeover. */
const TAKEOVER_STALE_MS = 10_000;

/** A file's text, or undefined when it cannot be read. */
export function readText(p: string): string | undefined {
    try {
        return fs.readFileSync(p, "utf8");
    } catch {
        return undefined;
    }
}

/** The start time of a process (field 22 of /proc/<pid>/stat), or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
    const stat = readText(`/proc/${pid}/stat`);
    if (!stat) return undefined;
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/** True when the process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch (e) {
        // EPERM: it exists, owned by someone else.
        if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
    }
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === undefined) return true; // no procfs: trust kill(0)
    return !/^\d+ \(.*\) Z /s.test(stat);
}

/** True when the process the lock names is still the one running under that pid. */
export function holderAlive(h: LockHolder): boolean {
    if (!processAlive(h.pid)) return false;
    return h.startTime === undefined || processStartTime(h.pid) === h.startTime;
}

function parseHolder(raw: string): LockHolder | undefined {
    const m = /^\s*(\d+)(?:\s+(\d+))?\s*$/.exec(raw);
    if (!m || !(Number(m[1]) > 0)) return undefined;
    return { pid: Number(m[1]), startTime: m[2] };
}

const selfHolder = (): LockHolder => ({ pid: process.pid, startTime: processStartTime(process.pid) });
const isSelf = (h: LockHolder) => h.pid === process.pid && (h.startTime === undefined || h.startTime === processStartTime(process.pid));

/** The live process holding the lock, if any (`self` when it is this one). */
export function lockHolder(lockPath: string): { pid: number; self: boolean } | undefined {
    const raw = readText(lockPath);
    const h = raw === undefined ? undefined : parseHolder(raw);
    if (!h || !holderAlive(h)) return undefined;
    return { pid: h.pid, self: isSelf(h) };
}

/** The holder's command line, for messages, without node's loader options ("" when unreadable). */
function commandOf(pid: number): string {
    const args = (readText(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean);
    const shown = args.filter((a, i) => !["--require", "-r", "--import", "--loader"].includes(a) && !["--require", "-r", "--import", "--loader"].includes(args[i - 1]));
    return shown.join(" ").slice(0, 200);
}

const describe = (pid: number) => {
    const cmd = commandOf(pid);
    return cmd ? `process ${pid} (${cmd})` : `process ${pid}`;
};

/** Creates the lock with this process as holder; false when it exists. */
function tryCreate(lockPath: string): boolean {
    const tmp = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const h = selfHolder();
    fs.writeFileSync(tmp, `${h.pid} ${h.startTime ?? ""}`.trim() + "\n", { mode: 0o644 });
    try {
        fs.linkSync(tmp, lockPath);
        return true;
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw e;
    } finally {
        fs.rmSync(tmp, { force: true });
    }
}

/**
 * Removes the lock if it still holds exactly `staleRaw`, under the takeover directory. Returns
 * false when another process is taking it over right now (look again shortly).
 */
function removeStale(lockPath: string, staleRaw: string, why: string, log: (m: string) => void): boolean {
    const guard = `${lockPath}.takeover`;
    try {
        fs.mkdirSync(guard);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        try {
            if (Date.now() - fs.statSync(guard).mtimeMs > TAKEOVER_STALE_MS) fs.rmdirSync(guard);
        } catch {
            // gone meanwhile
        }
        return false;
    }
    try {
        if (readText(lockPath) === staleRaw) {
            fs.rmSync(lockPath, { force: true });
            log(`taking over the stale lab lock ${lockPath}: ${why}`);
        }
    } finally {
        fs.rmdirSync(guard);
    }
    return true;
}

interface Registry {
    held: Set<string>;
    hooked: boolean;
}

/** One registry per process, whatever number of times this module is loaded (vitest isolates test files). */
function registry(): Registry {
    const key = Symbol.for("geth-swarm.lab-locks");
    const g = globalThis as unknown as Record<symbol, Registry | undefined>;
    const reg = (g[key] ??= { held: new Set<string>(), hooked: false });
    if (!reg.hooked) {
        reg.hooked = true;
        process.on("exit", () => {
            for (const p of reg.held) releaseLock(p);
        });
    }
    return reg;
}

/**
 * Takes the lock at `lockPath` for this process, waiting while another live process holds it.
 * Returns "acquired", or "reentered" when this process already held it.
 */
export async function acquireLock(lockPath: string, opts: AcquireOptions = {}): Promise<"acquired" | "reentered"> {
    const waitMs = opts.waitMs ?? DEFAULT_LOCK_WAIT_MS;
    const pollMs = opts.pollMs ?? 1_000;
    const progressMs = opts.progressMs ?? 10_000;
    const log = opts.log ?? (() => {});
    const start = Date.now();
    let lastProgress: number | undefined;
    for (;;) {
        if (tryCreate(lockPath)) {
            registry().held.add(lockPath);
            return "acquired";
        }
        const raw = readText(lockPath);
        if (raw === undefined) {
            await sleep(10); // released meanwhile: try again
            continue;
        }
        const h = parseHolder(raw);
        if (h && isSelf(h)) {
            registry().held.add(lockPath);
            return "reentered";
        }
        if (!h || !holderAlive(h)) {
            const why = !h ? `unreadable content ${JSON.stringify(raw.slice(0, 40))}` : `its holder, process ${h.pid}, is gone`;
            if (!removeStale(lockPath, raw, why, log)) await sleep(Math.min(pollMs, 50));
            continue;
        }
        const waited = Date.now() - start;
        if (waited >= waitMs) {
            throw new Error(`the lab is in use: ${lockPath} is held by ${describe(h.pid)}; gave up after waiting ${Math.round(waited / 1000)} s`);
        }
        if (lastProgress === undefined || Date.now() - lastProgress >= progressMs) {
            log(`the lab is in use by ${describe(h.pid)} (${lockPath}); waiting${lastProgress === undefined ? "" : ` for ${Math.round(waited / 1000)} s so far`}, at most ${Math.round(waitMs / 1000)} s`);
            lastProgress = Date.now();
        }
        await sleep(Math.max(1, Math.min(pollMs, waitMs - waited)));
    }
}

/** Releases the lock if this process holds it; true when it did. */
export function releaseLock(lockPath: string): boolean {
    registry().held.delete(lockPath);
    const raw = readText(lockPath);
    const h = raw === undefined ? undefined : parseHolder(raw);
    if (!h || !isSelf(h)) return false;
    fs.rmSync(lockPath, { force: true });
    return true;
}
