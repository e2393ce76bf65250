/** Polling with exponential backoff, bounded by a deadline. */

export interface PollOptions {
    /** Give up after this long. */
    readonly timeoutMs: number;
    /** First pause between attempts. Default 250 ms. */
    readonly initialDelayMs?: number;
    /** Longest pause between attempts. Default 5000 ms. */
    readonly maxDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Call `attempt` until it returns a value other than `undefined`, pausing with
 * exponential backoff (x1.6) between attempts; `undefined` once `timeoutMs` has passed.
 * The last attempt starts no later than the deadline. Errors thrown by `attempt` end the
 * polling (an attempt catches what it considers transient).
 */
export async function pollUntil<T>(attempt: () => Promise<T | undefined>, opts: PollOptions): Promise<T | undefined> {
    const deadline = Date.now() + Math.max(0, opts.timeoutMs);
    let delay = Math.max(1, opts.initialDelayMs ?? 250);
    const maxDelay = Math.max(delay, opts.maxDelayMs ?? 5000);
    for (;;) {
        const result = await attempt();
        if (result !== undefined) return result;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await sleep(Math.min(delay, left));
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
