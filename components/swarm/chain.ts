import type * as Ethers from "ethers";
import { DeadlineError, errorMessage, formatDuration, pollUntil } from "./poll";

export interface WaitForChainOptions {
    /** The chain id every node must report (`eth_chainId`). */
    readonly chainId: number;
    /** How long to wait for every node to be ready. */
    readonly timeoutMs: number;
    /** Timeout of one JSON-RPC request. Default 5000 ms. */
    readonly requestTimeoutMs?: number;
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
    /** Told what every node answered after each round that did not find them all ready. Default: nothing. */
    readonly onProgress?: (message: string) => void;
}

/** What one RPC endpoint last answered. */
export interface ChainNodeState {
    readonly url: string;
    chainId?: number;
    peers?: number;
    /** Head when first seen, and last seen. */
    firstHead?: number;
    head?: number;
    error?: string;
}

/** Thrown when the nodes are not ready in time; says what each URL answered. */
export class ChainNotReadyError extends Error {
    constructor(readonly states: readonly ChainNodeState[], chainId: number, timeoutMs: number) {
        const message =
            `chain ${chainId} not ready after ${formatDuration(timeoutMs)} (want: chain id ${chainId}, peers > 0, head advancing):\n` +
            states.map((s) => `  - ${s.url}: ${describe(s, chainId)}`).join("\n");
        super(message);
        // Set explicitly: in Pulumi's serialised dynamic provider, super() does not set it.
        this.message = message;
        this.name = "ChainNotReadyError";
    }
}

function describe(s: ChainNodeState, chainId: number): string {
    const parts: string[] = [];
    if (s.chainId !== undefined) parts.push(s.chainId === chainId ? `chain id ${s.chainId}` : `WRONG chain id ${s.chainId}`);
    if (s.peers !== undefined) parts.push(`${s.peers} peer${s.peers === 1 ? "" : "s"}`);
    if (s.head !== undefined) parts.push(s.head > (s.firstHead ?? s.head) ? `head ${s.firstHead} -> ${s.head}` : `head stuck at ${s.head}`);
    if (s.error) parts.push(`error: ${s.error}`);
    return parts.length === 0 ? "no answer" : parts.join(", ");
}

/** A JSON-RPC quantity (`0x1a`) as a number, or an error naming the method and what it answered. */
function quantity(method: string, v: unknown): number {
    if (typeof v === "string" && /^0x[0-9a-fA-F]{1,64}$/.test(v)) return Number(BigInt(v));
    let shown: string;
    try {
        shown = JSON.stringify(v) ?? String(v);
    } catch {
        shown = String(v);
    }
    throw new Error(`${method} answered ${shown.slice(0, 80)}, not a hex quantity`);
}

function ready(s: ChainNodeState, chainId: number): boolean {
    return s.error === undefined && s.chainId === chainId && (s.peers ?? 0) > 0 && s.head !== undefined && s.firstHead !== undefined && s.head > s.firstHead;
}

/**
 * Wait until every JSON-RPC URL answers with the expected chain id, has at least one peer
 * (`net_peerCount`) and a head block that has advanced since it was first seen.
 * Polls with backoff; a node that is ready stays ready (it is not asked again).
 *
 * @returns the last state of every URL.
 * @throws ChainNotReadyError listing what each URL answered.
 */
export async function waitForChain(rpcUrls: readonly string[], opts: WaitForChainOptions): Promise<ChainNodeState[]> {
    // Loaded here, not imported at the top: this function is serialised into Pulumi's
    // dynamic-provider process, where ethers must be required by name.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { FetchRequest, JsonRpcProvider } = require("ethers") as typeof Ethers;
    const states: ChainNodeState[] = rpcUrls.map((url) => ({ url }));
    const providers = rpcUrls.map((url) => {
        const req = new FetchRequest(url);
        req.timeout = opts.requestTimeoutMs ?? 5000;
        return new JsonRpcProvider(req, opts.chainId, { staticNetwork: true, batchMaxCount: 1 });
    });
    try {
        const done = await pollUntil(async ({ bound }) => {
            await Promise.all(
                states.map(async (s, i) => {
                    if (ready(s, opts.chainId)) return;
                    const p = providers[i];
                    // Each answer is kept on its own, so a failing call does not hide what the others saw.
                    const ask = async (method: string): Promise<number> => quantity(method, await bound(p.send(method, []) as Promise<unknown>, method));
                    const [chainId, peers, head] = await Promise.allSettled([ask("eth_chainId"), ask("net_peerCount"), ask("eth_blockNumber")]);
                    const errors: string[] = [];
                    let onlyCutOff = true;
                    const note = (method: string, r: PromiseSettledResult<number>, set: (v: number) => void) => {
                        if (r.status === "fulfilled") return set(r.value);
                        const msg = errorMessage(r.reason).split("\n")[0];
                        errors.push((msg.includes(method) ? msg : `${method}: ${msg}`).slice(0, 200));
                        if (!(r.reason instanceof DeadlineError)) onlyCutOff = false;
                    };
                    note("eth_chainId", chainId, (v) => (s.chainId = v));
                    note("net_peerCount", peers, (v) => (s.peers = v));
                    note("eth_blockNumber", head, (v) => {
                        s.head = v;
                        if (s.firstHead === undefined) s.firstHead = v;
                    });
                    // Calls cut off by the deadline do not hide the error an earlier attempt saw.
                    if (errors.length === 0) s.error = undefined;
                    else if (!onlyCutOff || s.error === undefined) s.error = errors.join("; ");
                }),
            );
            if (states.every((s) => ready(s, opts.chainId))) return true;
            opts.onProgress?.(
                `waiting for chain ${opts.chainId} (chain id, peers, head advancing): ${states.map((s) => `${s.url} ${ready(s, opts.chainId) ? "ready" : describe(s, opts.chainId)}`).join("; ")}`,
            );
            return undefined;
        }, { timeoutMs: opts.timeoutMs, initialDelayMs: opts.initialDelayMs ?? 1000, maxDelayMs: opts.maxDelayMs });
        if (!done) throw new ChainNotReadyError(states.map((s) => ({ ...s })), opts.chainId, opts.timeoutMs);
        return states.map((s) => ({ ...s }));
    } finally {
        for (const p of providers) p.destroy();
    }
}
