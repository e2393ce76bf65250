import { spawnSync } from "node:child_process";
import { createECDH, createHash } from "node:crypto";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parseEnode } from "./index";

/** Deterministic 32 "random" bytes per resource name, as the mocked provider's result. */
function mockBytes(name: string): Buffer {
    return createHash("sha256").update(`mock-random-bytes/${name}`).digest();
}

interface Created {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    parent?: string;
}
const created: Created[] = [];

pulumi.runtime.setMocks(
    {
        newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
            created.push({ type: args.type, name: args.name, inputs: args.inputs });
            if (args.type === "random:index/randomBytes:RandomBytes") {
                const bytes = mockBytes(args.name);
                expect(args.inputs.length).toBe(32);
                return {
                    id: bytes.toString("base64"),
                    state: { ...args.inputs, hex: bytes.toString("hex"), base64: bytes.toString("base64") },
                };
            }
            return { id: `${args.name}-id`, state: args.inputs };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            return args.inputs;
        },
    },
    "geth-swarm",
    "unit",
    false,
);

// Imported after setMocks so the resources register against the mock monitor.
let keys: typeof import("./keys");
beforeAll(async () => {
    keys = await import("./keys");
});

/** The value of an Output, as a promise to await (the test times out if it never resolves). */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise<T>((resolve) => {
        output.apply((v) => {
            resolve(v);
            return v;
        });
    });
}

/** Public key via Node's OpenSSL, independent of the code under test. */
function opensslNodeId(keyHex: string): string {
    const ecdh = createECDH("secp256k1");
    ecdh.setPrivateKey(Buffer.from(keyHex, "hex"));
    return ecdh.getPublicKey("hex", "uncompressed").slice(2);
}

describe("generateNodeKey / generateSignerKey", () => {
    it("return the mocked bytes as a secret 64-hex key", async () => {
        const nodeKey = keys.generateNodeKey("boot-nodekey");
        const signerKey = keys.generateSignerKey("signer-0-key");
        expect(await pulumi.isSecret(nodeKey)).toBe(true);
        expect(await pulumi.isSecret(signerKey)).toBe(true);
        expect(await valueOf(nodeKey)).toBe(mockBytes("boot-nodekey").toString("hex"));
        expect(await valueOf(signerKey)).toBe(mockBytes("signer-0-key").toString("hex"));
        const randoms = created.filter((c) => c.type === "random:index/randomBytes:RandomBytes").map((c) => c.name);
        expect(randoms).toEqual(expect.arrayContaining(["boot-nodekey", "signer-0-key"]));
    });

    it("derive public values that are correct and not secret", async () => {
        const nodeKey = keys.generateNodeKey("node-a-nodekey");
        const id = keys.enodeIdOf(nodeKey);
        expect(await pulumi.isSecret(id)).toBe(false);
        expect(await valueOf(id)).toBe(opensslNodeId(mockBytes("node-a-nodekey").toString("hex")));
        expect(await pulumi.isSecret(nodeKey)).toBe(true); // unsecret of the derived value leaves the key secret
    });
});

describe("NodeIdentity", () => {
    it("has a secret key and the matching public enode id and URL", async () => {
        const identity = new keys.NodeIdentity("bootnode");
        const expectedKey = mockBytes("bootnode-nodekey").toString("hex");
        const expectedId = opensslNodeId(expectedKey);

        expect(await pulumi.isSecret(identity.privateKey)).toBe(true);
        expect(await valueOf(identity.privateKey)).toBe(expectedKey);
        expect(await pulumi.isSecret(identity.enodeId)).toBe(false);
        expect(await valueOf(identity.enodeId)).toBe(expectedId);

        const enode = identity.enode("10.0.1.5");
        expect(await pulumi.isSecret(enode)).toBe(false);
        expect(await valueOf(enode)).toBe(`enode://${expectedId}@10.0.1.5:30301`);
        expect(parseEnode(await valueOf(identity.enode(pulumi.output("fd00::5"), 30303)))).toStrictEqual({ id: expectedId, host: "fd00::5", port: 30303 });

        const component = created.find((c) => c.type === "geth-swarm:chain:NodeIdentity" && c.name === "bootnode");
        expect(component).toBeDefined();
        const child = created.filter((c) => c.type === "random:index/randomBytes:RandomBytes" && c.name === "bootnode-nodekey");
        expect(child).toHaveLength(1);
        expect(child[0].inputs).toEqual({ length: 32 });
    });

    it("passes keepers to the random bytes", async () => {
        const identity = new keys.NodeIdentity("rotating", { keepers: { generation: "2" } });
        await valueOf(identity.enodeId);
        const child = created.find((c) => c.name === "rotating-nodekey");
        expect(child?.inputs).toEqual({ length: 32, keepers: { generation: "2" } });
    });

});

describe("SignerIdentity", () => {
    it("has a secret key and the matching public address", async () => {
        const signer = new keys.SignerIdentity("signer-0");
        const expectedKey = mockBytes("signer-0-key").toString("hex");
        expect(await pulumi.isSecret(signer.privateKey)).toBe(true);
        expect(await valueOf(signer.privateKey)).toBe(expectedKey);
        expect(await pulumi.isSecret(signer.address)).toBe(false);
        const { computeAddress } = await import("ethers");
        expect(await valueOf(signer.address)).toBe(computeAddress("0x" + expectedKey));
        expect(await valueOf(signer.address)).toMatch(/^0x[0-9a-fA-F]{40}$/);
    });

    it("maps a known key to the well-known address", async () => {
        // The derivation on a known secret input, in the Output chain.
        const address = keys.addressOf(pulumi.secret("0x" + "00".repeat(31) + "01"));
        expect(await pulumi.isSecret(address)).toBe(false);
        expect(await valueOf(address)).toBe("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    });
});

describe("an invalid scalar from the random bytes (probability ~2^-128)", () => {
    it("fails the program with a ChainInputError naming the resource, not the key", () => {
        // Run in a child process: a failing Output rejects Pulumi's internal promises, which
        // ends the program with an unhandled rejection, exactly as `pulumi up` would fail.
        const program = join(__dirname, "testdata", "invalid-key-program.ts");
        const child = spawnSync(process.execPath, ["--import", "tsx", program], { encoding: "utf8", timeout: 60_000 });
        const output = child.stdout + child.stderr;
        expect(child.status).not.toBe(0);
        expect(output).toMatch(/random\.RandomBytes "signer-0-key"\.hex is not a valid secp256k1 private key: it is >= the curve order n/);
        expect(output).not.toMatch(/address 0x/);
        expect(output).not.toContain("ff".repeat(32));
    });
});
