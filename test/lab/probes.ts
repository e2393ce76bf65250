// Network probes for lab tests, run from the root namespace (which reaches every lab host
// over the lab bridge): a discovery v4 PING that a bootnode or geth answers with a signed
// PONG (so a UDP port is proven to reach *that* node), a TCP connect and an HTTP GET.
import * as dgram from "node:dgram";
import * as http from "node:http";
import * as net from "node:net";
import { concat, decodeRlp, encodeRlp, getBytes, hexlify, keccak256, randomBytes, Signature, SigningKey, toBeArray } from "ethers";

const quantity = (n: number | bigint) => hexlify(toBeArray(n));
const ipBytes = (ip: string) => hexlify(Uint8Array.from(ip.split(".").map(Number)));

export interface Discv4Pong {
    /** The responder's node ID: the 64-byte public key, hex without 0x, as in its enode URL. */
    nodeId: string;
    /** Round trip in milliseconds. */
    rttMs: number;
}

/**
 * Sends a discovery v4 PING to ip:port over UDP and waits for the PONG. The PONG's signature
 * gives the responder's public key, i.e. the node ID an enode URL must carry.
 */
export async function discv4Ping(ip: string, port: number, opts: { timeoutMs?: number; attempts?: number } = {}): Promise<Discv4Pong> {
    const attempts = opts.attempts ?? 5;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
        try {
            return await discv4PingOnce(ip, port, opts.timeoutMs ?? 2_000);
        } catch (e) {
            last = e;
        }
    }
    throw new Error(`no discv4 PONG from ${ip}:${port}/udp after ${attempts} attempts: ${last instanceof Error ? last.message : String(last)}`);
}

function discv4PingOnce(ip: string, port: number, timeoutMs: number): Promise<Discv4Pong> {
    const key = new SigningKey(randomBytes(32));
    const expiration = Math.floor(Date.now() / 1000) + 20;
    const endpoint = (addr: string, p: number) => [ipBytes(addr), quantity(p), quantity(p)];
    // Ping: [version, from, to, expiration]; packet = hash || signature || type || rlp(data)
    const body = concat(["0x01", encodeRlp([quantity(4), endpoint("0.0.0.0", 0), endpoint(ip, port), quantity(expiration)])]);
    const sig = key.sign(keccak256(body));
    const sigBytes = concat([sig.r, sig.s, sig.yParity === 0 ? "0x00" : "0x01"]);
    const hash = keccak256(concat([sigBytes, body]));
    const packet = getBytes(concat([hash, sigBytes, body]));

    return new Promise((resolve, reject) => {
        const sock = dgram.createSocket("udp4");
        const started = Date.now();
        const timer = setTimeout(() => {
            sock.close();
            reject(new Error(`timeout after ${timeoutMs} ms`));
        }, timeoutMs);
        sock.on("error", (e) => {
            clearTimeout(timer);
            sock.close();
            reject(e);
        });
        sock.on("message", (msg) => {
            try {
                if (msg.length < 98 || msg[97] !== 0x02) return; // not a PONG
                const mac = hexlify(msg.subarray(0, 32));
                if (mac !== keccak256(msg.subarray(32))) return;
                const data = decodeRlp(hexlify(msg.subarray(98))) as unknown[];
                if (data[1] !== hash) return; // a PONG to something else
                const sigdata = msg.subarray(97);
                const s = Signature.from({
                    r: hexlify(msg.subarray(32, 64)),
                    s: hexlify(msg.subarray(64, 96)),
                    v: msg[96] + 27,
                });
                const pub = SigningKey.recoverPublicKey(keccak256(sigdata), s);
                clearTimeout(timer);
                sock.close();
                resolve({ nodeId: pub.slice(4).toLowerCase(), rttMs: Date.now() - started });
            } catch {
                // malformed: keep waiting
            }
        });
        sock.send(packet, port, ip);
    });
}

/** Resolves when a TCP connection to ip:port succeeds. */
export function tcpConnect(ip: string, port: number, timeoutMs = 3_000): Promise<void> {
    return new Promise((resolve, reject) => {
        const s = net.connect({ host: ip, port, timeout: timeoutMs });
        s.once("connect", () => {
            s.destroy();
            resolve();
        });
        s.once("timeout", () => {
            s.destroy();
            reject(new Error(`TCP ${ip}:${port}: timeout`));
        });
        s.once("error", (e) => reject(new Error(`TCP ${ip}:${port}: ${e.message}`)));
    });
}

/** GET http://ip:port/path; resolves with status and body. */
export function httpGet(ip: string, port: number, urlPath = "/", timeoutMs = 5_000): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: ip, port, path: urlPath, timeout: timeoutMs }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`HTTP ${ip}:${port}: timeout`)));
        req.on("error", reject);
    });
}

/** Derives the node ID (enode public key, 128 hex chars) of a 32-byte node key. */
export function nodeIdOf(nodeKeyHex: string): string {
    const k = nodeKeyHex.trim().replace(/^0x/, "");
    return new SigningKey(`0x${k}`).publicKey.slice(4).toLowerCase();
}

/**
 * The bootnode's first stdout line, as printed by `bootnode -nodekey <file> -addr :<port>`
 * (geth v1.13.15): `enode://<128 hex>@127.0.0.1:0?discport=<port>`. In `docker service logs`
 * each line is prefixed by `<service>.<slot>.<task id>@<node hostname>    | `.
 */
export const BOOTNODE_ENODE_LINE = /enode:\/\/([0-9a-f]{128})@([0-9.]+):(\d+)\?discport=(\d+)/;
