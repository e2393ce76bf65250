// Prints the figures of test/bench/results.json (or of the file given) as Markdown tables
// (what BENCHMARKS.md quotes):
//   npx tsx test/bench/report.ts [results.json]
import type { EngineBenchResult } from "./engineBench";
import type { GraphResults } from "./graphBench";
import type { LabResults } from "./labBench";
import { readResults } from "./results";
import type { Summary } from "./stats";
import type { SuitesResults } from "./suites";
import type { ThroughputResults } from "./throughput";

const r = readResults(process.argv[2]);
const s = (x: Summary | undefined, unit = "") => (x && x.n > 0 ? `${x.median}${unit} (${x.min}–${x.max})` : "–");
const out: string[] = [];
const m = r.machine as Record<string, unknown> | undefined;
if (m) out.push(`Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, commit ${m.gitCommit}.`, "");

const g = r.graph as GraphResults | undefined;
if (g) {
    out.push(`### Pulumi program under mocks (AWS target, ${g.runsPerSize} runs per size, fresh process each)`, "");
    out.push("| hosts | resources | graph build, ms: median (min–max) | ms / resource | module load, ms |", "| --- | --- | --- | --- | --- |");
    for (const z of g.sizes) out.push(`| ${z.hosts} | ${z.resources} | ${s(z.graphMs)} | ${z.msPerResource} | ${s(z.moduleLoadMs)} |`);
    out.push("", "| hosts | resources / added host | ms / added host: from medians (per round: min–max) |", "| --- | --- | --- |");
    for (const z of g.segments) out.push(`| ${z.from}→${z.to} | ${z.resourcesPerHost} | ${z.msPerHost} (${z.msPerHostByRound.min}–${z.msPerHostByRound.max}) |`);
    out.push("", `Per-host time slope ratio (${g.segments[g.segments.length - 1].from}→${g.segments[g.segments.length - 1].to} over ${g.segments[0].from}→${g.segments[0].to}): **${g.slopeRatio}** (per round ${g.slopeRatioByRound.min}–${g.slopeRatioByRound.max}); resource slope ratio ${g.resourceSlopeRatio}.`, "");
}

const l = r.lab as LabResults | undefined;
if (l) {
    out.push(`### Time to a healthy network (lab, block period ${l.blockPeriodSeconds} s), seconds: median (min–max)`, "");
    out.push(
        `Floor: geth start-up as a swarm service ${s(l.floor.serviceStartSeconds)} (as a bare process ${s(l.floor.processStartSeconds)}) + one period = **${l.floor.floorSeconds} s**.`,
        "",
    );
    out.push(
        "| hosts | runs ok / failed | swarm formed | boot running | enode read back | nodes deployed | nodes running | first block | all peered | heads equal | total | total / floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const z of l.sizes) {
        const k = z.milestones;
        out.push(
            `| ${z.hosts} | ${z.runs} / ${z.failedRuns} | ${s(z.swarmFormedSeconds)} | ${s(k.bootRunning)} | ${s(k.enodeReadBack)} | ${s(k.nodesDeployed)} | ${s(k.nodesRunning)} | ${s(k.firstBlock)} | ${s(k.allPeered)} | ${s(k.headsEqual)} | ${s(z.totalSeconds)} | **${z.totalRatioToFloor}** |`,
        );
    }
    out.push("", "Milestones after *swarm formed* are seconds from the start of the deploy (labels, boot stack, nodes stack).", "");
    for (const f of l.runs.filter((x) => x.failed)) out.push(`- failed run: ${f.hosts} hosts, round ${f.round} (boot host ${f.bootHost}): ${(f.failed ?? "").slice(0, 400)}`);
    out.push("");
}

const t = r.throughput as ThroughputResults | undefined;
if (t) {
    out.push(`### Throughput (${t.hosts} hosts, period ${t.blockPeriodSeconds} s, gas limit ${t.gasLimit}; limit ${t.transfersPerBlock} transfers/block = ${t.limitPerSecond} tx/s; RPC round trip ${t.rpcLatencyMs} ms)`, "");
    out.push("| burst | accepted | included | submit rate, tx/s | wall, s | included tx/s (wall) | tx/s (block time) | / limit | txs per block |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const b of t.bursts) {
        out.push(
            `| ${b.variant} | ${b.accepted}/${b.count} | ${b.included} | ${b.submitPerSecond} | ${b.wallSeconds}${b.cappedAt ? " (capped)" : ""} | ${b.includedPerSecond} | ${b.includedPerChainSecond} | **${b.ratioToLimit}** | ${b.blocks.map((x) => x.txs).join(", ")} |`,
        );
    }
    for (const b of t.bursts) if (b.rejected) out.push("", `Rejected (${b.variant}): ${JSON.stringify(b.rejections)}`);
    out.push("");
}

for (const [section, title] of [["suites", "Test suites (wall time, seconds)"], ["suitesLoaded", "Test suites beside CPU-bound processes (wall time, seconds)"]] as const) {
    const su = r[section] as SuitesResults | undefined;
    if (!su) continue;
    const where = [su.commit ? `commit ${su.commit}` : "", su.load ? `${su.load} CPU-bound processes beside every run` : ""].filter(Boolean).join(", ");
    out.push(`### ${title}${where ? ` (${where})` : ""}`, "", "| command | runs | median (min–max) | passed |", "| --- | --- | --- | --- |");
    for (const x of [su.unit, su.lab, su.engine]) {
        if (!x) continue;
        const tests = [...new Set(x.runs.map((y) => y.tests).filter(Boolean))].join("; ").replace(/\|/g, "\\|");
        const failed = x.runs.filter((y) => y.exitCode !== 0).length;
        const passed = x.allPassed ? `${x.runs.length} of ${x.runs.length}${tests ? `, ${tests}` : ""}` : `${x.runs.length - failed} of ${x.runs.length} (exit ${x.runs.map((y) => y.exitCode).join(", ")}; ${tests})`;
        const waited = x.runs.filter((y) => y.waitedForLab).length;
        const at = x.commit ? ` (commit ${x.commit})` : "";
        out.push(`| \`${x.command}\`${at} | ${x.runs.length} | ${s(x.wallSeconds)}${waited ? ` (${waited} run(s) waited for another lab)` : ""} | ${passed} |`);
    }
    if (!su.lab) out.push(`| \`npm run test:lab\` | – | not measured${su.labSkipped ? ` (${su.labSkipped})` : ""} | – |`);
    out.push("");
}

const e = r.engine as EngineBenchResult | undefined;
if (e) {
    const passing = e.runs.filter((x) => x.exitCode === 0).length;
    out.push(`### The real \`pulumi up\` (engine tier, commit ${e.commit}, ${passing} of ${e.runs.length} runs passed)`, "", "| figure | seconds: median (min–max) | n |", "| --- | --- | --- |");
    for (const [k, v] of Object.entries(e.figures)) out.push(`| ${k} | ${s(v)} | ${v.n} |`);
    out.push("", `\`pulumi up\` to a healthy network / the lab's total for 3 hosts (${e.labTotalSeconds ?? "–"} s): **${e.upToLabRatio ?? "–"}**`, "");
}
process.stdout.write(out.join("\n") + "\n");
