// Small statistics for noisy timings: medians with their spread, never a single run.

export interface Summary {
    n: number;
    median: number;
    min: number;
    max: number;
    /** Lower and upper quartile (linear interpolation). */
    q1: number;
    q3: number;
    /** (max - min) / median: how far apart the runs were, relative to the figure. */
    relSpread: number;
}

export function quantile(sorted: readonly number[], q: number): number {
    if (sorted.length === 0) return NaN;
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(values: readonly number[], digits = 1): Summary {
    const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    const median = quantile(s, 0.5);
    return {
        n: s.length,
        median: round(median, digits),
        min: round(s[0] ?? NaN, digits),
        max: round(s[s.length - 1] ?? NaN, digits),
        q1: round(quantile(s, 0.25), digits),
        q3: round(quantile(s, 0.75), digits),
        relSpread: s.length ? round((s[s.length - 1] - s[0]) / median, 3) : NaN,
    };
}

export function round(x: number, digits = 1): number {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
}

/** "1234 ms (1200–1300, n=5)" */
export function fmt(s: Summary, unit: string): string {
    return `${s.median} ${unit} (${s.min}–${s.max}, n=${s.n})`;
}
