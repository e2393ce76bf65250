// Draws test/bench/results.json as one SVG with three panels (program cost under mocks,
// time to a healthy lab network, throughput) and converts it to PNG with `rsvg-convert`
// (Debian: librsvg2-bin) when that is installed; the SVG is written either way.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { GraphResults } from "./graphBench";
import type { LabResults } from "./labBench";
import { BENCH_RESULTS, readResults } from "./results";
import type { ThroughputResults } from "./throughput";

export const CHART_SVG = path.join(__dirname, "results.svg");
export const CHART_PNG = path.join(__dirname, "results.png");

const W = 420;
const H = 340;
const M = { l: 62, r: 16, t: 46, b: 52 };
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const text = (x: number, y: number, s: string, o: { size?: number; anchor?: string; weight?: string; fill?: string; rotate?: boolean } = {}) =>
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${o.size ?? 11}" text-anchor="${o.anchor ?? "start"}" font-weight="${o.weight ?? "normal"}" fill="${o.fill ?? "#222"}"${o.rotate ? ` transform="rotate(-90 ${x.toFixed(1)} ${y.toFixed(1)})"` : ""}>${esc(s)}</text>`;
const line = (x1: number, y1: number, x2: number, y2: number, stroke = "#222", o: { width?: number; dash?: string } = {}) =>
    `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${stroke}" stroke-width="${o.width ?? 1}"${o.dash ? ` stroke-dasharray="${o.dash}"` : ""}/>`;
const rect = (x: number, y: number, w: number, h: number, fill: string) =>
    `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${fill}"/>`;

function niceMax(v: number): number {
    const p = 10 ** Math.floor(Math.log10(v || 1));
    for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
    return 10 * p;
}

/** A panel frame with a title, axes and y ticks; returns the plot area and the y scale. */
function frame(ox: number, title: string, subtitle: string, yMax: number, yLabel: string) {
    const x0 = ox + M.l;
    const x1 = ox + W - M.r;
    const y0 = H - M.b;
    const y1 = M.t;
    const y = (v: number) => y0 - (v / yMax) * (y0 - y1);
    const parts = [text(ox + W / 2, 18, title, { size: 13, anchor: "middle", weight: "bold" }), text(ox + W / 2, 33, subtitle, { size: 10, anchor: "middle", fill: "#555" })];
    for (let i = 0; i <= 4; i++) {
        const v = (yMax * i) / 4;
        parts.push(line(x0, y(v), x1, y(v), "#e4e4e4"), text(x0 - 6, y(v) + 4, String(Math.round(v * 10) / 10), { anchor: "end", size: 10 }));
    }
    parts.push(line(x0, y0, x1, y0), line(x0, y0, x0, y1), text(ox + 14, (y0 + y1) / 2, yLabel, { anchor: "middle", rotate: true, size: 10 }));
    return { x0, x1, y0, y1, y, parts };
}

function graphPanel(ox: number, g: GraphResults): string[] {
    const maxHosts = Math.max(...g.sizes.map((s) => s.hosts));
    const yMax = niceMax(Math.max(...g.sizes.map((s) => s.graphMs.max)) * 1.1);
    const f = frame(ox, "Pulumi program under mocks (AWS)", `graph build time; per-host slope ratio ${g.slopeRatio} (1 = linear)`, yMax, "ms (median, min–max)");
    const xMax = niceMax(maxHosts);
    const x = (h: number) => f.x0 + (h / xMax) * (f.x1 - f.x0);
    const p = f.parts;
    for (let i = 0; i <= 4; i++) {
        const h = (xMax * i) / 4;
        p.push(text(x(h), f.y0 + 14, String(h), { anchor: "middle", size: 10 }));
    }
    p.push(text((f.x0 + f.x1) / 2, f.y0 + 32, "swarm hosts (manager + workers + miner)", { anchor: "middle", size: 10 }));
    // The first segment's slope carried on: where a linear program would be.
    const [a, b] = g.sizes;
    const slope = (b.graphMs.median - a.graphMs.median) / (b.hosts - a.hosts);
    p.push(line(x(a.hosts), f.y(a.graphMs.median), x(maxHosts), f.y(a.graphMs.median + slope * (maxHosts - a.hosts)), "#999", { dash: "4 3" }));
    const pts = g.sizes.map((s) => `${x(s.hosts).toFixed(1)},${f.y(s.graphMs.median).toFixed(1)}`).join(" ");
    p.push(`<polyline points="${pts}" fill="none" stroke="${COLORS[0]}" stroke-width="2"/>`);
    for (const s of g.sizes) {
        const cx = x(s.hosts);
        p.push(line(cx, f.y(s.graphMs.min), cx, f.y(s.graphMs.max), COLORS[0]), line(cx - 4, f.y(s.graphMs.min), cx + 4, f.y(s.graphMs.min), COLORS[0]), line(cx - 4, f.y(s.graphMs.max), cx + 4, f.y(s.graphMs.max), COLORS[0]));
        p.push(`<circle cx="${cx.toFixed(1)}" cy="${f.y(s.graphMs.median).toFixed(1)}" r="3.5" fill="${COLORS[0]}"/>`);
        p.push(text(cx + (s.hosts === maxHosts ? -6 : 6), f.y(s.graphMs.max) - 8, `${s.resources} res.`, { size: 10, anchor: s.hosts === maxHosts ? "end" : "start" }));
    }
    p.push(line(f.x0 + 10, f.y1 + 4, f.x0 + 30, f.y1 + 4, "#999", { dash: "4 3" }), text(f.x0 + 34, f.y1 + 8, `3→30 slope extended (${Math.round(slope * 10) / 10} ms/host)`, { size: 10 }));
    return p;
}

function labPanel(ox: number, l: LabResults): string[] {
    const stages: Array<[string, (s: LabResults["sizes"][number]) => number]> = [
        ["swarm formed", (s) => s.swarmFormedSeconds.median],
        ["enode read back", (s) => s.swarmFormedSeconds.median + s.milestones.enodeReadBack.median],
        ["nodes running", (s) => s.swarmFormedSeconds.median + s.milestones.nodesRunning.median],
        ["first block", (s) => s.swarmFormedSeconds.median + s.milestones.firstBlock.median],
        ["all peered", (s) => s.swarmFormedSeconds.median + s.milestones.allPeered.median],
        ["heads equal", (s) => s.swarmFormedSeconds.median + Math.max(s.milestones.headsEqual.median, s.milestones.allPeered.median)],
    ];
    const yMax = niceMax(Math.max(...l.sizes.map((s) => s.totalSeconds.max)) * 1.1);
    const f = frame(ox, "Time to a healthy network (lab)", `medians; floor = geth start-up + 1 period = ${l.floor.floorSeconds} s`, yMax, "seconds");
    const p = f.parts;
    const n = l.sizes.length;
    const slot = (f.x1 - f.x0) / n;
    const bw = Math.min(60, slot * 0.5);
    for (const [i, s] of l.sizes.entries()) {
        const cx = f.x0 + slot * (i + 0.5);
        let prev = 0;
        for (const [k, [, at]] of stages.entries()) {
            const v = Math.max(prev, at(s));
            p.push(rect(cx - bw / 2, f.y(v), bw, f.y(prev) - f.y(v), COLORS[k]));
            prev = v;
        }
        const t = s.totalSeconds;
        p.push(line(cx + bw / 2 + 6, f.y(t.min), cx + bw / 2 + 6, f.y(t.max), "#222"));
        p.push(text(cx, f.y(prev) - 6, `${t.median} s = ${s.totalRatioToFloor}x`, { anchor: "middle", size: 10 }));
        p.push(text(cx, f.y0 + 14, `${s.hosts} hosts (n=${s.runs})`, { anchor: "middle", size: 10 }));
    }
    p.push(line(f.x0, f.y(l.floor.floorSeconds), f.x1, f.y(l.floor.floorSeconds), "#e15759", { dash: "5 3", width: 1.5 }));
    for (const [k, [name]] of stages.entries()) {
        const lx = f.x0 + (k % 3) * 112;
        const ly = f.y0 + 30 + Math.floor(k / 3) * 13;
        p.push(rect(lx, ly - 8, 9, 9, COLORS[k]), text(lx + 12, ly, name, { size: 9.5 }));
    }
    return p;
}

function throughputPanel(ox: number, t: ThroughputResults): string[] {
    const yMax = niceMax(Math.max(t.limitPerSecond, ...t.bursts.map((b) => Math.max(b.includedPerSecond, b.includedPerChainSecond))) * 1.1);
    const f = frame(ox, "Transfers included per second", `${t.hosts} hosts, period ${t.blockPeriodSeconds} s, gas limit ${t.gasLimit / 1e6}M`, yMax, "tx/s");
    const p = f.parts;
    const slot = (f.x1 - f.x0) / t.bursts.length;
    const bw = Math.min(44, slot * 0.3);
    for (const [i, b] of t.bursts.entries()) {
        const cx = f.x0 + slot * (i + 0.5);
        p.push(rect(cx - bw - 2, f.y(b.includedPerSecond), bw, f.y0 - f.y(b.includedPerSecond), COLORS[0]));
        p.push(rect(cx + 2, f.y(b.includedPerChainSecond), bw, f.y0 - f.y(b.includedPerChainSecond), COLORS[4]));
        p.push(text(cx - bw / 2 - 2, f.y(b.includedPerSecond) - 5, String(b.includedPerSecond), { anchor: "middle", size: 10 }));
        p.push(text(cx + bw / 2 + 2, f.y(b.includedPerChainSecond) - 5, String(b.includedPerChainSecond), { anchor: "middle", size: 10 }));
        p.push(text(cx, f.y0 + 14, b.variant, { anchor: "middle", size: 10 }));
        p.push(text(cx, f.y0 + 27, `${b.included}/${b.count} in, ${b.ratioToLimit}x limit`, { anchor: "middle", size: 9.5, fill: "#555" }));
    }
    p.push(line(f.x0, f.y(t.limitPerSecond), f.x1, f.y(t.limitPerSecond), "#e15759", { dash: "5 3", width: 1.5 }));
    p.push(text(f.x1 - 4, f.y(t.limitPerSecond) - 5, `limit ${t.limitPerSecond} tx/s`, { anchor: "end", size: 10, fill: "#e15759" }));
    p.push(rect(f.x0 + 8, f.y1 + 2, 9, 9, COLORS[0]), text(f.x0 + 20, f.y1 + 10, "wall clock", { size: 9.5 }));
    p.push(rect(f.x0 + 80, f.y1 + 2, 9, 9, COLORS[4]), text(f.x0 + 92, f.y1 + 10, "block timestamps", { size: 9.5 }));
    return p;
}

/** Writes the SVG (and the PNG when rsvg-convert is there); returns what was written. */
export async function drawChart(log: (m: string) => void, file = BENCH_RESULTS): Promise<string> {
    const r = readResults(file);
    const panels: Array<(ox: number) => string[]> = [];
    if (r.graph) panels.push((ox) => graphPanel(ox, r.graph as GraphResults));
    if (r.lab) panels.push((ox) => labPanel(ox, r.lab as LabResults));
    if (r.throughput) panels.push((ox) => throughputPanel(ox, r.throughput as ThroughputResults));
    if (panels.length === 0) throw new Error(`nothing to draw: ${file} has no graph, lab or throughput section`);
    const width = W * panels.length;
    const m = r.machine as { cpus?: number; cpuModel?: string; gitCommit?: string } | undefined;
    const body = panels.flatMap((draw, i) => draw(i * W));
    const foot = text(width - 6, H - 4, `${m?.cpus ?? "?"} CPUs, ${m?.cpuModel ?? "?"}; commit ${m?.gitCommit ?? "?"}`, { size: 9, anchor: "end", fill: "#777" });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="DejaVu Sans, Arial, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${[...body, foot].join("\n")}\n</svg>\n`;
    fs.writeFileSync(CHART_SVG, svg);
    try {
        execFileSync("rsvg-convert", ["-f", "png", "-o", CHART_PNG, CHART_SVG], { stdio: ["ignore", "ignore", "pipe"] });
        return CHART_PNG;
    } catch (e) {
        log(`chart: no PNG (${(e as NodeJS.ErrnoException).code === "ENOENT" ? "rsvg-convert not installed: apt-get install librsvg2-bin" : String(e)}); the SVG is ${CHART_SVG}`);
        return CHART_SVG;
    }
}
