// Chain throughput: a bounded burst of plain transfers through one node host's JSON-RPC, on
// a 3-host lab network with the project's default chain settings. Counts transactions
// included in blocks per second, against the limit the chain allows:
// floor(block gas limit / 21000) per block period.
//
// Variants tell the limits apart: one sender (a single account's nonce sequence: the
// txpool's per-account limits apply) and several senders (the same count spread out).
// Transactions are signed up front (ethers, nonces counted locally) so the clock measures
// the network, not the signing; they go out through eth_sendRawTransaction with a fixed
// number in flight. Only lab addresses, only the lab's chain.
import { BaseWallet, Wallet, parseEther } from "ethers";
import { hexToNumber as hexNum, rpc } from "../lab/chain";
import { Network, deployNetwork } from "../lab/deploy";
import { startLab } from "../lab/hosts";
import { benchOverrides, labConfig, labHostsFor } from "./labNetwork";
import { round } from "./stats";

const TRANSFER_GAS = 21_000n;

export interface BlockSample {
    number: number;
    txs: number;
    gasUsed: number;
    gasLimit: number;
    baseFeeGwei: number;
    timestamp: number;
    /** When the bench first saw the block, seconds from the first send. */
    seenAt: number;
}

export interface PoolSample {
    at: number;
    node: { pending: number; queued: number };
    miner: { pending: number; queued: number };
}

export interface BurstResult {
    variant: string;
    senders: number;
    count: number;
    inFlight: number;
    accepted: number;
    rejected: number;
    rejections: Record<string, number>;
    /** eth_sendRawTransaction calls answered per second. */
    submitPerSecond: number;
    submitSeconds: number;
    included: number;
    /** First send to the first sight of the block that holds the last included transaction. */
    wallSeconds: number;
    cappedAt?: number;
    /** Included / wall seconds. */
    includedPerSecond: number;
    /** Included / (timestamp of the last block with our transactions - timestamp of the head before the burst). */
    includedPerChainSecond: number;
    ratioToLimit: number;
    blocks: BlockSample[];
    pool: PoolSample[];
}

export interface ThroughputResults {
    hosts: number;
    blockPeriodSeconds: number;
    gasLimit: number;
    /** floor(gasLimit / 21000) transfers per block. */
    transfersPerBlock: number;
    /** transfersPerBlock / period. */
    limitPerSecond: number;
    rpcHost: string;
    /** Set when not every node was healthy before the burst (the RPC node and the signer were). */
    networkUnhealthy?: string;
    timeCapSeconds: number;
    /** Round-trip of eth_blockNumber to the RPC host, ms (median of 50). */
    rpcLatencyMs: number;
    bursts: BurstResult[];
}

async function poolStatus(net: Network, host: string): Promise<{ pending: number; queued: number }> {
    return net.console<{ pending: number; queued: number }>(host, "JSON.stringify(txpool.status)");
}

/** JSON-RPC calls to one node host of the network. */
function rpcOf(net: Network, host: string) {
    const ip = net.lab.host(host).ip;
    return <T = unknown>(method: string, params: unknown[] = [], timeoutMs?: number) => rpc<T>(ip, net.config.ports.rpc, method, params, timeoutMs);
}

async function burst(
    net: Network,
    rpcHost: string,
    wallets: BaseWallet[],
    count: number,
    inFlight: number,
    capSeconds: number,
    log: (m: string) => void,
): Promise<BurstResult> {
    const { config } = net;
    const call = rpcOf(net, rpcHost);
    const variant = `${wallets.length} sender${wallets.length > 1 ? "s" : ""} x ${count / wallets.length}`;
    // Nonces from the chain once, then counted locally.
    const nonces = await Promise.all(wallets.map(async (w) => hexNum(await call<string>("eth_getTransactionCount", [w.address, "pending"]))));
    const to = Wallet.createRandom().address;
    const signed: string[] = [];
    const per = count / wallets.length;
    // Interleaved by sender, each sender's nonces in order.
    for (let i = 0; i < per; i++) {
        for (const [k, w] of wallets.entries()) {
            signed.push(
                await w.signTransaction({
                    type: 2,
                    chainId: config.chain.chainId,
                    nonce: nonces[k] + i,
                    to,
                    value: parseEther("0.001"),
                    gasLimit: TRANSFER_GAS,
                    maxFeePerGas: 100n * 10n ** 9n,
                    maxPriorityFeePerGas: 10n ** 9n,
                }),
            );
        }
    }
    const startHead = await call<{ number: string; timestamp: string }>("eth_getBlockByNumber", ["latest", false]);
    const startNumber = hexNum(startHead.number);
    log(`throughput: ${variant}: ${signed.length} signed; head #${startNumber}; sending with ${inFlight} in flight`);

    const t0 = Date.now();
    const at = () => (Date.now() - t0) / 1000;
    let accepted = 0;
    const rejections: Record<string, number> = {};
    let next = 0;
    const sender = async () => {
        while (next < signed.length && at() < capSeconds) {
            const raw = signed[next++];
            try {
                await call("eth_sendRawTransaction", [raw], 10_000);
                accepted++;
            } catch (e) {
                const m = (e instanceof Error ? e.message : String(e)).replace(/^eth_sendRawTransaction at \S+: /, "").replace(/0x[0-9a-f]+/gi, "0x…").slice(0, 80);
                rejections[m] = (rejections[m] ?? 0) + 1;
            }
        }
    };
    const sending = Promise.all(Array.from({ length: inFlight }, sender)).then(() => at());

    // Blocks as they come, and where the pending transactions sit (the node that took them, the signer).
    const blocks: BlockSample[] = [];
    const pool: PoolSample[] = [];
    let seen = startNumber;
    let included = 0;
    let done = false;
    let submitSeconds = NaN;
    void sending.then((s) => (submitSeconds = s));
    const poolLoop = (async () => {
        while (!done) {
            try {
                const t = at();
                const [node, miner] = await Promise.all([poolStatus(net, rpcHost), poolStatus(net, net.minerHosts[0])]);
                pool.push({ at: round(t), node, miner });
            } catch {
                // a missed sample
            }
            await new Promise((r) => setTimeout(r, 1_500));
        }
    })();
    let lastIncludedAt = 0;
    while (at() < capSeconds) {
        const head = hexNum(await call<string>("eth_blockNumber"));
        for (let n = seen + 1; n <= head; n++) {
            const b = await call<{ number: string; transactions: string[]; gasUsed: string; gasLimit: string; baseFeePerGas?: string; timestamp: string }>("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
            const sample: BlockSample = {
                number: n,
                txs: b.transactions.length,
                gasUsed: hexNum(b.gasUsed),
                gasLimit: hexNum(b.gasLimit),
                baseFeeGwei: round(Number(BigInt(b.baseFeePerGas ?? "0x0")) / 1e9, 3),
                timestamp: hexNum(b.timestamp),
                seenAt: round(at()),
            };
            blocks.push(sample);
            if (sample.txs > 0) {
                included += sample.txs;
                lastIncludedAt = sample.seenAt;
            }
            log(`throughput: ${variant}: block #${n}: ${sample.txs} txs (${Math.round((100 * sample.gasUsed) / sample.gasLimit)}% gas), ${included}/${accepted} included at ${sample.seenAt} s`);
        }
        seen = head;
        if (!Number.isNaN(submitSeconds) && included >= accepted) break;
        await new Promise((r) => setTimeout(r, 200));
    }
    const cappedAt = at() >= capSeconds ? capSeconds : undefined;
    await sending;
    done = true;
    await poolLoop;
    const withOurs = blocks.filter((b) => b.txs > 0);
    const chainSpan = withOurs.length ? withOurs[withOurs.length - 1].timestamp - hexNum(startHead.timestamp) : NaN;
    const includedPerSecond = round(included / lastIncludedAt, 1);
    const limit = Number(config.chain.gasLimit / TRANSFER_GAS) / config.chain.blockPeriod;
    return {
        variant,
        senders: wallets.length,
        count,
        inFlight,
        accepted,
        rejected: signed.length - accepted,
        rejections,
        submitSeconds: round(submitSeconds, 2),
        submitPerSecond: round(accepted / submitSeconds, 0),
        included,
        wallSeconds: lastIncludedAt,
        cappedAt,
        includedPerSecond,
        includedPerChainSecond: round(included / chainSpan, 1),
        ratioToLimit: round(includedPerSecond / limit, 3),
        blocks,
        pool,
    };
}

export async function runThroughputBench(opts: { log: (m: string) => void; count?: number; capSeconds?: number; inFlight?: number }): Promise<ThroughputResults> {
    const { log } = opts;
    const count = opts.count ?? 2000;
    const cap = opts.capSeconds ?? 120;
    const inFlight = opts.inFlight ?? 16;
    const many = 8;
    const single = Wallet.createRandom();
    const spread = Array.from({ length: many }, () => Wallet.createRandom());
    const prefund = [single.address, ...spread.map((w) => w.address)];
    const plan = labConfig(3, prefund);
    log(`throughput: 3-host lab, block period ${plan.chain.blockPeriod} s, gas limit ${plan.chain.gasLimit}`);
    const lab = await startLab({ hosts: labHostsFor(plan), log: (m) => log(`  [lab] ${m}`) });
    try {
        const net = await deployNetwork(lab, { configOverrides: benchOverrides(3, prefund), timeoutMs: 120_000 });
        const { config } = net;
        // The burst needs the RPC node and the signer to be peers, not every node healthy.
        let unhealthy: string | undefined;
        await net.waitHealthy(120_000).catch((e: unknown) => {
            unhealthy = e instanceof Error ? e.message : String(e);
            log(`  not healthy, going on: ${unhealthy}`);
        });
        // A node host other than the boot host (whose node is the one seen to stay without peers).
        const rpcHost = net.nodeHosts.find((h) => h !== config.bootHost) ?? net.nodeHosts[0];
        const call = rpcOf(net, rpcHost);
        const head = await call<string>("eth_blockNumber");
        const peers = await call<string>("net_peerCount");
        if (hexNum(head) === 0 || hexNum(peers) === 0) throw new Error(`the RPC node ${rpcHost} has ${hexNum(peers)} peers at block ${hexNum(head)}: no burst possible`);
        const lat: number[] = [];
        for (let i = 0; i < 50; i++) {
            const t = performance.now();
            await call("eth_blockNumber");
            lat.push(performance.now() - t);
        }
        lat.sort((a, b) => a - b);
        const bursts: BurstResult[] = [];
        for (const wallets of [[single], spread]) {
            const r = await burst(net, rpcHost, wallets, count, inFlight, cap, log);
            log(
                `throughput: ${r.variant}: ${r.included}/${r.count} included in ${r.wallSeconds} s = ${r.includedPerSecond} tx/s (${r.ratioToLimit} of the limit); ` +
                    `submitted at ${r.submitPerSecond} tx/s; rejected ${r.rejected} ${JSON.stringify(r.rejections)}`,
            );
            bursts.push(r);
            // Let the chain go quiet between variants.
            await new Promise((res) => setTimeout(res, config.chain.blockPeriod * 1000 * 2));
        }
        const perBlock = Number(config.chain.gasLimit / TRANSFER_GAS);
        return {
            hosts: 3,
            blockPeriodSeconds: config.chain.blockPeriod,
            gasLimit: Number(config.chain.gasLimit),
            transfersPerBlock: perBlock,
            limitPerSecond: round(perBlock / config.chain.blockPeriod, 1),
            rpcHost,
            networkUnhealthy: unhealthy?.slice(0, 1000),
            timeCapSeconds: cap,
            rpcLatencyMs: round(lat[25], 2),
            bursts,
        };
    } finally {
        await lab.teardown();
    }
}
