import { monitorEventLoopDelay } from "node:perf_hooks";
import { expect } from "vitest";

/** A call's wall time, and how late this process's timers ran meanwhile. */
export interface Measured {
    readonly ms: number;
    /** The event loop's largest delay during the call, in ms: time the process was not scheduled, or was busy. */
    readonly lagMs: number;
}

/**
 * Runs `call` and measures its wall time and the event loop's largest delay meanwhile. A
 * bound checked in wall time is exceeded on a loaded machine by however long the process
 * was not scheduled, which the test does not control; the delay is what it was.
 */
export async function measure<T>(call: () => Promise<T>): Promise<Measured & { value?: T; error?: unknown }> {
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = performance.now();
    try {
        const value = await call();
        return { value, ms: performance.now() - t0, lagMs: h.max / 1e6 };
    } catch (error) {
        return { error, ms: performance.now() - t0, lagMs: h.max / 1e6 };
    } finally {
        h.disable();
    }
}

/**
 * Expects the call to have ended within `bound` + `margin` ms of the test's own making,
 * plus three times the event loop's largest delay (a deadline timer, the retry that notices
 * it and the answer each run late by up to that much). A call that waited for one more
 * attempt, or hung, still fails.
 */
export function expectWithin(m: Measured, bound: number, margin: number): void {
    const allowed = bound + margin + 3 * m.lagMs;
    expect(m.ms, `took ${Math.round(m.ms)} ms; allowed ${bound} + ${margin} + 3 x ${Math.round(m.lagMs)} ms of event loop delay`).toBeLessThan(allowed);
}
