import { createECDH } from "node:crypto";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
    ChainInputError,
    SECP256K1_ORDER,
    enodeFromNodeKey,
    nodeIdFromNodeKey,
    normalizePrivateKey,
    parseEnode,
    publicKeyFromPrivateKey,
    signerAddress,
} from "./index";

const hex64 = (n: bigint) => n.toString(16).padStart(64, "0");
const KEY1 = hex64(1n);
const KEY2 = hex64(2n);
const G_PUB =
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
const TWO_G_PUB =
    "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5" +
    "1ae168fea63dc339a3c58419466ceaeef7f632653266d0e1236431a950cfe52a";
// secp256k1 field prime; (n-1)*G = -G = (Gx, p - Gy).
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

/** Public key (128 hex, no 04) computed by Node's OpenSSL, independent of ethers. */
function opensslPublicKey(keyHex: string): string {
    const ecdh = createECDH("secp256k1");
    ecdh.setPrivateKey(Buffer.from(keyHex, "hex"));
    const pub = ecdh.getPublicKey("hex", "uncompressed");
    expect(pub.slice(0, 2)).toBe("04");
    return pub.slice(2);
}

describe("known vectors", () => {
    it.each([
        ["1", KEY1, G_PUB, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"],
        ["2", KEY2, TWO_G_PUB, "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"],
        ["3", hex64(3n), "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9" +
            "388f7b0f632de8140fe337e62a37f3566500a99934c2231b6cb9fd7584b8e672", "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"],
    ])("private key %s", (_n, key, pub, address) => {
        expect(publicKeyFromPrivateKey(key)).toBe(pub);
        expect(nodeIdFromNodeKey(key)).toBe(pub);
        expect(signerAddress(key)).toBe(address);
        expect(opensslPublicKey(key)).toBe(pub);
    });

    it("n-1 gives -G", () => {
        const key = hex64(SECP256K1_ORDER - 1n);
        const negY = (P - BigInt("0x" + G_PUB.slice(64))).toString(16).padStart(64, "0");
        expect(publicKeyFromPrivateKey(key)).toBe(G_PUB.slice(0, 64) + negY);
    });

    it.each([
        ["0x prefix", "0x" + KEY1],
        ["0X prefix", "0X" + KEY1],
        ["trailing newline", KEY1 + "\n"],
        ["trailing CRLF and spaces", "0x" + KEY1 + "  \r\n"],
        ["upper case", KEY1.toUpperCase()],
    ])("accepts the key with %s", (_what, key) => {
        expect(normalizePrivateKey(key)).toBe(KEY1);
        expect(signerAddress(key)).toBe("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
        expect(enodeFromNodeKey(key, "10.0.0.1")).toBe(`enode://${G_PUB}@10.0.0.1:30301`);
    });
});

describe("invalid private keys", () => {
    const cases: [string, unknown, RegExp][] = [
        ["empty", "", /privateKeyHex is empty.*64 hex digits/],
        ["only 0x", "0x", /privateKeyHex is empty/],
        ["whitespace", "  \n", /privateKeyHex is empty/],
        ["63 digits", KEY1.slice(1), /privateKeyHex must be 32 bytes \(64 hex digits\), got 63 hex digits/],
        ["65 digits", KEY1 + "0", /privateKeyHex must be 32 bytes \(64 hex digits\), got 65 hex digits/],
        ["20 bytes (an address)", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", /got 40 hex digits/],
        ["non-hex", "zz" + KEY1.slice(2), /privateKeyHex is not hex: character at position 0/],
        ["base64", "8/fu3q+2DcgSJ19i0jZ5Cw8/fu3q+2DcgSJ19i0jZ5Cw=", /privateKeyHex is not hex: character at position 1 .*not base64/],
        ["inner space", KEY1.slice(0, 10) + " " + KEY1.slice(10), /privateKeyHex is not hex: character at position 10/],
        ["double 0x", "0x0x" + KEY1, /privateKeyHex is not hex: character at position 1/],
        ["zero", hex64(0n), /privateKeyHex is zero, which is not a valid secp256k1 private key.*Generate a new/],
        ["n", hex64(SECP256K1_ORDER), /privateKeyHex is not a valid secp256k1 private key: it is >= the curve order n/],
        ["n+1", hex64(SECP256K1_ORDER + 1n), /it is >= the curve order n/],
        ["all ff", "f".repeat(64), /it is >= the curve order n/],
        ["number", 1, /privateKeyHex must be a string of 64 hex digits.*got number/],
        ["undefined", undefined, /privateKeyHex must be a string.*got undefined/],
    ];
    it.each(cases)("signerAddress rejects %s", (_what, key, message) => {
        expect(() => signerAddress(key as string)).toThrow(ChainInputError);
        expect(() => signerAddress(key as string)).toThrow(message);
    });
    it.each(cases)("enodeFromNodeKey rejects %s naming nodeKeyHex", (_what, key, message) => {
        const renamed = new RegExp(message.source.replace(/privateKeyHex/g, "nodeKeyHex"));
        expect(() => enodeFromNodeKey(key as string, "10.0.0.1")).toThrow(renamed);
    });
    it("the error carries the argument name and is an Error", () => {
        try {
            enodeFromNodeKey("0x00", "10.0.0.1");
            expect.unreachable();
        } catch (e) {
            expect(e).toBeInstanceOf(Error);
            expect(e).toBeInstanceOf(ChainInputError);
            expect((e as ChainInputError).argument).toBe("nodeKeyHex");
            expect((e as ChainInputError).name).toBe("ChainInputError");
        }
    });
    it("never echoes the key in an error message", () => {
        fc.assert(
            fc.property(fc.bigInt({ min: SECP256K1_ORDER, max: (1n << 256n) - 1n }), (k) => {
                const key = hex64(k);
                let message = "";
                try {
                    signerAddress(key);
                } catch (e) {
                    message = (e as Error).message.toLowerCase();
                }
                expect(message).toMatch(/curve order/);
                expect(message).not.toContain(key);
                expect(message).not.toContain(key.slice(-16));
            }),
        );
    });
});

describe("independent derivation (Node crypto / OpenSSL vs. ethers)", () => {
    const validKey = fc.bigInt({ min: 1n, max: SECP256K1_ORDER - 1n }).map(hex64);
    it("enodeFromNodeKey's node ID equals createECDH('secp256k1').getPublicKey()", () => {
        fc.assert(
            fc.property(validKey, (key) => {
                const id = parseEnode(enodeFromNodeKey(key, "127.0.0.1", 30303)).id;
                expect(id).toBe(opensslPublicKey(key));
            }),
            { numRuns: 300 },
        );
    });
    it("agrees on arbitrary 32-byte arrays too", () => {
        fc.assert(
            fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
                const key = Buffer.from(bytes).toString("hex");
                const k = BigInt("0x" + key);
                fc.pre(k > 0n && k < SECP256K1_ORDER);
                expect(publicKeyFromPrivateKey("0x" + key)).toBe(opensslPublicKey(key));
            }),
            { numRuns: 200 },
        );
    });
});
