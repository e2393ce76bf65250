import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChainInputError, SECP256K1_ORDER, checkHost, enodeFromNodeKey, formatEnode, parseEnode, publicKeyFromPrivateKey } from "./index";

const hex64 = (n: bigint) => n.toString(16).padStart(64, "0");
const KEY1 = hex64(1n);
const G_PUB =
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

describe("enodeFromNodeKey", () => {
    it.each([
        ["10.0.1.5", undefined, `enode://${G_PUB}@10.0.1.5:30301`],
        ["10.0.1.5", 30303, `enode://${G_PUB}@10.0.1.5:30303`],
        ["0.0.0.0", 1, `enode://${G_PUB}@0.0.0.0:1`],
        ["255.255.255.255", 65535, `enode://${G_PUB}@255.255.255.255:65535`],
        ["fd00::5", 30301, `enode://${G_PUB}@[fd00::5]:30301`],
        ["[fd00::5]", 30301, `enode://${G_PUB}@[fd00::5]:30301`],
        ["::1", 30303, `enode://${G_PUB}@[::1]:30303`],
        ["::ffff:10.0.0.1", 30303, `enode://${G_PUB}@[::ffff:10.0.0.1]:30303`],
        ["localhost", 30301, `enode://${G_PUB}@localhost:30301`],
        ["bootnode", 30301, `enode://${G_PUB}@bootnode:30301`],
        ["ip-10-0-1-5.eu-west-1.compute.internal", 30301, `enode://${G_PUB}@ip-10-0-1-5.eu-west-1.compute.internal:30301`],
        ["3com.example", 30301, `enode://${G_PUB}@3com.example:30301`],
        ["A.B-C.example", 30301, `enode://${G_PUB}@A.B-C.example:30301`],
        ["a".repeat(63) + ".example", 30301, `enode://${G_PUB}@${"a".repeat(63)}.example:30301`],
    ])("host %s port %s", (host, port, url) => {
        expect(enodeFromNodeKey(KEY1, host, port)).toBe(url);
    });

    it.each<[string, unknown, RegExp]>([
        ["empty", "", /host "" is not a valid host: it is empty\. Use an IPv4 address/],
        ["space inside", "boot node", /host "boot node" is not a valid host: it contains whitespace/],
        ["leading space", " 10.0.0.1", /host " 10.0.0.1" is not a valid host: it contains whitespace/],
        ["newline", "10.0.0.1\n", /it contains whitespace/],
        ["@", "user@10.0.0.1", /host "user@10.0.0.1" is not a valid host: it contains "@"/],
        ["host:port", "10.0.0.1:30303", /host "10.0.0.1:30303" is not a valid host: it contains ":" but is not an IPv6 address \(pass the port separately\)/],
        ["name:port", "boot:30303", /it contains ":" but is not an IPv6 address/],
        ["URL", "http://boot", /it contains ":" but is not an IPv6 address|contains "\/"/],
        ["path", "boot/x", /it contains "\/"/],
        ["CIDR", "10.0.0.0/24", /it contains "\/" \(pass only the host, not a URL or a CIDR\)/],
        ["bad IPv6", "fd00:::5", /it contains ":" but is not an IPv6 address/],
        ["brackets around IPv4", "[10.0.0.1]", /the text in brackets is not an IPv6 address/],
        ["unbalanced bracket", "[fd00::5", /it has an unbalanced bracket/],
        ["zone index", "fe80::1%eth0", /IPv6 zone indexes/],
        ["octet > 255", "10.0.0.256", /it looks like an IPv4 address but is not a valid one/],
        ["leading zero octet", "10.0.0.01", /it looks like an IPv4 address but is not a valid one/],
        ["3 octets", "10.0.1", /it looks like an IPv4 address/],
        ["underscore (swarm service name)", "boot_bootnode", /label "boot_bootnode" may contain only letters, digits and hyphens/],
        ["leading hyphen", "-boot", /label "-boot" may contain only letters, digits and hyphens, and may not start or end with a hyphen/],
        ["trailing hyphen", "boot-.example", /label "boot-"/],
        ["trailing dot", "boot.example.", /it has an empty label/],
        ["double dot", "boot..example", /it has an empty label/],
        ["64-char label", "a".repeat(64) + ".example", /a label is 64 characters long \(at most 63\)/],
        ["254 chars", ("a".repeat(62) + ".").repeat(4) + "ab", /is 254 characters long \(at most 253\)/],
        ["unicode", "bööt", /label "bööt" may contain only/],
        ["not a string", 5, /host must be a string, got number/],
    ])("rejects host: %s", (_what, host, message) => {
        expect(() => enodeFromNodeKey(KEY1, host as string, 30301)).toThrow(ChainInputError);
        expect(() => enodeFromNodeKey(KEY1, host as string, 30301)).toThrow(message);
    });

    it.each<[unknown, RegExp]>([
        [0, /port must be an integer in 1\.\.65535, got 0/],
        [-1, /port must be an integer in 1\.\.65535, got -1/],
        [65536, /port must be an integer in 1\.\.65535, got 65536/],
        [30303.5, /got 30303\.5/],
        [Number.NaN, /got NaN/],
        ["30303", /port must be an integer in 1\.\.65535, got string/],
    ])("rejects port %s", (port, message) => {
        expect(() => enodeFromNodeKey(KEY1, "10.0.0.1", port as number)).toThrow(message);
    });

    it("checks the key before the host", () => {
        expect(() => enodeFromNodeKey("", "")).toThrow(/nodeKeyHex/);
    });
});

describe("checkHost", () => {
    it.each([
        ["10.0.0.1", "ipv4", "10.0.0.1"],
        ["[::1]", "ipv6", "::1"],
        ["fd00::1", "ipv6", "fd00::1"],
        ["boot.internal", "dns", "boot.internal"],
    ])("%s is %s", (host, kind, bare) => {
        expect(checkHost(host)).toEqual({ kind, host: bare });
    });
    it("names the argument it is given", () => {
        expect(() => checkHost("", "opts.bootnodeHost")).toThrow(/^opts\.bootnodeHost "" is not a valid host/);
    });
});

describe("parseEnode", () => {
    it.each<[string, object]>([
        [`enode://${G_PUB}@10.0.1.5:30303`, { id: G_PUB, host: "10.0.1.5", port: 30303 }],
        [`enode://${G_PUB.toUpperCase()}@10.0.1.5:30303`, { id: G_PUB, host: "10.0.1.5", port: 30303 }],
        [`ENODE://${G_PUB}@10.0.1.5:30303`, { id: G_PUB, host: "10.0.1.5", port: 30303 }],
        [`enode://${G_PUB}@10.0.1.5:30303?discport=30301`, { id: G_PUB, host: "10.0.1.5", port: 30303, discport: 30301 }],
        // What cmd/bootnode prints: no TCP listener, so tcp port 0.
        [`enode://${G_PUB}@127.0.0.1:0?discport=30301`, { id: G_PUB, host: "127.0.0.1", port: 0, discport: 30301 }],
        // What a geth node started with --nodiscover reports.
        [`enode://${G_PUB}@10.0.1.5:30303?discport=0`, { id: G_PUB, host: "10.0.1.5", port: 30303, discport: 0 }],
        [`enode://${G_PUB}@[fd00::5]:30303`, { id: G_PUB, host: "fd00::5", port: 30303 }],
        [`enode://${G_PUB}@boot.example.internal:30301`, { id: G_PUB, host: "boot.example.internal", port: 30301 }],
        [`  enode://${G_PUB}@10.0.1.5:30303\n`, { id: G_PUB, host: "10.0.1.5", port: 30303 }],
    ])("parses %s", (url, parts) => {
        expect(parseEnode(url)).toStrictEqual(parts);
    });

    const notOnCurve = "11".repeat(64);
    it.each<[string, unknown, RegExp]>([
        ["wrong scheme", `http://${G_PUB}@10.0.1.5:30303`, /scheme is "http", want "enode"/],
        ["enr", "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0", /it has no scheme/],
        ["bare id", G_PUB, /it has no scheme/],
        ["missing @", `enode://${G_PUB}`, /it has no "@" between the node ID and the host/],
        ["short id", `enode://${G_PUB.slice(2)}@10.0.1.5:30303`, /node ID has 126 hex digits, want 128/],
        ["long id", `enode://04${G_PUB}@10.0.1.5:30303`, /node ID has 130 hex digits, want 128/],
        ["empty id", `enode://@10.0.1.5:30303`, /node ID has 0 hex digits/],
        ["non-hex id", `enode://${G_PUB.slice(1)}g@10.0.1.5:30303`, /node ID contains characters other than hex digits/],
        ["0x id", `enode://0x${G_PUB.slice(2)}@10.0.1.5:30303`, /node ID contains characters other than hex digits/],
        ["id off the curve", `enode://${notOnCurve}@10.0.1.5:30303`, /node ID is not a point on the secp256k1 curve/],
        ["empty host", `enode://${G_PUB}@:30303`, /host is empty/],
        ["bad host", `enode://${G_PUB}@boot_node:30303`, /host "boot_node" is invalid: label "boot_node" may contain only/],
        ["bad IPv4", `enode://${G_PUB}@10.0.0.300:30303`, /host "10.0.0.300" is invalid: it looks like an IPv4 address/],
        ["unbracketed IPv6", `enode://${G_PUB}@fd00::5:30303`, /an IPv6 host must be written in brackets/],
        ["unclosed bracket", `enode://${G_PUB}@[fd00::5:30303`, /IPv6 host has "\[" but no "\]"/],
        ["junk after bracket", `enode://${G_PUB}@[fd00::5]30303`, /unexpected "30303" after the IPv6 host/],
        ["not IPv6 in brackets", `enode://${G_PUB}@[boot]:30303`, /the text in brackets is not an IPv6 address/],
        ["missing port", `enode://${G_PUB}@10.0.1.5`, /port is missing \(write host:port\)/],
        ["empty port", `enode://${G_PUB}@10.0.1.5:`, /port is missing/],
        ["missing port IPv6", `enode://${G_PUB}@[fd00::5]`, /port is missing/],
        ["port too big", `enode://${G_PUB}@10.0.1.5:65536`, /port 65536 is out of range 0\.\.65535/],
        ["port huge", `enode://${G_PUB}@10.0.1.5:99999999999999999999`, /port 99999999999999999999 is out of range 0\.\.65535/],
        ["negative port", `enode://${G_PUB}@10.0.1.5:-1`, /port "-1" is not a decimal number/],
        ["named port", `enode://${G_PUB}@10.0.1.5:p2p`, /port "p2p" is not a decimal number/],
        ["discport too big", `enode://${G_PUB}@10.0.1.5:30303?discport=70000`, /discport 70000 is out of range 0\.\.65535/],
        ["discport not a number", `enode://${G_PUB}@10.0.1.5:30303?discport=udp`, /discport "udp" is not a decimal number/],
        ["discport empty", `enode://${G_PUB}@10.0.1.5:30303?discport=`, /discport "" is not a decimal number/],
        ["discport twice", `enode://${G_PUB}@10.0.1.5:30303?discport=1&discport=2`, /discport is given more than once/],
        ["unknown parameter", `enode://${G_PUB}@10.0.1.5:30303?disport=30301`, /unknown query parameter "disport"/],
        ["fragment", `enode://${G_PUB}@10.0.1.5:30303#x`, /it has a fragment/],
        ["not a string", undefined, /url must be a string, got undefined/],
    ])("rejects %s", (_what, url, message) => {
        expect(() => parseEnode(url as string)).toThrow(ChainInputError);
        expect(() => parseEnode(url as string)).toThrow(message);
        if (typeof url === "string") expect(() => parseEnode(url)).toThrow(/^url ".*" is not a valid enode URL: /s);
    });
});

// ---- property tests ----

const validKey = fc.bigInt({ min: 1n, max: SECP256K1_ORDER - 1n }).map(hex64);
const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6().filter((h) => !h.includes("%"));
const dnsLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const dnsName = fc
    .tuple(fc.array(dnsLabel, { minLength: 0, maxLength: 3 }), fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/))
    .map(([labels, tld]) => [...labels, tld].join("."));
const host = fc.oneof(ipv4, ipv6, dnsName);
const port = fc.integer({ min: 1, max: 65535 });

describe("properties", () => {
    it("parseEnode(enodeFromNodeKey(k, host, port)) recovers k's public key, host and port", () => {
        fc.assert(
            fc.property(validKey, host, port, (k, h, p) => {
                const parsed = parseEnode(enodeFromNodeKey(k, h, p));
                expect(parsed).toStrictEqual({ id: publicKeyFromPrivateKey(k), host: h, port: p });
            }),
            { numRuns: 300 },
        );
    });
    it("formatEnode and parseEnode are inverse, with discport", () => {
        fc.assert(
            fc.property(validKey, host, port, fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }), (k, h, p, d) => {
                const parts = { id: publicKeyFromPrivateKey(k), host: h, port: p, ...(d === undefined ? {} : { discport: d }) };
                expect(parseEnode(formatEnode(parts))).toStrictEqual(parts);
            }),
            { numRuns: 200 },
        );
    });
    it("parseEnode never throws anything but ChainInputError on arbitrary text", () => {
        fc.assert(
            fc.property(fc.oneof(fc.string(), fc.string().map((s) => `enode://${G_PUB}@${s}`)), (s) => {
                try {
                    parseEnode(s);
                } catch (e) {
                    expect(e).toBeInstanceOf(ChainInputError);
                }
            }),
            { numRuns: 500 },
        );
    });
});
