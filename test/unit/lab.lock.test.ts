// The machine-wide lab lock (test/lab/lock.ts) on lock files in a temp dir: taking, re-entry,
// stale takeover, waiting for a live holder, the timeout naming the holder, and several
// processes racing for one stale lock.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectWithin, measure } from "../../components/swarm/timing.fixtures";
import { acquireLock, lockHolder, processStartTime, releaseLock } from "../lab/lock";

const ROOT = path.join(__dirname, "..", "..");
let dir: string;
let lock: string;
const children: ChildProcess[] = [];

beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gsl-lock-test-"));
    lock = path.join(dir, "lab.lock");
});
afterEach(() => {
    releaseLock(lock);
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
});

/** A live process that is not this one, and its lock line. */
async function liveHolder(): Promise<{ child: ChildProcess; line: string }> {
    const child = spawn("sleep", ["60"], { stdio: "ignore" });
    children.push(child);
    await new Promise<void>((r, j) => {
        child.once("spawn", () => r());
        child.once("error", j);
    });
    const st = processStartTime(child.pid!);
    expect(st).toBeDefined();
    return { child, line: `${child.pid} ${st}\n` };
}

/** The pid of a process that has exited. */
function deadPid(): number {
    const r = spawnSync("true");
    expect(r.status).toBe(0);
    return r.pid;
}

const logs = () => {
    const lines: string[] = [];
    return { lines, log: (m: string) => lines.push(m) };
};

describe("lab lock", () => {
    it("takes a free lock, names this process in it, releases it", async () => {
        expect(await acquireLock(lock, { waitMs: 0 })).toBe("acquired");
        expect(fs.readFileSync(lock, "utf8")).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
        expect(lockHolder(lock)).toEqual({ pid: process.pid, self: true });
        expect(fs.readdirSync(dir)).toEqual(["lab.lock"]); // no temp file left
        expect(releaseLock(lock)).toBe(true);
        expect(fs.existsSync(lock)).toBe(false);
        expect(lockHolder(lock)).toBeUndefined();
        expect(releaseLock(lock)).toBe(false);
    });

    it("lets the holding process take it again without waiting on itself", async () => {
        await acquireLock(lock, { waitMs: 0 });
        const m = await measure(() => acquireLock(lock, { waitMs: 0 }));
        expect(m.value).toBe("reentered");
        // At once: no wait on itself (a poll would take at least its first pause).
        expectWithin(m, 0, 500);
    });

    it("does not release a lock another process holds", async () => {
        const { line } = await liveHolder();
        fs.writeFileSync(lock, line);
        expect(releaseLock(lock)).toBe(false);
        expect(fs.readFileSync(lock, "utf8")).toBe(line);
    });

    it.each([
        ["a dead pid", () => `${deadPid()} 12345\n`, /process \d+, is gone/],
        ["a dead pid without start time", () => `${deadPid()}\n`, /process \d+, is gone/],
        ["a live pid with another start time (pid reused)", () => `${process.ppid} 1\n`, /is gone/],
        ["unreadable content", () => "not a pid\n", /unreadable content/],
        ["empty content", () => "", /unreadable content/],
    ])("takes over a stale lock: %s, with a log line", async (_what, content, why) => {
        fs.writeFileSync(lock, content());
        const { lines, log } = logs();
        expect(await acquireLock(lock, { waitMs: 0, log })).toBe("acquired");
        expect(lockHolder(lock)).toEqual({ pid: process.pid, self: true });
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/taking over the stale lab lock/);
        expect(lines[0]).toContain(lock);
        expect(lines[0]).toMatch(why);
    });

    it("takes over a stale lock even when a dead taker left its takeover directory", async () => {
        fs.writeFileSync(lock, `${deadPid()} 1\n`);
        fs.mkdirSync(`${lock}.takeover`);
        const old = new Date(Date.now() - 60_000);
        fs.utimesSync(`${lock}.takeover`, old, old);
        expect(await acquireLock(lock, { waitMs: 2_000, pollMs: 20 })).toBe("acquired");
        expect(fs.existsSync(`${lock}.takeover`)).toBe(false);
    });

    it("waits while a live process holds it, with progress lines naming the holder, and takes it when released", async () => {
        const { child, line } = await liveHolder();
        fs.writeFileSync(lock, line);
        const { lines, log } = logs();
        const t = Date.now();
        setTimeout(() => fs.rmSync(lock), 400);
        expect(await acquireLock(lock, { waitMs: 10_000, pollMs: 20, progressMs: 150, log })).toBe("acquired");
        expect(Date.now() - t).toBeGreaterThanOrEqual(390);
        expect(lockHolder(lock)?.self).toBe(true);
        expect(lines.length).toBeGreaterThanOrEqual(2);
        expect(lines.length).toBeLessThanOrEqual(4);
        for (const l of lines) expect(l).toContain(`the lab is in use by process ${child.pid} (sleep 60)`);
        expect(lines[1]).toMatch(/waiting for \d+ s so far/);
    });

    it("takes it over when the live holder dies while it waits", async () => {
        const { child, line } = await liveHolder();
        fs.writeFileSync(lock, line);
        const { lines, log } = logs();
        setTimeout(() => child.kill("SIGKILL"), 300);
        expect(await acquireLock(lock, { waitMs: 10_000, pollMs: 20, log })).toBe("acquired");
        expect(lines[0]).toContain(`in use by process ${child.pid}`);
        expect(lines[lines.length - 1]).toMatch(new RegExp(`taking over the stale lab lock .*process ${child.pid}, is gone`));
    });

    it("gives up after the bound with an error naming the holder", async () => {
        const { child, line } = await liveHolder();
        fs.writeFileSync(lock, line);
        const t = Date.now();
        await expect(acquireLock(lock, { waitMs: 300, pollMs: 20 })).rejects.toThrow(
            new RegExp(`the lab is in use: ${lock.replace(/[.]/g, "\\.")} is held by process ${child.pid} \\(sleep 60\\); gave up after waiting \\d+ s`),
        );
        expect(Date.now() - t).toBeGreaterThanOrEqual(290);
        expect(fs.readFileSync(lock, "utf8")).toBe(line); // left alone
    });

    const runChild = (journal: string, holdMs: number, how = "release") => {
        const c = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "fixtures", "lab-lock-child.ts"), lock, journal, String(holdMs), how], {
            cwd: ROOT,
            stdio: ["ignore", "ignore", "pipe"],
        });
        children.push(c);
        let err = "";
        c.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        return new Promise<void>((resolve, reject) => c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${err}`)))));
    };

    it("gives several processes racing for one stale lock one turn each, never two at once", async () => {
        fs.writeFileSync(lock, `${deadPid()} 1\n`);
        const journal = path.join(dir, "journal");
        await Promise.all(Array.from({ length: 4 }, () => runChild(journal, 150)));
        const events = fs
            .readFileSync(journal, "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split(" "));
        expect(events).toHaveLength(8);
        // Strictly alternating in/out by the same process: no one entered while another held it.
        for (let i = 0; i < events.length; i += 2) {
            expect(events[i][1]).toBe("in");
            expect(events[i + 1][1]).toBe("out");
            expect(events[i + 1][0]).toBe(events[i][0]);
        }
        expect(new Set(events.map((e) => e[0])).size).toBe(4);
        expect(fs.existsSync(lock)).toBe(false);
    }, 60_000);

    it("is released when the holding process exits without releasing it", async () => {
        const journal = path.join(dir, "journal");
        await runChild(journal, 10, "exit");
        expect(fs.readFileSync(journal, "utf8")).toMatch(/ in \d+\n\d+ out /);
        expect(fs.existsSync(lock)).toBe(false);
    }, 60_000);
});
