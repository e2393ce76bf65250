// Helpers for lab tests that talk to running geth nodes: JSON-RPC over a host's published
// port (from the root namespace), the geth console over IPC inside a task's container
// (`docker exec` on the engine of the host the task runs on), and random key material.
import { randomBytes, randomInt } from "node:crypto";
import { normalizePrivateKey } from "../../components/chain";
import type { Lab } from "./hosts";

/** A random secp256k1 private key: 64 lower-case hex digits, no 0x (what the stacks' secrets hold). */
export function randomKeyHex(): string {
    for (;;) {
        const hex = randomBytes(32).toString("hex");
        try {
            return normalizePrivateKey(hex);
        } catch {
            // 0 or >= n: astronomically rare, draw again
        }
    }
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random password of letters and digits (the shape the nodes stack generates). */
export function randomPassword(length = 32): string {
    return Array.from({ length }, () => ALNUM[randomInt(ALNUM.length)]).join("");
}

export class RpcError extends Error {
    constructor(
        message: string,
        readonly code?: string,
    ) {
        super(message);
        this.name = "RpcError";
    }
}

/** One JSON-RPC call over HTTP to ip:port; the result, or an RpcError (with the socket error code, e.g. ECONNREFUSED). */
export async function rpc<T = unknown>(ip: string, port: number, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<T> {
    let res: Response;
    try {
        res = await fetch(`http://${ip}:${port}/`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
            signal: AbortSignal.timeout(timeoutMs),
        });
    } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new RpcError(`${method} at ${ip}:${port}: ${cause?.code ?? (e instanceof Error ? e.message : String(e))}`, cause?.code ?? (e as { name?: string }).name);
    }
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new RpcError(`${method} at ${ip}:${port}: ${body.error.message}`);
    return body.result as T;
}

export const hexToNumber = (h: string) => Number(BigInt(h));

/** The ID of the running container of a swarm service's task on one host (that host's engine). */
export async function taskContainer(lab: Lab, hostName: string, serviceName: string): Promise<string> {
    const containers = await lab.host(hostName).docker.listContainers({
        filters: { label: [`com.docker.swarm.service.name=${serviceName}`], status: ["running"] },
    });
    if (containers.length !== 1) throw new Error(`${containers.length} running containers of ${serviceName} on ${hostName}, want 1`);
    return containers[0].Id;
}

/**
 * Evaluates JavaScript in the geth console of a service's task on a host
 * (`geth attach --exec <js> <ipc>` through `docker exec`). Wrap the expression in
 * `JSON.stringify(...)` to get structured values back.
 */
export async function gethConsole<T = unknown>(lab: Lab, hostName: string, serviceName: string, js: string, ipcPath: string): Promise<T> {
    const cid = await taskContainer(lab, hostName, serviceName);
    const r = await lab.docker(["exec", cid, "geth", "attach", "--exec", js, ipcPath], { host: hostName, timeoutMs: 30_000 });
    const out = r.stdout.trim();
    let v: unknown;
    try {
        v = JSON.parse(out);
    } catch {
        throw new Error(`geth console on ${hostName} (${serviceName}) printed ${JSON.stringify(out.slice(0, 300))} for ${js}; stderr: ${r.stderr.trim().slice(0, 300)}`);
    }
    // The console prints a string result quoted: JSON.stringify(...) comes back as a JSON string of JSON.
    if (typeof v === "string") {
        try {
            return JSON.parse(v) as T;
        } catch {
            return v as T;
        }
    }
    return v as T;
}
