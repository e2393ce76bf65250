// `npm run bench [-- <part>...] [--runs N]`: measures what users feel and writes the figures
// to test/bench/results.json (one section per part), then draws test/bench/results.png.
//
//   graph       the Pulumi program under mocks at 3, 30 and 100 hosts (no lab, ~2 min)
//   lab         time to a healthy network on the lab swarm at 3, 6 and 9 hosts, and the
//               floor it is compared with (geth start-up + one Clique period); root, Linux
//   throughput  a bounded burst of transfers through one node's RPC; root, Linux
//   suites      wall time of `npm test` (x3), of `npm run test:lab` (x1; --lab-suite-runs 0 skips it)
//               and of `npm run test:engine` (--engine-suite-runs N, default 0); with --load N,
//               N CPU-bound processes run beside each (figures in the section suitesLoaded)
//   engine      the real `pulumi up` (the engine tier, x3): up to healthy, no-op preview, refresh,
//               grow, destroy, and up's ratio to the lab's time for the same hosts; root, Linux
//   chart       only redraw the chart from results.json
//
// No part asserts a timing; each prints progress lines as it goes (the whole run takes many
// minutes) and rewrites only its own section of results.json.
import { BENCH_RESULTS, readResults, writeSection } from "./results";
import type { SuitesResults } from "./suites";

const PARTS = ["graph", "lab", "throughput", "suites", "engine", "chart"] as const;
type Part = (typeof PARTS)[number];

const t0 = Date.now();
function log(m: string): void {
    const s = ((Date.now() - t0) / 1000).toFixed(0).padStart(5);
    process.stderr.write(`[bench ${s}s] ${m}\n`);
}

interface Options {
    parts: Part[];
    runs?: number;
    sizes?: number[];
    labSuiteRuns?: number;
    engineSuiteRuns?: number;
    load?: number;
}

function parseArgs(argv: string[]): Options {
    const parts: Part[] = [];
    let runs: number | undefined;
    let sizes: number[] | undefined;
    let labSuiteRuns: number | undefined;
    let engineSuiteRuns: number | undefined;
    let load: number | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--runs") runs = Number(argv[++i]);
        else if (a === "--lab-suite-runs") labSuiteRuns = Number(argv[++i]);
        else if (a === "--engine-suite-runs") engineSuiteRuns = Number(argv[++i]);
        else if (a === "--load") load = Number(argv[++i]);
        else if (a === "--sizes") sizes = argv[++i].split(",").map(Number);
        else if ((PARTS as readonly string[]).includes(a)) parts.push(a as Part);
        else if (a === "-h" || a === "--help") {
            process.stdout.write(`usage: npm run bench [-- ${PARTS.join("|")} ...] [--runs N] [--sizes a,b,c] [--lab-suite-runs N] [--engine-suite-runs N] [--load N]\n`);
            process.exit(0);
        } else throw new Error(`unknown argument ${a}; parts are ${PARTS.join(", ")}`);
    }
    if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new Error("--runs takes a positive integer");
    for (const [flag, v] of [["--lab-suite-runs", labSuiteRuns], ["--engine-suite-runs", engineSuiteRuns], ["--load", load]] as const) {
        if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new Error(`${flag} takes a non-negative integer`);
    }
    if (sizes && sizes.some((n) => !Number.isInteger(n))) throw new Error("--sizes takes integers, e.g. 3,30,100");
    return { parts: parts.length ? parts : ["graph", "lab", "throughput", "suites", "engine", "chart"], runs, sizes, labSuiteRuns, engineSuiteRuns, load };
}

async function main(): Promise<void> {
    const o = parseArgs(process.argv.slice(2));
    log(`parts: ${o.parts.join(", ")}; results: ${BENCH_RESULTS}`);
    for (const part of o.parts) {
        const t = Date.now();
        log(`--- ${part}`);
        switch (part) {
            case "graph": {
                const { runGraphBench } = await import("./graphBench");
                const r = await runGraphBench({ sizes: o.sizes, runs: o.runs, log });
                writeSection("graph", r);
                for (const s of r.sizes) log(`graph: ${s.hosts} hosts: ${s.resources} resources, ${s.graphMs.median} ms (${s.graphMs.min}–${s.graphMs.max}), ${s.msPerResource} ms/resource`);
                for (const s of r.segments) log(`graph: ${s.from}→${s.to} hosts: ${s.resourcesPerHost} resources/host, ${s.msPerHost} ms/host`);
                log(`graph: per-host time slope ratio (last/first segment) ${r.slopeRatio} (per round ${r.slopeRatioByRound.min}–${r.slopeRatioByRound.max})`);
                break;
            }
            case "lab": {
                const { runLabBench } = await import("./labBench");
                writeSection("lab", await runLabBench({ sizes: o.sizes, runs: o.runs, log }));
                break;
            }
            case "throughput": {
                const { runThroughputBench } = await import("./throughput");
                writeSection("throughput", await runThroughputBench({ log }));
                break;
            }
            case "suites": {
                const { runSuitesBench } = await import("./suites");
                const r = await runSuitesBench({ runs: o.runs, labRuns: o.labSuiteRuns, engineRuns: o.engineSuiteRuns, load: o.load, log });
                const section = o.load ? "suitesLoaded" : "suites";
                // A suite not run this time keeps its last figures, with the commit they were measured on.
                const before = readResults()[section] as SuitesResults | undefined;
                if (before && (before.load ?? 0) === (r.load ?? 0)) {
                    if (!r.lab && before.lab) {
                        r.lab = { ...before.lab, commit: before.lab.commit ?? before.commit };
                        delete r.labSkipped;
                    }
                    if (!r.engine && before.engine) r.engine = { ...before.engine, commit: before.engine.commit ?? before.commit };
                }
                writeSection(section, r);
                break;
            }
            case "engine": {
                const { runEngineBench } = await import("./engineBench");
                const r = await runEngineBench({ runs: o.runs, log });
                writeSection("engine", r);
                for (const [k, v] of Object.entries(r.figures)) log(`engine: ${k} ${v.median} s (${v.min}–${v.max}, n=${v.n})`);
                log(`engine: pulumi up / lab total for 3 hosts: ${r.upToLabRatio ?? "-"} (lab ${r.labTotalSeconds ?? "-"} s)`);
                break;
            }
            case "chart":
                log(`chart: ${await (await import("./chart")).drawChart(log)}`);
                break;
        }
        log(`--- ${part} done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
    log(`all done; figures in ${BENCH_RESULTS}`);
}

main().then(
    () => process.exit(0),
    (e: unknown) => {
        log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        process.exit(1);
    },
);
