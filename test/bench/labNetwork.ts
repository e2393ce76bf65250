// The lab bench's network: the project's config with its default chain settings (not the lab
// tests' 2 s blocks), deployed by test/lab/deploy.ts's deployNetwork (node labels, boot stack,
// enode read back, nodes stack, as `pulumi up` does), with the time each milestone a user
// waits for is first seen: the phases deployNetwork reports, then the first block, every geth
// peered and all heads equal, watched from the moment the nodes stack is deployed.
import { keySpec, resolveConfig, type RawConfig } from "../../components/config";
import type { GethSwarmConfig } from "../../components/config/types";
import { LAB_DEFAULTS, deployNetwork, type EarlyNetwork, type NodeView } from "../lab/deploy";
import { waitFor } from "../lab/exec";
import type { Lab } from "../lab/hosts";

/**
 * Raw config of a bench network of `hostCount` hosts (manager, hostCount - 2 workers, one
 * miner) with the project's default block period; for deploy.ts's `configOverrides`.
 */
export function benchOverrides(hostCount: number, prefundAccounts: string[]): RawConfig {
    return { workerCount: hostCount - 2, prefundAccounts, blockPeriod: keySpec("blockPeriod")?.default };
}

/** The resolved config of that network, as the lab deploys it. */
export function labConfig(hostCount: number, prefundAccounts: string[]): GethSwarmConfig {
    return resolveConfig({ ...LAB_DEFAULTS, ...benchOverrides(hostCount, prefundAccounts) });
}

/** Lab host specs that match the config's host plan, in order (the first is the manager). */
export function labHostsFor(config: GethSwarmConfig) {
    return config.hosts.map((h) => ({ name: h.name, role: h.role }));
}

export interface Milestones {
    /** Seconds from the start of the deploy (labels applied first, as BootStack does). */
    labelsApplied?: number;
    bootRunning?: number;
    enodeReadBack?: number;
    /** `docker stack deploy` of the nodes stack returned (secrets created first). */
    nodesDeployed?: number;
    nodesRunning?: number;
    firstBlock?: number;
    allPeered?: number;
    headsEqual?: number;
    /** When each host's geth first had a peer. */
    firstPeerByHost?: Record<string, number>;
}

/**
 * Deploys boot then nodes on `lab` with the bench's `overrides` and waits until every geth
 * has a peer and all heads are equal (throws after timeoutMs). Milestones are seconds from
 * the call.
 */
export async function deployTimed(lab: Lab, overrides: RawConfig, log: (m: string) => void, timeoutMs = 300_000): Promise<Milestones> {
    const t0 = Date.now();
    const since = () => Math.round((Date.now() - t0) / 100) / 10;
    const ms: Milestones = {};

    // From the nodes deploy on: RPC views of the nodes every 250 ms; the signers (console over
    // `docker exec`, slower) in their own loop, so they do not slow the others down.
    const latest = new Map<string, NodeView>();
    let hostCount = Infinity;
    let done = false;
    const loops: Promise<void>[] = [];
    const record = () => {
        const views = [...latest.values()];
        for (const v of views) if (v.peers > 0) (ms.firstPeerByHost ??= {})[v.host] ??= since();
        if (ms.firstBlock === undefined && views.some((v) => v.number > 0)) ms.firstBlock = since();
        if (views.length < hostCount) return;
        if (ms.allPeered === undefined && views.every((v) => v.peers > 0)) ms.allPeered = since();
        if (ms.headsEqual === undefined && views.every((v) => v.number > 0 && v.number === views[0].number && v.hash === views[0].hash)) ms.headsEqual = since();
    };
    const loop = async (hosts: string[], view: (h: string) => Promise<NodeView>, everyMs: number) => {
        while (!done) {
            await Promise.all(
                hosts.map((h) =>
                    view(h).then(
                        (v) => latest.set(h, v),
                        () => latest.delete(h),
                    ),
                ),
            );
            record();
            await new Promise((r) => setTimeout(r, everyMs));
        }
    };
    const watch = (net: EarlyNetwork) => {
        hostCount = net.allHosts.length;
        loops.push(loop(net.nodeHosts, net.view, 250), loop(net.minerHosts, net.view, 250));
    };

    try {
        await deployNetwork(lab, {
            configOverrides: overrides,
            timeoutMs,
            onPhase: (phase, _seconds, net) => {
                ms[phase] = since();
                if (phase === "enodeReadBack" || phase === "bootRunning") log(`  ${phase} ${ms[phase]} s`);
                if (phase === "nodesDeployed" && net) watch(net);
                if (phase === "nodesRunning") log(`  nodes stack running ${ms.nodesRunning} s`);
            },
        });
        await waitFor("every geth peered and all heads equal", async () => (ms.allPeered !== undefined && ms.headsEqual !== undefined ? true : undefined), timeoutMs, 100);
    } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}; last views: ${JSON.stringify([...latest.values()])}`);
    } finally {
        done = true;
        await Promise.all(loops);
    }
    log(`  first block ${ms.firstBlock} s, all peered ${ms.allPeered} s, heads equal ${ms.headsEqual} s; first peer by host ${JSON.stringify(ms.firstPeerByHost)}`);
    return ms;
}
