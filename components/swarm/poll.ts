/** Polling with exponential backoff, bounded by a deadline. */

export interface PollOptions {
    /** Give up after this long. */
    readonly timeoutMs: number;
    /** First pause between attempts. Default 250 ms. */
    readonly initialDelayMs?: number;
    /** Longest pause between attempts. Default 5000 ms. */
    readonly maxDelayMs?: number;
}

/** What {@link pollUntil} gives each attempt: the time left, and a way to bound a call by it. */
export interface PollContext {
    /** Milliseconds until the deadline (0 or less once it passed). */
    remainingMs(): number;
    /**
     * `p`, or a rejection `<what> did not answer within <time left>` when `p` has not settled
     * by the deadline. Wrap every network call of an attempt in it, so that one hung request
     * (a client without a timeout, a body cut off mid-way) cannot hold the poll past its deadline.
     */
    bound<U>(p: Promise<U>, what: string): Promise<U>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const noop = (): void => undefined;

/**
 * After the deadline, how long an attempt still gets before {@link pollUntil} stops waiting
 * for it: room for an attempt that bounds its calls to record why it failed.
 */
const ATTEMPT_GRACE_MS = 50;

/** The rejection of {@link withTimeout} (and {@link PollContext.bound}): the call was cut off, not answered. */
export class DeadlineError extends Error {
    constructor(message: string) {
        super(message);
        // Set explicitly: in Pulumi's serialised dynamic provider, super() does not set it.
        this.message = message;
        this.name = "DeadlineError";
    }
}

/**
 * What a poll last saw, for its timeout error. An attempt cut off at the deadline (a
 * {@link DeadlineError}) is noted after the last real observation instead of replacing
 * it: "GET /tasks answered HTTP 500 ... (then GET /tasks did not answer within 12ms)"
 * names the problem; the cut-off alone would only name the deadline.
 */
export class LastSeen {
    private seen: string;
    private real = false;
    private cut = "";

    constructor(initial: string) {
        this.seen = initial;
    }

    /** Records what an attempt saw: an answer, or (with `error`) a failure. */
    set(text: string, error?: unknown): void {
        if (error instanceof DeadlineError && this.real) {
            this.cut = text;
            return;
        }
        this.seen = text;
        this.real = !(error instanceof DeadlineError);
        this.cut = "";
    }

    toString(): string {
        return this.cut ? `${this.seen} (then ${this.cut})` : this.seen;
    }
}

/** `p`, or a {@link DeadlineError} `<what> did not answer within <ms>` when it has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    const left = Math.max(0, ms);
    return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => reject(new DeadlineError(`${what} did not answer within ${formatDuration(left)}`)), left);
        p.then(
            (v) => {
                clearTimeout(t);
                resolve(v);
            },
            (e: unknown) => {
                clearTimeout(t);
                reject(e);
            },
        );
    });
}

/**
 * Call `attempt` until it returns a value other than `undefined`, pausing with
 * exponential backoff (x1.6) between attempts; `undefined` once `timeoutMs` has passed.
 * Attempts start before the deadline, and an attempt still running at the deadline is not
 * waited for (beyond a short grace): the poll ends on time even when a request hangs. Errors thrown by `attempt` end the polling (an attempt catches what it
 * considers transient).
 */
export async function pollUntil<T>(attempt: (ctx: PollContext) => Promise<T | undefined>, opts: PollOptions): Promise<T | undefined> {
    const deadline = Date.now() + Math.max(0, opts.timeoutMs);
    let delay = Math.max(1, opts.initialDelayMs ?? 250);
    const maxDelay = Math.max(delay, opts.maxDelayMs ?? 5000);
    const ctx: PollContext = {
        remainingMs: () => deadline - Date.now(),
        bound: (p, what) => withTimeout(p, deadline - Date.now(), what),
    };
    const NO_ANSWER = Symbol("no answer");
    for (;;) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<typeof NO_ANSWER>((resolve) => {
            timer = setTimeout(() => resolve(NO_ANSWER), Math.max(0, deadline - Date.now()) + ATTEMPT_GRACE_MS);
        });
        let result: T | undefined | typeof NO_ANSWER;
        const running = attempt(ctx);
        try {
            result = await Promise.race([running, late]);
        } finally {
            clearTimeout(timer);
        }
        if (result === NO_ANSWER) {
            // The attempt's bounded calls time out at the deadline, before `late`; but when the
            // event loop ran late, Node runs due timers list by list (one list per duration), and
            // `late` can come first. Their timers are due as well by now: one turn of the loop
            // lets them cut the calls off, so the attempt records what hung.
            await Promise.race([running.then(noop, noop), new Promise<void>((resolve) => setImmediate(resolve))]);
            return undefined;
        }
        if (result !== undefined) return result;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await sleep(Math.min(delay, left));
        // An attempt started at the deadline could only be cut off: not one more.
        if (deadline - Date.now() <= 0) return undefined;
        delay = Math.min(maxDelay, Math.ceil(delay * 1.6));
    }
}

/** `12s`, `1.5s`, `600ms`: a duration for error messages. */
export function formatDuration(ms: number): string {
    if (ms < 1000) return `${ms}ms`;
    const s = ms / 1000;
    return Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`;
}

/** The message of an unknown thrown value. */
export function errorMessage(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

/**
 * A short description of an API answer that has not the expected shape, for error
 * messages: a body that is not JSON (dockerode hands it over as a Buffer or a string), or
 * JSON of another shape; at most 120 characters of it.
 */
export function describeAnswer(v: unknown): string {
    const cut = (s: string) => (s.length > 120 ? `${s.slice(0, 120)}...` : s);
    if (Buffer.isBuffer(v) || typeof v === "string") {
        const text = String(v).trim();
        return text ? `a body that is not JSON: ${JSON.stringify(cut(text))}` : "an empty body";
    }
    if (v === undefined) return "no body";
    let json: string | undefined;
    try {
        json = JSON.stringify(v);
    } catch {
        json = undefined;
    }
    return `JSON of another shape: ${cut(json ?? String(v))}`;
}
