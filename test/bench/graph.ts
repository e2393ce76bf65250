// One measurement of the Pulumi program's cost under mocks, for one swarm size, in a fresh
// process (the Pulumi runtime is global state: one program per process).
//
//   npx tsx test/bench/graph.ts <hosts>     # prints one JSON line on stdout
//
// The AWS target with one manager, one miner and <hosts> - 2 plain workers. Module loading
// (the providers' SDKs) is timed apart from building the graph: the first is a constant
// per run, the second is what grows with the swarm.
import { performance } from "node:perf_hooks";
import { countByType, installProgramMocks, valueOf } from "../unit/programMocks";

export interface GraphSample {
    hosts: number;
    workerCount: number;
    resources: number;
    /** Resources that are not components (what a provider would create). */
    customResources: number;
    /** Loading index.ts's imports (the Pulumi SDKs), before any resource exists. */
    moduleLoadMs: number;
    /** From running the program to the last resource registration, outputs resolved. */
    graphMs: number;
    /** Heap used after the graph is built, MiB. */
    heapMiB: number;
    byType: Record<string, number>;
}

async function main(): Promise<void> {
    const hosts = Number(process.argv[2]);
    if (!Number.isInteger(hosts) || hosts < 3 || hosts > 102) throw new Error(`usage: graph.ts <hosts 3..102>, got ${process.argv[2]}`);
    const workerCount = hosts - 2;
    const resources = installProgramMocks("dev", {
        "aws:region": "eu-west-1",
        "geth-swarm:target": "aws",
        "geth-swarm:zoneCount": "3",
        "geth-swarm:adminCidrs": '["81.2.69.142/32"]',
        "geth-swarm:managerCount": "1",
        "geth-swarm:workerCount": String(workerCount),
        "geth-swarm:minerCount": "1",
    });
    // Time of each registration: the graph is built when the last one has happened.
    let last = 0;
    const push = resources.push.bind(resources);
    resources.push = (...items) => {
        last = performance.now();
        return push(...items);
    };

    const t0 = performance.now();
    await import("../../components");
    const t1 = performance.now();
    const program = await import("../../index");
    await Promise.all([valueOf(program.rpcEndpoints), valueOf(program.enode), valueOf(program.managerApi), valueOf(program.signerAddresses)]);
    // Quiet: no new registration for 100 ms (registrations chained on outputs keep coming after the exports resolve).
    for (let seen = -1; seen !== resources.length; ) {
        seen = resources.length;
        await new Promise((r) => setTimeout(r, 100));
    }
    const graphMs = last - t1;
    const sample: GraphSample = {
        hosts,
        workerCount,
        resources: resources.length,
        customResources: resources.filter((r) => r.custom).length,
        moduleLoadMs: round(t1 - t0),
        graphMs: round(graphMs),
        heapMiB: round(process.memoryUsage().heapUsed / 2 ** 20),
        byType: countByType(resources),
    };
    const instances = sample.byType["aws:ec2/instance:Instance"] ?? 0;
    if (instances !== hosts) throw new Error(`expected ${hosts} EC2 instances, the program built ${instances}`);
    process.stdout.write(JSON.stringify(sample) + "\n");
}

const round = (x: number) => Math.round(x * 10) / 10;

main().then(
    () => process.exit(0),
    (e: unknown) => {
        process.stderr.write(`graph bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exit(1);
    },
);
