// Finds and removes everything a lab run creates on the machine, whether that run tore down
// cleanly or was killed halfway: dockerd/containerd/shim/container processes, mounts under the
// lab's directories, network namespaces, links, iptables rules, cgroups and the directories.
// Everything is found by the lab's fixed names (see paths.ts), never by a process name.
//
// Standalone: `npx tsx test/lab/cleanup.ts [--force]` (as root). Without --force it refuses to
// touch a lab that a live process still owns.
import * as fs from "node:fs";
import * as path from "node:path";
import { run, sleep, which } from "./exec";
import { DEFAULT_LOCK_WAIT_MS, acquireLock, lockHolder, processAlive, readText as readFile, releaseLock } from "./lock";
import {
    BRIDGE,
    CGROUP_PARENT,
    CGROUP_ROOT,
    IPTABLES_COMMENT,
    LAB_DATA_DIR,
    LAB_OWNER_FILE,
    LAB_STATE_DIR,
    LINK_PREFIX,
    NETNS_PREFIX,
} from "./paths";

export interface LabProcess {
    pid: number;
    comm: string;
    cmdline: string;
}

export interface Leftovers {
    processes: LabProcess[];
    mounts: string[];
    netns: string[];
    links: string[];
    iptablesRules: string[];
    cgroups: string[];
    dirs: string[];
}

export const isEmpty = (l: Leftovers) => Object.values(l).every((v) => (v as unknown[]).length === 0);

const LAB_PATH_MARKERS = [`${LAB_STATE_DIR}/`, `${LAB_DATA_DIR}/`];

/** Inode of a namespace file, e.g. "net:[4026532]". */
function nsId(p: string): string | undefined {
    try {
        return fs.readlinkSync(p);
    } catch {
        return undefined;
    }
}

function labNetnsIds(): Set<string> {
    const ids = new Set<string>();
    let names: string[] = [];
    try {
        names = fs.readdirSync("/run/netns").filter((n) => n.startsWith(NETNS_PREFIX));
    } catch {
        return ids;
    }
    for (const n of names) {
        try {
            const st = fs.statSync(`/run/netns/${n}`);
            ids.add(`net:[${st.ino}]`);
        } catch {
            // gone meanwhile
        }
    }
    return ids;
}

function labCgroupPids(): Set<number> {
    const pids = new Set<number>();
    for (const dir of labCgroupDirs()) {
        const procs = readFile(path.join(dir, "cgroup.procs"));
        for (const line of (procs ?? "").split("\n")) {
            const pid = Number(line.trim());
            if (pid > 0) pids.add(pid);
        }
    }
    return pids;
}

/**
 * Processes that belong to the lab: their command line names a lab directory (dockerd,
 * containerd, shims), they live in a lab network namespace (docker-proxy, host-network
 * containers), or they are in a lab container cgroup (container processes).
 */
export function labProcesses(): LabProcess[] {
    const self = process.pid;
    const netIds = labNetnsIds();
    const cgPids = labCgroupPids();
    const out: LabProcess[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        const pid = Number(entry);
        if (!Number.isInteger(pid) || pid <= 1 || pid === self) continue;
        const raw = readFile(`/proc/${pid}/cmdline`);
        if (raw === undefined) continue;
        const cmdline = raw.split("\0").filter(Boolean).join(" ");
        const byPath = LAB_PATH_MARKERS.some((m) => cmdline.includes(m));
        const byNet = netIds.size > 0 && netIds.has(nsId(`/proc/${pid}/ns/net`) ?? "");
        if (byPath || byNet || cgPids.has(pid)) {
            out.push({ pid, comm: (readFile(`/proc/${pid}/comm`) ?? "").trim(), cmdline });
        }
    }
    return out;
}

function unescapeMount(p: string): string {
    return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points under the lab's directories or on a lab netns file, deepest (latest) first. */
export function labMounts(): string[] {
    const info = readFile("/proc/self/mountinfo") ?? "";
    const points = info
        .split("\n")
        .filter(Boolean)
        .map((l) => unescapeMount(l.split(" ")[4]))
        .filter(
            (m) =>
                m === LAB_STATE_DIR ||
                m === LAB_DATA_DIR ||
                LAB_PATH_MARKERS.some((p) => m.startsWith(p)) ||
                m.startsWith(`/run/netns/${NETNS_PREFIX}`) ||
                m.startsWith(`/var/run/netns/${NETNS_PREFIX}`),
        );
    return points.reverse();
}

export async function labNetns(): Promise<string[]> {
    if (!which("ip")) return [];
    const r = await run("ip", ["netns", "list"], { allowFailure: true });
    const names = r.stdout
        .split("\n")
        .map((l) => l.trim().split(/\s+/)[0])
        .filter((n) => n && n.startsWith(NETNS_PREFIX));
    // Also names left as files without the kernel namespace behind them.
    try {
        for (const f of fs.readdirSync("/run/netns")) if (f.startsWith(NETNS_PREFIX) && !names.includes(f)) names.push(f);
    } catch {
        // no /run/netns
    }
    return names;
}

export async function labLinks(): Promise<string[]> {
    if (!which("ip")) return [];
    const r = await run("ip", ["-o", "link", "show"], { allowFailure: true });
    return r.stdout
        .split("\n")
        .map((l) => l.split(":")[1]?.trim().split("@")[0])
        .filter((n): n is string => !!n && n.startsWith(LINK_PREFIX));
}

export async function labIptablesRules(): Promise<string[]> {
    if (!which("iptables")) return [];
    const r = await run("iptables", ["-w", "-S"], { allowFailure: true });
    return r.stdout.split("\n").filter((l) => l.startsWith("-A ") && (l.includes(`--comment ${IPTABLES_COMMENT}`) || l.includes(BRIDGE)));
}

/** Every lab cgroup directory (all controllers), deepest first. */
export function labCgroupDirs(): string[] {
    return cgroupDirs(CGROUP_PARENT);
}

/** Every cgroup directory under the top-level cgroup `parent` (all controllers, and cgroup v2), deepest first. */
export function cgroupDirs(parent: string): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(d, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
        out.push(d);
    };
    let controllers: string[] = [];
    try {
        controllers = fs.readdirSync(CGROUP_ROOT);
    } catch {
        return out;
    }
    const roots = [path.join(CGROUP_ROOT, parent), ...controllers.map((c) => path.join(CGROUP_ROOT, c, parent))];
    for (const r of roots) if (fs.existsSync(r) && fs.statSync(r).isDirectory()) walk(r);
    return out;
}

export async function listLeftovers(): Promise<Leftovers> {
    return {
        processes: labProcesses(),
        mounts: labMounts(),
        netns: await labNetns(),
        links: await labLinks(),
        iptablesRules: await labIptablesRules(),
        cgroups: labCgroupDirs(),
        dirs: [LAB_STATE_DIR, LAB_DATA_DIR].filter((d) => fs.existsSync(d)),
    };
}

export function describeLeftovers(l: Leftovers): string {
    const parts: string[] = [];
    if (l.processes.length) parts.push(`processes: ${l.processes.map((p) => `${p.pid}(${p.comm})`).join(", ")}`);
    if (l.mounts.length) parts.push(`mounts: ${l.mounts.join(", ")}`);
    if (l.netns.length) parts.push(`netns: ${l.netns.join(", ")}`);
    if (l.links.length) parts.push(`links: ${l.links.join(", ")}`);
    if (l.iptablesRules.length) parts.push(`iptables: ${l.iptablesRules.join(" | ")}`);
    if (l.cgroups.length) parts.push(`cgroups: ${l.cgroups.length} dirs`);
    if (l.dirs.length) parts.push(`dirs: ${l.dirs.join(", ")}`);
    return parts.join("; ") || "nothing";
}

const alive = processAlive;

function signal(pid: number, sig: NodeJS.Signals) {
    try {
        process.kill(pid, sig);
    } catch {
        // already gone
    }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let left = pids.filter(alive);
    while (left.length && Date.now() < deadline) {
        await sleep(200);
        left = left.filter(alive);
    }
    return left;
}

/**
 * Stops the lab's docker daemons: SIGTERM (dockerd then stops its containers and containerd),
 * SIGKILL after graceMs.
 */
export async function stopDaemons(graceMs = 20_000): Promise<void> {
    const daemons = labProcesses().filter((p) => p.comm === "dockerd");
    daemons.forEach((p) => signal(p.pid, "SIGTERM"));
    const left = await waitGone(
        daemons.map((p) => p.pid),
        graceMs,
    );
    left.forEach((pid) => signal(pid, "SIGKILL"));
    await waitGone(left, 5_000);
}

export interface CleanupOptions {
    log?: (m: string) => void;
    /** How long dockerd gets to stop its containers before SIGKILL. */
    graceMs?: number;
}

/** Removes every trace of a lab. Idempotent; throws if something could not be removed. */
export async function cleanupLab(opts: CleanupOptions = {}): Promise<void> {
    const log = opts.log ?? (() => {});
    if (process.getuid?.() !== 0) throw new Error("lab cleanup must run as root");

    // 1. Processes: daemons first (gracefully), then whatever is left, with SIGKILL.
    await stopDaemons(opts.graceMs ?? 20_000);
    for (let round = 0; round < 10; round++) {
        const procs = labProcesses();
        if (!procs.length) break;
        if (round === 0) log(`killing ${procs.length} lab processes: ${procs.map((p) => p.comm).join(", ")}`);
        procs.forEach((p) => signal(p.pid, "SIGKILL"));
        await waitGone(
            procs.map((p) => p.pid),
            3_000,
        );
    }

    // 2. Mounts (container rootfs overlays, shm, netns bind mounts, the UTS namespace files).
    for (let round = 0; round < 5; round++) {
        const mounts = labMounts();
        if (!mounts.length) break;
        if (round === 0) log(`unmounting ${mounts.length} lab mounts`);
        for (const m of mounts) {
            const r = await run("umount", [m], { allowFailure: true });
            if (r.code !== 0) await run("umount", ["-l", m], { allowFailure: true });
        }
    }

    // 3. Network namespaces, links, iptables rules.
    for (const ns of await labNetns()) {
        const r = await run("ip", ["netns", "delete", ns], { allowFailure: true });
        if (r.code !== 0) {
            await run("umount", ["-l", `/run/netns/${ns}`], { allowFailure: true });
            fs.rmSync(`/run/netns/${ns}`, { force: true });
        }
    }
    for (const link of await labLinks()) await run("ip", ["link", "delete", link], { allowFailure: true });
    for (let round = 0; round < 10; round++) {
        const rules = await labIptablesRules();
        if (!rules.length) break;
        for (const rule of rules) await run("iptables", ["-w", ...rule.replace(/^-A /, "-D ").split(" ")], { allowFailure: true });
    }

    // 4. Cgroups (empty once the processes are gone; rmdir deepest first).
    for (const d of labCgroupDirs()) {
        try {
            fs.rmdirSync(d);
        } catch {
            // retried below
        }
    }

    // 5. Directories, never across a file system boundary (a mount we failed to remove).
    for (const d of [LAB_STATE_DIR, LAB_DATA_DIR]) {
        if (fs.existsSync(d)) await run("rm", ["-rf", "--one-file-system", d], { allowFailure: true, timeoutMs: 300_000 });
    }

    const left = await listLeftovers();
    if (!isEmpty(left)) throw new Error(`lab cleanup left: ${describeLeftovers(left)}`);
}

// ---------- ownership: one lab per machine at a time (lock.ts) ----------

/** The live process that owns the lab, if any. */
export function labOwner(): { pid: number; self: boolean } | undefined {
    return lockHolder(LAB_OWNER_FILE);
}

/**
 * Makes this process the owner of the lab (at once if it already is). While another live
 * process owns it, waits up to waitMs with a progress line every ~10 s, then fails naming it.
 */
export async function acquireLab(waitMs = DEFAULT_LOCK_WAIT_MS, log: (m: string) => void = () => {}): Promise<void> {
    await acquireLock(LAB_OWNER_FILE, { waitMs, log });
}

export function releaseLab(): void {
    releaseLock(LAB_OWNER_FILE);
}

if (require.main === module) {
    const force = process.argv.includes("--force");
    (async () => {
        const owner = labOwner();
        if (owner && !owner.self && !force) {
            throw new Error(`the lab is in use by live process ${owner.pid}; pass --force to remove it anyway`);
        }
        const before = await listLeftovers();
        process.stderr.write(`lab leftovers: ${describeLeftovers(before)}\n`);
        await cleanupLab({ log: (m) => process.stderr.write(`${m}\n`) });
        if (owner && !owner.self) fs.rmSync(LAB_OWNER_FILE, { force: true });
        process.stderr.write("lab clean\n");
    })().catch((e) => {
        process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    });
}
