// Probes JSON-RPC endpoints from inside the engine's network namespace (where the local
// target publishes them on 127.0.0.1): `nsenter --net=<ns> tsx test/engine/probe.ts '<json>'`.
// For each URL it polls, within one bound, until the node answers with the chain id, has
// at least `minPeers` peers and a head above the first one it reported; it prints what it
// saw as JSON (one line) and exits 0 either way: the caller asserts. With `{ transfer: ... }`
// it sends ether from a key through one endpoint instead and reports the receipt.
import { hexToNumber } from "../lab/chain";

export interface ProbeRequest {
    urls: string[];
    timeoutMs: number;
    minPeers: number;
    /** Methods (no parameters) to call once an endpoint is ready; their answers go to `answers`. */
    alsoCall?: string[];
}

export interface EndpointState {
    url: string;
    chainId?: number;
    peers?: number;
    /** Head when first seen, and the last head seen. */
    firstHead?: number;
    head?: number;
    /** Milliseconds until the endpoint met every condition, if it did. */
    readyAfterMs?: number;
    /** What each of `alsoCall` answered: the result as JSON, or `error: <message>`. */
    answers?: Record<string, string>;
    error?: string;
}

/**
 * One JSON-RPC call, bounded by a timer of its own: a connection cut while its node
 * restarts can leave a fetch with nothing that keeps the process alive (AbortSignal's timer
 * does not), and the process would end without an answer.
 */
async function call(url: string, method: string): Promise<unknown> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            abort.abort();
            reject(new Error(`${method}: no answer within 5 s`));
        }, 5_000);
    });
    try {
        return await Promise.race([
            (async () => {
                const res = await fetch(url, {
                    method: "POST",
                    headers: { "content-type": "application/json" },
                    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
                    signal: abort.signal,
                });
                const body = (await res.json()) as { result?: unknown; error?: { message: string } };
                if (body.error) throw new Error(`${method}: ${body.error.message}`);
                return body.result ?? "";
            })(),
            deadline,
        ]);
    } finally {
        clearTimeout(timer);
    }
}

async function probe(url: string, req: ProbeRequest, t0: number): Promise<EndpointState> {
    const s: EndpointState = { url };
    while (Date.now() - t0 < req.timeoutMs) {
        try {
            s.chainId = hexToNumber(String(await call(url, "eth_chainId")));
            s.peers = hexToNumber(String(await call(url, "net_peerCount")));
            s.head = hexToNumber(String(await call(url, "eth_blockNumber")));
            s.firstHead ??= s.head;
            s.error = undefined;
            if (s.peers >= req.minPeers && s.head > s.firstHead) {
                s.readyAfterMs = Date.now() - t0;
                s.answers = {};
                for (const m of req.alsoCall ?? []) {
                    s.answers[m] = await call(url, m).then(
                        (v) => JSON.stringify(v),
                        (e: unknown) => `error: ${e instanceof Error ? e.message : String(e)}`,
                    );
                }
                return s;
            }
        } catch (e) {
            s.error = e instanceof Error ? `${e.message}${(e as { cause?: { code?: string } }).cause?.code ? ` (${(e as { cause?: { code?: string } }).cause?.code})` : ""}` : String(e);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
    return s;
}

/** A transfer to send: from the account of `key`, through `url`, to `to`. */
export interface TransferRequest {
    transfer: { url: string; key: string; to: string; valueEth: string; chainId: number; timeoutMs: number };
}

export interface TransferResult {
    from: string;
    balanceBefore: string;
    status?: number;
    blockNumber?: number;
    error?: string;
}

async function transfer(t: TransferRequest["transfer"]): Promise<TransferResult> {
    const { JsonRpcProvider, Wallet, formatEther, parseEther } = await import("ethers");
    const provider = new JsonRpcProvider(t.url, t.chainId, { staticNetwork: true });
    try {
        const wallet = new Wallet(t.key, provider);
        const result: TransferResult = { from: wallet.address, balanceBefore: formatEther(await provider.getBalance(wallet.address)) };
        try {
            const tx = await wallet.sendTransaction({ to: t.to, value: parseEther(t.valueEth) });
            const receipt = await tx.wait(1, t.timeoutMs);
            return { ...result, status: receipt?.status ?? undefined, blockNumber: receipt?.blockNumber };
        } catch (e) {
            return { ...result, error: e instanceof Error ? e.message : String(e) };
        }
    } finally {
        provider.destroy();
    }
}

if (require.main === module && "transfer" in JSON.parse(process.argv[2] ?? "{}")) {
    transfer((JSON.parse(process.argv[2]) as TransferRequest).transfer)
        .then((r) => process.stdout.write(`${JSON.stringify(r)}\n`))
        .catch((e) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        });
} else if (require.main === module) {
    const req = JSON.parse(process.argv[2] ?? "{}") as ProbeRequest;
    const t0 = Date.now();
    Promise.all(req.urls.map((u) => probe(u, req, t0)))
        .then((states) => process.stdout.write(`${JSON.stringify(states)}\n`))
        .catch((e) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        });
}
