// Looking for secrets where they must not be: in files (logs, scratch directories, state) and
// in the process list (every command line and environment of the processes in given network
// namespaces, sampled while something runs). Needles are plain strings; a finding names where
// and which needle (by its label), never the secret itself.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Needle {
    /** What it is, for messages: "worker join token", "TLS server key", ... */
    label: string;
    value: string;
}

export interface Finding {
    where: string;
    label: string;
}

/** The needles found in `text`. */
export function findNeedles(text: string, needles: readonly Needle[]): string[] {
    return needles.filter((n) => n.value.length > 0 && text.includes(n.value)).map((n) => n.label);
}

/**
 * Every regular file under `dirs` (recursively, symlinks not followed, files over 64 MiB
 * skipped) that holds a needle, except the files in `allowed` (absolute paths).
 */
export function scanFiles(dirs: readonly string[], needles: readonly Needle[], allowed: readonly string[] = []): Finding[] {
    const out: Finding[] = [];
    const walk = (p: string) => {
        let st: fs.Stats;
        try {
            st = fs.lstatSync(p);
        } catch {
            return;
        }
        if (st.isDirectory()) {
            for (const e of fs.readdirSync(p)) walk(path.join(p, e));
        } else if (st.isFile() && st.size <= 64 * 1024 * 1024 && !allowed.includes(p)) {
            let text: string;
            try {
                text = fs.readFileSync(p, "latin1");
            } catch {
                return;
            }
            for (const label of findNeedles(text, needles)) out.push({ where: p, label });
        }
    };
    for (const d of dirs) walk(d);
    return out;
}

/**
 * Every file and directory under `dir` (recursively, but not under `skip`), as path -> kind,
 * mode and content digest, plus the modification time for the paths `withMtime` picks: to tell
 * that nothing changed.
 */
export function treeState(dir: string, opts: { skip?: readonly string[]; withMtime?: (p: string) => boolean } = {}): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (p: string) => {
        if (opts.skip?.includes(p)) return;
        const st = fs.lstatSync(p);
        const mode = (st.mode & 0o7777).toString(8);
        const mtime = opts.withMtime?.(p) ? ` mtime ${st.mtimeMs}` : "";
        if (st.isDirectory()) {
            out[p] = `dir ${mode}`;
            for (const e of fs.readdirSync(p)) walk(path.join(p, e));
        } else if (st.isFile()) {
            out[p] = `file ${mode} ${createHash("sha256").update(fs.readFileSync(p)).digest("hex")}${mtime}`;
        } else {
            out[p] = `other ${mode}`;
        }
    };
    walk(dir);
    return out;
}

function readProc(pid: string, file: string): string | undefined {
    try {
        return fs.readFileSync(`/proc/${pid}/${file}`, "latin1");
    } catch {
        return undefined;
    }
}

/**
 * Samples the command line and environment of every process in the given network
 * namespaces (by their `net:[inode]` ids) every `intervalMs`, keeping each distinct text once,
 * so that what ran can be searched afterwards for secrets that were not known at the time.
 */
export class ProcessWatch {
    private readonly seen = new Map<string, string>();
    private timer: NodeJS.Timeout | undefined;
    samples = 0;
    /** Distinct processes (pid + start) seen in the namespaces. */
    readonly processes = new Set<string>();

    constructor(
        private readonly netIds: ReadonlySet<string>,
        private readonly intervalMs = 25,
    ) {}

    start(): void {
        if (this.timer) return;
        this.sample();
        this.timer = setInterval(() => this.sample(), this.intervalMs);
    }

    stop(): void {
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
    }

    /** One look at the process list now. */
    sample(): void {
        this.samples++;
        for (const pid of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
            let net: string;
            try {
                net = fs.readlinkSync(`/proc/${pid}/ns/net`);
            } catch {
                continue;
            }
            if (!this.netIds.has(net)) continue;
            const comm = (readProc(pid, "comm") ?? "?").trim();
            const stat = readProc(pid, "stat");
            this.processes.add(`${pid}:${stat ? stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] : "?"}`);
            for (const [file, sep] of [["cmdline", " "], ["environ", "\n"]] as const) {
                const text = readProc(pid, file);
                if (text && !this.seen.has(text.replace(/\0/g, sep))) this.seen.set(text.replace(/\0/g, sep), `${file} of ${comm} (pid ${pid})`);
            }
        }
    }

    /** Where the needles showed up in a command line or environment. */
    find(needles: readonly Needle[]): Finding[] {
        const out: Finding[] = [];
        for (const [text, where] of this.seen) for (const label of findNeedles(text, needles)) out.push({ where, label });
        return out;
    }

    /** The distinct command lines seen that match `re` (for a check that the watch saw what ran). */
    commandLines(re: RegExp): string[] {
        return [...this.seen].filter(([t, w]) => w.startsWith("cmdline") && re.test(t)).map(([t]) => t);
    }
}

/** The `net:[inode]` id of a network namespace file (`/var/run/netns/<name>`). */
export function netnsId(netnsPath: string): string {
    return `net:[${fs.statSync(netnsPath).ino}]`;
}
