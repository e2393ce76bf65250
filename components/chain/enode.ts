import { isIPv6 } from "node:net";
import { SigningKey } from "ethers";
import { ChainInputError } from "./errors";
import { publicKeyFromPrivateKey } from "./secp256k1";

/** Default port of an enode URL built by {@link enodeFromNodeKey}: the bootnode's discovery port. */
export const DEFAULT_ENODE_PORT = 30301;

/** The parts of an enode URL. */
export interface ParsedEnode {
    /** Node ID: the uncompressed secp256k1 public key, 128 lower-case hex digits without `04` prefix. */
    id: string;
    /** Host: IPv4 address, IPv6 address (without brackets) or DNS host name. */
    host: string;
    /** TCP (RLPx) port; also the UDP discovery port unless {@link discport} is set. */
    port: number;
    /** UDP discovery port, present only when the URL has `?discport=N`. */
    discport?: number;
}

/** Kind of a host accepted by {@link checkHost}. */
export type HostKind = "ipv4" | "ipv6" | "dns";

const IPV4_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const HOST_EXAMPLES =
    "Use an IPv4 address (10.0.1.5), an IPv6 address (fd00::5) or an RFC 1123 DNS host name (boot.example.internal).";

type HostCheck = { kind: HostKind; host: string } | { problem: string };

/** Classifies a host, or says what is wrong with it. */
function classifyHost(host: string): HostCheck {
    if (host.length === 0) return { problem: "it is empty" };
    if (/\s/.test(host)) return { problem: "it contains whitespace" };
    if (host.includes("@")) return { problem: 'it contains "@" (pass only the host, not user@host or an enode URL)' };
    if (host.includes("/")) return { problem: 'it contains "/" (pass only the host, not a URL or a CIDR)' };

    let bare = host;
    const bracketed = host.startsWith("[") || host.endsWith("]");
    if (bracketed) {
        if (!(host.startsWith("[") && host.endsWith("]"))) return { problem: "it has an unbalanced bracket" };
        bare = host.slice(1, -1);
    }
    if (bare.includes(":") || bracketed) {
        if (bare.includes("%")) return { problem: "IPv6 zone indexes (%iface) are not supported in enode URLs" };
        if (!isIPv6(bare)) {
            return {
                problem: bracketed
                    ? "the text in brackets is not an IPv6 address"
                    : 'it contains ":" but is not an IPv6 address (pass the port separately)',
            };
        }
        return { kind: "ipv6", host: bare };
    }
    if (IPV4.test(bare)) return { kind: "ipv4", host: bare };
    if (bare.length > 253) return { problem: `it is ${bare.length} characters long (at most 253)` };
    const labels = bare.split(".");
    for (const label of labels) {
        if (label.length === 0) return { problem: "it has an empty label (leading, trailing or doubled dot)" };
        if (label.length > 63) return { problem: `a label is ${label.length} characters long (at most 63)` };
        if (!DNS_LABEL.test(label)) {
            return {
                problem: `label ${JSON.stringify(label)} may contain only letters, digits and hyphens, and may not start or end with a hyphen`,
            };
        }
    }
    if (/^[0-9]+$/.test(labels[labels.length - 1])) {
        return { problem: "it looks like an IPv4 address but is not a valid one (4 parts, each 0-255, no leading zeros)" };
    }
    return { kind: "dns", host: bare };
}

/**
 * Validates a host for an enode URL and returns its kind and its bare form
 * (IPv6 without brackets). Accepts dotted-quad IPv4 (no leading zeros), IPv6
 * (bare or in brackets, no zone index) and RFC 1123 host names (labels of 1-63
 * letters, digits and hyphens, not starting or ending with a hyphen, at most
 * 253 characters, last label not all-numeric). Note that RFC 1123 excludes
 * `_`, so Docker service names such as `boot_bootnode` are rejected.
 *
 * @throws ChainInputError naming `argument`.
 */
export function checkHost(host: string, argument = "host"): { kind: HostKind; host: string } {
    if (typeof host !== "string") {
        throw new ChainInputError(argument, `${argument} must be a string, got ${typeof host}. ${HOST_EXAMPLES}`);
    }
    const result = classifyHost(host);
    if ("problem" in result) {
        const shown = host.length > 80 ? host.slice(0, 80) + "..." : host;
        throw new ChainInputError(argument, `${argument} ${JSON.stringify(shown)} is not a valid host: ${result.problem}. ${HOST_EXAMPLES}`);
    }
    return result;
}

function checkPort(port: number, argument: string, min: number): number {
    if (typeof port !== "number" || !Number.isInteger(port) || port < min || port > 65535) {
        throw new ChainInputError(
            argument,
            `${argument} must be an integer in ${min}..65535, got ${typeof port === "number" ? String(port) : typeof port}.`,
        );
    }
    return port;
}

/**
 * Formats an enode URL from its parts: `enode://<id>@<host>:<port>[?discport=N]`,
 * IPv6 hosts in brackets. `id` must be 128 hex digits (it is lower-cased).
 */
export function formatEnode(parts: ParsedEnode): string {
    if (typeof parts.id !== "string" || !/^[0-9a-fA-F]{128}$/.test(parts.id)) {
        throw new ChainInputError("id", `id must be a node ID of 128 hex digits (uncompressed public key without 04 prefix).`);
    }
    const { kind, host } = checkHost(parts.host, "host");
    const port = checkPort(parts.port, "port", 1);
    const hostPart = kind === "ipv6" ? `[${host}]` : host;
    const query = parts.discport === undefined ? "" : `?discport=${checkPort(parts.discport, "discport", 0)}`;
    return `enode://${parts.id.toLowerCase()}@${hostPart}:${port}${query}`;
}

/**
 * Enode URL of the node that runs with the given node key (geth `--nodekey` /
 * `bootnode -nodekey`): `enode://<128 hex public key>@host:port`.
 *
 * @param nodeKeyHex 32-byte secp256k1 private key as hex (optional `0x`, surrounding whitespace ignored).
 * @param host IPv4, IPv6 (bare or bracketed; bracketed in the URL) or RFC 1123 DNS host name.
 * @param port TCP/UDP port, 1..65535; default 30301 (bootnode discovery).
 * @throws ChainInputError for an invalid key, host or port.
 */
export function enodeFromNodeKey(nodeKeyHex: string, host: string, port: number = DEFAULT_ENODE_PORT): string {
    const id = publicKeyFromPrivateKey(nodeKeyHex, "nodeKeyHex");
    return formatEnode({ id, host, port });
}

function enodeError(url: string, why: string): ChainInputError {
    return new ChainInputError(
        "url",
        `url ${JSON.stringify(url)} is not a valid enode URL: ${why}. Expected enode://<128-hex node id>@<host>:<port>[?discport=<port>].`,
    );
}

/**
 * Parses an enode URL `enode://<128 hex node id>@host:port[?discport=N]`.
 *
 * Follows geth v1.13's `p2p/enode.ParseV4` for complete node URLs: the node ID
 * must be a point on secp256k1; the host is an IP address or DNS name (IPv6 in
 * brackets); port and discport are 0..65535. Port 0 is accepted because geth's
 * own tools print it: `bootnode` reports `enode://<id>@<ip>:0?discport=30301`
 * (it has no TCP listener), and a node started with `--nodiscover` reports
 * `?discport=0`. Query parameters other than `discport` are rejected.
 *
 * @returns the parts; `id` lower-cased, `host` without brackets, `discport` only if present.
 * @throws ChainInputError saying exactly which part is wrong.
 */
export function parseEnode(url: string): ParsedEnode {
    if (typeof url !== "string") throw new ChainInputError("url", `url must be a string, got ${typeof url}.`);
    const text = url.trim();
    const schemeEnd = text.indexOf("://");
    if (schemeEnd < 0) throw enodeError(url, 'it has no scheme (it must start with "enode://")');
    const scheme = text.slice(0, schemeEnd);
    if (scheme.toLowerCase() !== "enode") throw enodeError(url, `scheme is ${JSON.stringify(scheme)}, want "enode"`);
    let rest = text.slice(schemeEnd + 3);
    if (rest.includes("#")) throw enodeError(url, 'it has a fragment ("#...")');

    let query = "";
    const q = rest.indexOf("?");
    if (q >= 0) {
        query = rest.slice(q + 1);
        rest = rest.slice(0, q);
    }
    const at = rest.lastIndexOf("@");
    if (at < 0) throw enodeError(url, 'it has no "@" between the node ID and the host');
    const id = rest.slice(0, at);
    const hostPort = rest.slice(at + 1);
    if (!/^[0-9a-fA-F]*$/.test(id)) throw enodeError(url, "node ID contains characters other than hex digits");
    if (id.length !== 128) throw enodeError(url, `node ID has ${id.length} hex digits, want 128 (64-byte public key without 04 prefix)`);
    try {
        SigningKey.computePublicKey("0x04" + id, false);
    } catch {
        throw enodeError(url, "node ID is not a point on the secp256k1 curve");
    }

    let hostText: string;
    let portText: string | undefined;
    if (hostPort.startsWith("[")) {
        const close = hostPort.indexOf("]");
        if (close < 0) throw enodeError(url, 'IPv6 host has "[" but no "]"');
        hostText = hostPort.slice(0, close + 1);
        const after = hostPort.slice(close + 1);
        if (after.length > 0) {
            if (!after.startsWith(":")) throw enodeError(url, `unexpected ${JSON.stringify(after)} after the IPv6 host`);
            portText = after.slice(1);
        }
    } else {
        const colons = hostPort.split(":").length - 1;
        if (colons > 1) throw enodeError(url, "an IPv6 host must be written in brackets, e.g. [fd00::5]:30303");
        const c = hostPort.indexOf(":");
        hostText = c < 0 ? hostPort : hostPort.slice(0, c);
        portText = c < 0 ? undefined : hostPort.slice(c + 1);
    }
    if (hostText.length === 0) throw enodeError(url, "host is empty");
    const checked = classifyHost(hostText);
    if ("problem" in checked) throw enodeError(url, `host ${JSON.stringify(hostText)} is invalid: ${checked.problem}`);
    const host = checked.host;
    if (portText === undefined || portText.length === 0) throw enodeError(url, "port is missing (write host:port)");
    if (!/^[0-9]+$/.test(portText)) throw enodeError(url, `port ${JSON.stringify(portText)} is not a decimal number`);
    const port = Number(portText);
    if (portText.length > 5 || port > 65535) throw enodeError(url, `port ${portText} is out of range 0..65535`);

    const result: ParsedEnode = { id: id.toLowerCase(), host, port };
    if (query.length > 0) {
        for (const pair of query.split("&")) {
            const eq = pair.indexOf("=");
            const key = eq < 0 ? pair : pair.slice(0, eq);
            const value = eq < 0 ? "" : pair.slice(eq + 1);
            if (key !== "discport") throw enodeError(url, `unknown query parameter ${JSON.stringify(key)} (only "discport" is allowed)`);
            if (result.discport !== undefined) throw enodeError(url, "discport is given more than once");
            if (!/^[0-9]+$/.test(value)) throw enodeError(url, `discport ${JSON.stringify(value)} is not a decimal number`);
            const discport = Number(value);
            if (value.length > 5 || discport > 65535) throw enodeError(url, `discport ${value} is out of range 0..65535`);
            result.discport = discport;
        }
    }
    return result;
}
