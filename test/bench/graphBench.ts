// Cost of the Pulumi program as the swarm grows: resources and time to build the graph under
// mocks, for several host counts, each run in a fresh process (graph.ts), sizes interleaved
// so that a noisy minute hits every size alike.
import { spawn } from "node:child_process";
import * as path from "node:path";
import type { GraphSample } from "./graph";
import { Summary, round, summarize } from "./stats";

export interface GraphSize {
    hosts: number;
    resources: number;
    customResources: number;
    graphMs: Summary;
    moduleLoadMs: Summary;
    heapMiB: Summary;
    /** Median graph time / resources. */
    msPerResource: number;
}

export interface GraphSegment {
    from: number;
    to: number;
    resourcesPerHost: number;
    /** Added graph time per added host, from the medians. */
    msPerHost: number;
    /** The same, per round of runs (one run of every size each): its spread. */
    msPerHostByRound: Summary;
}

export interface GraphResults {
    target: "aws";
    runsPerSize: number;
    sizes: GraphSize[];
    segments: GraphSegment[];
    /** Per-host time slope of the last segment / of the first: 1 is linear, > 1 grows faster than linear. */
    slopeRatio: number;
    slopeRatioByRound: Summary;
    /** Resources per added host of the last segment / of the first. */
    resourceSlopeRatio: number;
    samples: Array<Omit<GraphSample, "byType">>;
    /** Resource counts by type at the largest size. */
    byTypeAtLargest: Record<string, number>;
}

const GRAPH_SCRIPT = path.join(__dirname, "graph.ts");
const ROOT = path.join(__dirname, "..", "..");

function runOnce(hosts: number): Promise<GraphSample> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", GRAPH_SCRIPT, String(hosts)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("error", reject);
        child.on("exit", (code) => {
            if (code !== 0) return reject(new Error(`graph.ts ${hosts} exited ${code}: ${err.trim().slice(-2000)}`));
            try {
                resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as GraphSample);
            } catch (e) {
                reject(new Error(`graph.ts ${hosts} printed no JSON: ${out.slice(0, 500)} ${err.slice(-500)}`));
            }
        });
    });
}

export async function runGraphBench(opts: { sizes?: number[]; runs?: number; log: (m: string) => void }): Promise<GraphResults> {
    const sizes = opts.sizes ?? [3, 30, 100];
    const runs = opts.runs ?? 5;
    const byRound: GraphSample[][] = [];
    // One warm-up run (file system caches, tsx's transform cache), not counted.
    opts.log(`graph: warm-up run (${sizes[0]} hosts)`);
    await runOnce(sizes[0]);
    for (let r = 0; r < runs; r++) {
        const round: GraphSample[] = [];
        for (const n of sizes) {
            const s = await runOnce(n);
            opts.log(`graph: round ${r + 1}/${runs}, ${n} hosts: ${s.resources} resources, graph ${s.graphMs} ms, module load ${s.moduleLoadMs} ms`);
            round.push(s);
        }
        byRound.push(round);
    }
    const all = byRound.flat();
    const sizeResults: GraphSize[] = sizes.map((n) => {
        const ss = all.filter((s) => s.hosts === n);
        const counts = new Set(ss.map((s) => s.resources));
        if (counts.size !== 1) throw new Error(`the program built different resource counts for ${n} hosts across runs: ${[...counts].join(", ")}`);
        const graphMs = summarize(ss.map((s) => s.graphMs));
        return {
            hosts: n,
            resources: ss[0].resources,
            customResources: ss[0].customResources,
            graphMs,
            moduleLoadMs: summarize(ss.map((s) => s.moduleLoadMs)),
            heapMiB: summarize(ss.map((s) => s.heapMiB)),
            msPerResource: round(graphMs.median / ss[0].resources, 2),
        };
    });
    const segments: GraphSegment[] = [];
    for (let i = 1; i < sizeResults.length; i++) {
        const a = sizeResults[i - 1];
        const b = sizeResults[i];
        const dh = b.hosts - a.hosts;
        segments.push({
            from: a.hosts,
            to: b.hosts,
            resourcesPerHost: round((b.resources - a.resources) / dh, 2),
            msPerHost: round((b.graphMs.median - a.graphMs.median) / dh, 2),
            msPerHostByRound: summarize(byRound.map((rd) => (rd[i].graphMs - rd[i - 1].graphMs) / dh), 2),
        });
    }
    const first = segments[0];
    const lastSeg = segments[segments.length - 1];
    const roundRatios = byRound.map((rd) => {
        const k = rd.length - 1;
        const s1 = (rd[1].graphMs - rd[0].graphMs) / (sizes[1] - sizes[0]);
        const s2 = (rd[k].graphMs - rd[k - 1].graphMs) / (sizes[k] - sizes[k - 1]);
        return s2 / s1;
    });
    return {
        target: "aws",
        runsPerSize: runs,
        sizes: sizeResults,
        segments,
        slopeRatio: round(lastSeg.msPerHost / first.msPerHost, 2),
        slopeRatioByRound: summarize(roundRatios, 2),
        resourceSlopeRatio: round(lastSeg.resourcesPerHost / first.resourcesPerHost, 2),
        samples: all.map(({ byType: _b, ...rest }) => rest),
        byTypeAtLargest: all.find((s) => s.hosts === sizes[sizes.length - 1])?.byType ?? {},
    };
}
