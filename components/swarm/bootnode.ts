import { DockerApi, SwarmTask } from "./api";
import { LastSeen, describeAnswer, errorMessage, formatDuration, pollUntil } from "./poll";

export interface BootnodeOptions {
    /** How long to wait for the bootnode to run and print its enode URL. */
    readonly timeoutMs: number;
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
    /** Told what was seen after each attempt that did not find the enode yet. Default: nothing. */
    readonly onProgress?: (message: string) => void;
}

/** Thrown when the bootnode does not report an enode URL in time. */
export class BootnodeNoAnswerError extends Error {
    constructor(readonly serviceName: string, readonly seen: string, timeoutMs: number) {
        const message = `bootnode service ${serviceName} reported no enode URL within ${formatDuration(timeoutMs)}; last seen: ${seen}.`;
        super(message);
        // Set explicitly: in Pulumi's serialised dynamic provider, super() does not set it.
        this.message = message;
        this.name = "BootnodeNoAnswerError";
    }
}

/** Thrown when the running bootnode's node ID differs from the one derived from its node key. */
export class BootnodeEnodeMismatchError extends Error {
    constructor(readonly serviceName: string, readonly reported: string, readonly expected: string) {
        const message =
            `bootnode service ${serviceName} runs as ${reported}, but its node key derives ${expected}: ` +
            `the node IDs differ, so the bootnode is not using the node key secret this deployment made.`;
        super(message);
        this.message = message;
        this.name = "BootnodeEnodeMismatchError";
    }
}

/**
 * Split a Docker log payload. Logs of a service without a TTY come multiplexed: frames of
 * an 8-byte header (stream type, 3 zero bytes, big-endian length) and the payload. Text
 * that is not framed that way is returned as is.
 */
export function demuxDockerLogs(data: Buffer | string): string {
    if (typeof data === "string") return data;
    const out: Buffer[] = [];
    let i = 0;
    while (i + 8 <= data.length) {
        const type = data[i];
        if (type > 2 || data[i + 1] !== 0 || data[i + 2] !== 0 || data[i + 3] !== 0) return data.toString("utf8");
        const len = data.readUInt32BE(i + 4);
        if (i + 8 + len > data.length) return data.toString("utf8");
        out.push(data.subarray(i + 8, i + 8 + len));
        i += 8 + len;
    }
    if (i !== data.length) return data.toString("utf8");
    return Buffer.concat(out).toString("utf8");
}

async function readAll(value: unknown): Promise<Buffer | string> {
    if (typeof value === "string" || Buffer.isBuffer(value)) return value;
    if (value && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
        const chunks: Buffer[] = [];
        for await (const c of value as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
        return Buffer.concat(chunks);
    }
    return String(value ?? "");
}

const ENODE_RE = /enode:\/\/[0-9a-fA-F]{128}@[^\s"']+/;
const TIMESTAMP_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)\s/;

/** Milliseconds since the epoch of a Docker RFC 3339 (nanosecond) timestamp; NaN if unparsable. */
export function parseDockerTime(ts: string | undefined): number {
    if (!ts) return NaN;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(ts.trim());
    if (!m) return NaN;
    return Date.parse(`${m[1]}${(m[2] ?? "").slice(0, 4)}${m[3]}`);
}

/** Enode URLs in timestamped log text, with their times (NaN when a line has no timestamp). */
export function enodesInLogs(text: string): { time: number; enode: string }[] {
    const found: { time: number; enode: string }[] = [];
    for (const line of text.split(/\r?\n/)) {
        const m = ENODE_RE.exec(line);
        if (!m) continue;
        const ts = TIMESTAMP_RE.exec(line);
        found.push({ time: ts ? Date.parse(`${ts[1]}${(ts[2] ?? "").slice(0, 4)}${ts[3]}`) : NaN, enode: m[0] });
    }
    return found;
}

/**
 * Read the enode URL the running bootnode printed at start (`enode://<id>@<addr>...`;
 * geth v1.13.15's bootnode prints the address it listens on with TCP port 0 and the
 * discovery port as `?discport=`, e.g. `enode://<id>@10.0.1.11:0?discport=30301`),
 * from its service's logs through the Docker API of a swarm manager. Waits (bounded,
 * backoff) until the service has a running task whose output holds an enode URL; only
 * lines logged since that task was created count, so an earlier task's identity is never
 * taken for the current one.
 *
 * @throws BootnodeNoAnswerError when nothing is reported in time, saying what was seen.
 */
export async function readBootnodeEnode(docker: DockerApi, serviceName: string, opts: BootnodeOptions): Promise<string> {
    const seen = new LastSeen("nothing yet");
    const enode = await pollUntil(async (ctx) => {
        const found = await attempt(ctx);
        if (found === undefined) opts.onProgress?.(`waiting for ${serviceName} to print its enode URL: ${seen}`);
        return found;
    }, opts);
    if (enode === undefined) throw new BootnodeNoAnswerError(serviceName, String(seen), opts.timeoutMs);
    return enode;

    async function attempt({ bound }: { bound: <U>(p: Promise<U>, what: string) => Promise<U> }): Promise<string | undefined> {
        let tasks: SwarmTask[];
        try {
            const answer: unknown = await bound(docker.listTasks({ filters: { service: [serviceName] } }), "GET /tasks");
            if (!Array.isArray(answer) || !answer.every((t) => t && typeof t === "object" && typeof (t as SwarmTask).ID === "string")) {
                seen.set(`GET /tasks answered ${describeAnswer(answer)}`);
                return undefined;
            }
            tasks = answer as SwarmTask[];
        } catch (e) {
            seen.set(`listing tasks failed: ${errorMessage(e)}`, e);
            return undefined;
        }
        const running = tasks.filter((t) => t.DesiredState === "running" && t.Status?.State === "running");
        if (running.length === 0) {
            const states = tasks.map((t) => `${t.ID.slice(0, 12)} ${t.Status?.State ?? "?"}${t.Status?.Err ? ` (${t.Status.Err})` : ""}`);
            seen.set(`no running task (tasks: ${states.length === 0 ? "none" : states.join(", ")})`);
            return undefined;
        }
        const since = Math.min(...running.map((t) => parseDockerTime(t.CreatedAt)).filter((t) => !Number.isNaN(t)));
        let text: string;
        try {
            const logs = bound(docker.getService(serviceName).logs({ stdout: true, stderr: true, timestamps: true }), `GET /services/${serviceName}/logs`);
            text = demuxDockerLogs(await bound(readAll(await logs), `reading the logs of ${serviceName}`));
        } catch (e) {
            seen.set(`reading logs failed: ${errorMessage(e)}`, e);
            return undefined;
        }
        const found = enodesInLogs(text).filter((f) => !Number.isFinite(since) || Number.isNaN(f.time) || f.time >= since);
        if (found.length === 0) {
            const tail = text.trim().split(/\r?\n/).slice(-3).join(" | ");
            seen.set(`a running task, but no enode URL in its logs${tail ? ` (last lines: ${tail})` : ""}`);
            return undefined;
        }
        found.sort((a, b) => (Number.isNaN(a.time) ? 0 : a.time) - (Number.isNaN(b.time) ? 0 : b.time));
        return found[found.length - 1].enode;
    }
}

/** Result of {@link verifyBootnodeEnode}. */
export interface BootnodeCheck {
    /**
     * What the bootnode printed: its host is the address it listens on (the boot host's
     * private IP as the boot stack runs it; 127.0.0.1 when it listens on all interfaces),
     * its port 0 with the UDP port in `?discport=`.
     */
    readonly reported: string;
    /** The node ID both agree on. */
    readonly nodeId: string;
}

/**
 * The node ID (128 hex digits, lower case) of an enode URL. Kept dependency-free: this
 * module is serialised into Pulumi's dynamic-provider process.
 */
export function enodeNodeId(url: string): string {
    const m = /^enode:\/\/([0-9a-fA-F]{128})@/.exec(url.trim());
    if (!m) throw new Error(`${JSON.stringify(url)} is not an enode URL (enode://<128 hex digits>@host:port).`);
    return m[1].toLowerCase();
}

/**
 * Compare the node ID the running bootnode reports with the one of the expected enode
 * URL (derived from the node key). Only the node ID is compared: the bootnode prints the
 * address it listens on with port 0 (see {@link readBootnodeEnode}), while the expected
 * URL carries the boot host's address and the discovery port peers use.
 *
 * @throws BootnodeEnodeMismatchError on a different node ID; BootnodeNoAnswerError when none is reported in time.
 */
export async function verifyBootnodeEnode(
    docker: DockerApi,
    serviceName: string,
    expectedEnode: string,
    opts: BootnodeOptions,
): Promise<BootnodeCheck> {
    const expected = enodeNodeId(expectedEnode);
    const reported = await readBootnodeEnode(docker, serviceName, opts);
    const got = enodeNodeId(reported);
    if (got !== expected) throw new BootnodeEnodeMismatchError(serviceName, reported, expectedEnode);
    return { reported, nodeId: got };
}
