import * as fc from "fast-check";
import { getAddress } from "ethers";
import { describe, expect, it } from "vitest";
import { ChainInputError, buildCliqueGenesis, cliqueExtraData, genesisToJson, signerAddress, type CliqueGenesisOptions, type IntegerInput } from "./index";

const A1 = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"; // key 1
const A2 = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"; // key 2
const A3 = "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"; // key 3
const ZERO32 = "0x" + "00".repeat(32);

describe("cliqueExtraData", () => {
    it("is 32 zero bytes, the signers sorted ascending in lower case, 65 zero bytes", () => {
        expect(cliqueExtraData([A1, A2, A3])).toBe(
            "0x" +
                "00".repeat(32) +
                "2b5ad5c4795c026514f8317c7a215e218dccd6cf" +
                "6813eb9362372eef6200f3b1dbc3f819671cba69" +
                "7e5f4552091a69125d5dfcb7b8c2659029395bdf" +
                "00".repeat(65),
        );
    });
    it("accepts lower-case, upper-case-hex and unprefixed addresses", () => {
        const expected = cliqueExtraData([A1]);
        expect(cliqueExtraData([A1.toLowerCase()])).toBe(expected);
        expect(cliqueExtraData(["0x" + A1.slice(2).toUpperCase()])).toBe(expected);
        expect(cliqueExtraData([A1.slice(2).toLowerCase()])).toBe(expected);
    });
    it.each<[string, unknown, RegExp]>([
        ["empty list", [], /signers must be a non-empty array of signer addresses, got an empty array.*at least one signer/],
        ["not an array", "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", /signers must be a non-empty array/],
        ["duplicate", [A1, A2, A1], /signers\[2\] duplicates signers\[0\] \(0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf\)\. List each signer once/],
        ["duplicate differing in case", [A1, A1.toLowerCase()], /signers\[1\] duplicates signers\[0\]/],
        ["bad checksum", [A1.replace("E5F", "e5F")], /signers\[0\] is not a valid address .*checksum is wrong/],
        ["short", ["0x1234"], /signers\[0\] is not a valid address \("0x1234"\): it is not 20 bytes of hex/],
        ["a private key", ["0x" + "00".repeat(31) + "01"], /signers\[0\] is not a valid address/],
        ["not a string", [A1, 42], /signers\[1\] is not a valid address \(42\)/],
        ["zero address", ["0x" + "00".repeat(20)], /signers\[0\] is the zero address/],
    ])("rejects %s", (_what, signers, message) => {
        expect(() => cliqueExtraData(signers as string[])).toThrow(ChainInputError);
        expect(() => cliqueExtraData(signers as string[])).toThrow(message);
    });
});

describe("buildCliqueGenesis", () => {
    it("builds the expected genesis", () => {
        const genesis = buildCliqueGenesis({
            chainId: 1337,
            periodSeconds: 5,
            signers: [A1],
            alloc: { [A2]: 10n ** 18n, [A1]: "1000" },
        });
        expect(genesis).toStrictEqual({
            config: {
                chainId: 1337,
                homesteadBlock: 0,
                eip150Block: 0,
                eip155Block: 0,
                eip158Block: 0,
                byzantiumBlock: 0,
                constantinopleBlock: 0,
                petersburgBlock: 0,
                istanbulBlock: 0,
                berlinBlock: 0,
                londonBlock: 0,
                clique: { period: 5, epoch: 30000 },
            },
            nonce: "0x0",
            timestamp: "0x0",
            extraData: "0x" + "00".repeat(32) + "7e5f4552091a69125d5dfcb7b8c2659029395bdf" + "00".repeat(65),
            gasLimit: "0x1c9c380",
            difficulty: "0x1",
            mixHash: ZERO32,
            coinbase: "0x" + "00".repeat(20),
            alloc: {
                "0x2b5ad5c4795c026514f8317c7a215e218dccd6cf": { balance: "0xde0b6b3a7640000" },
                "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf": { balance: "0x3e8" },
            },
            number: "0x0",
            gasUsed: "0x0",
            parentHash: ZERO32,
        });
        // Sorted alloc, fixed key order: the JSON text itself is stable.
        expect(Object.keys(genesis.alloc)).toEqual(["0x2b5ad5c4795c026514f8317c7a215e218dccd6cf", "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"]);
    });

    it("has no merge or post-merge fields that would make geth 1.13 leave Clique", () => {
        const config = buildCliqueGenesis({ chainId: 1, periodSeconds: 1, signers: [A1] }).config as unknown as Record<string, unknown>;
        for (const key of ["terminalTotalDifficulty", "terminalTotalDifficultyPassed", "shanghaiTime", "cancunTime", "pragueTime", "ethash", "mergeNetsplitBlock"]) {
            expect(config).not.toHaveProperty(key);
        }
    });

    it("takes the optional values", () => {
        const g = buildCliqueGenesis({
            chainId: 424242,
            periodSeconds: 2,
            epoch: 100,
            gasLimit: "0x47b760",
            signers: [A3, A1],
            timestamp: 1_700_000_000,
            baseFeePerGas: 7,
        });
        expect(g.config.clique).toEqual({ period: 2, epoch: 100 });
        expect(g.gasLimit).toBe("0x47b760");
        expect(g.timestamp).toBe("0x6553f100");
        expect(g.baseFeePerGas).toBe("0x7");
        expect(g.alloc).toEqual({});
        expect(g.extraData).toBe(cliqueExtraData([A1, A3]));
    });

    it.each<[string, IntegerInput, string]>([
        ["bigint", 8_000_000n, "0x7a1200"],
        ["number", 8_000_000, "0x7a1200"],
        ["decimal string", "8000000", "0x7a1200"],
        ["hex string", "0x7A1200", "0x7a1200"],
        ["minimum", 5000, "0x1388"],
        ["uint64 max", (1n << 64n) - 1n, "0xffffffffffffffff"],
    ])("gasLimit as %s", (_what, gasLimit, expected) => {
        expect(buildCliqueGenesis({ chainId: 1, periodSeconds: 1, signers: [A1], gasLimit }).gasLimit).toBe(expected);
    });

    const base: CliqueGenesisOptions = { chainId: 1337, periodSeconds: 5, signers: [A1] };
    it.each<[string, Partial<Record<keyof CliqueGenesisOptions, unknown>>, RegExp]>([
        ["chainId 0", { chainId: 0 }, /opts\.chainId must be an integer >= 1 .*got 0\. Pick a chain ID/],
        ["chainId negative", { chainId: -5 }, /opts\.chainId must be an integer >= 1/],
        ["chainId fractional", { chainId: 1.5 }, /opts\.chainId .*got 1\.5/],
        ["chainId unsafe", { chainId: 2 ** 53 }, /opts\.chainId must be an integer >= 1 \(and <= 9007199254740991\)/],
        ["chainId string", { chainId: "1337" }, /opts\.chainId .*got "1337"/],
        ["chainId missing", { chainId: undefined }, /opts\.chainId .*got undefined/],
        ["period 0", { periodSeconds: 0 }, /opts\.periodSeconds must be an integer >= 1 .*got 0/],
        ["period fractional", { periodSeconds: 0.5 }, /opts\.periodSeconds .*got 0\.5/],
        ["epoch 0", { epoch: 0 }, /opts\.epoch must be an integer >= 1 .*got 0\. Omit it for the default 30000/],
        ["timestamp negative", { timestamp: -1 }, /opts\.timestamp must be an integer >= 0/],
        ["gasLimit too small", { gasLimit: 4999 }, /opts\.gasLimit must be >= 5000, got 4999/],
        ["gasLimit too big", { gasLimit: 1n << 64n }, /opts\.gasLimit must be <= 18446744073709551615/],
        ["gasLimit with decimals", { gasLimit: "30000000.0" }, /opts\.gasLimit must be an integer gas amount.*got "30000000\.0"/],
        ["gasLimit exponent", { gasLimit: "3e7" }, /opts\.gasLimit must be an integer gas amount/],
        ["gasLimit unsafe number", { gasLimit: 2 ** 64 }, /opts\.gasLimit must be an integer gas amount/],
        ["baseFee negative", { baseFeePerGas: -1n }, /opts\.baseFeePerGas must be >= 0, got -1\. Pass a non-negative amount of wei/],
        ["no signers", { signers: [] }, /opts\.signers must be a non-empty array/],
        ["signers missing", { signers: undefined }, /opts\.signers must be a non-empty array of signer addresses, got undefined/],
        ["duplicate signer", { signers: [A2, A2] }, /opts\.signers\[1\] duplicates opts\.signers\[0\]/],
        ["bad signer", { signers: ["0xnope"] }, /opts\.signers\[0\] is not a valid address/],
        ["negative balance", { alloc: { [A1]: -1n } }, /opts\.alloc\["0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"\] must be >= 0, got -1/],
        ["negative balance string", { alloc: { [A1]: "-5" } }, /opts\.alloc\[.*\] must be >= 0, got -5/],
        ["balance in ether notation", { alloc: { [A1]: "1.5" } }, /opts\.alloc\[.*\] must be an integer amount of wei.*no decimals, no exponent/],
        ["balance number", { alloc: { [A1]: 1.5 } }, /opts\.alloc\[.*\] must be an integer amount of wei/],
        ["balance >= 2^256", { alloc: { [A1]: 1n << 256n } }, /opts\.alloc\[.*\] must be <= 1157920892373161954235709850086879078532699846656405640394575840079131296399/],
        ["bad alloc address", { alloc: { "0xabc": 1n } }, /opts\.alloc key "0xabc" is not a valid address/],
        ["alloc twice in different case", { alloc: { [A1]: 1n, [A1.toLowerCase()]: 2n } }, /opts\.alloc lists address 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf twice/],
        ["alloc array", { alloc: [] }, /opts\.alloc must be an object/],
    ])("rejects %s", (_what, patch, message) => {
        const opts = { ...base, ...patch } as CliqueGenesisOptions;
        expect(() => buildCliqueGenesis(opts)).toThrow(ChainInputError);
        expect(() => buildCliqueGenesis(opts)).toThrow(message);
    });
    it("rejects a missing opts object", () => {
        expect(() => buildCliqueGenesis(undefined as unknown as CliqueGenesisOptions)).toThrow(/opts must be an object/);
    });
    it("renders JSON with a trailing newline", () => {
        const g = buildCliqueGenesis(base);
        expect(genesisToJson(g)).toBe(JSON.stringify(g, null, 2) + "\n");
        expect(JSON.parse(genesisToJson(g))).toStrictEqual(g);
    });
});



// ---- property tests ----

const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress("0x" + Buffer.from(b).toString("hex")));
const signers = fc.uniqueArray(address, { minLength: 1, maxLength: 12, selector: (a) => a.toLowerCase() }).filter((s) => !s.includes("0x" + "00".repeat(20)));
const wei = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
const options: fc.Arbitrary<CliqueGenesisOptions> = fc.record(
    {
        chainId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        periodSeconds: fc.integer({ min: 1, max: 3600 }),
        epoch: fc.integer({ min: 1, max: 1_000_000 }),
        gasLimit: fc.oneof(fc.bigInt({ min: 5000n, max: (1n << 64n) - 1n }), fc.integer({ min: 5000, max: 1e12 })),
        signers,
        alloc: fc.dictionary(address, fc.oneof(wei, wei.map(String), wei.map((w) => "0x" + w.toString(16))), { maxKeys: 5 }).filter(
            (a) => new Set(Object.keys(a).map((k) => k.toLowerCase())).size === Object.keys(a).length,
        ),
        timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
        baseFeePerGas: fc.bigInt({ min: 0n, max: 10n ** 12n }),
    },
    { requiredKeys: ["chainId", "periodSeconds", "signers"] },
);

const HEX_QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/;

describe("properties", () => {
    it("extraData layout for 1..N random signers", () => {
        fc.assert(
            fc.property(signers, (list) => {
                const extra = cliqueExtraData(list);
                expect(extra).toMatch(/^0x[0-9a-f]*$/);
                const bytes = Buffer.from(extra.slice(2), "hex");
                expect(bytes.length).toBe(32 + 20 * list.length + 65);
                expect(bytes.subarray(0, 32).every((b) => b === 0)).toBe(true);
                expect(bytes.subarray(bytes.length - 65).every((b) => b === 0)).toBe(true);
                const listed: string[] = [];
                for (let i = 0; i < list.length; i++) listed.push("0x" + bytes.subarray(32 + 20 * i, 52 + 20 * i).toString("hex"));
                expect(listed).toEqual(list.map((a) => a.toLowerCase()).sort());
                // Ascending as raw bytes, which is geth's signersAscending order.
                for (let i = 1; i < listed.length; i++) expect(Buffer.compare(Buffer.from(listed[i - 1].slice(2), "hex"), Buffer.from(listed[i].slice(2), "hex"))).toBe(-1);
                // Order of the input does not matter.
                expect(cliqueExtraData([...list].reverse())).toBe(extra);
            }),
            { numRuns: 300 },
        );
    });

    it("genesis is deterministic and structurally valid for random valid inputs", () => {
        fc.assert(
            fc.property(options, (opts) => {
                const g = buildCliqueGenesis(opts);
                expect(genesisToJson(buildCliqueGenesis(structuredClone(opts)))).toBe(genesisToJson(g));
                expect(JSON.parse(genesisToJson(g))).toStrictEqual(g);

                expect(g.config.chainId).toBe(opts.chainId);
                expect(g.config.clique).toEqual({ period: opts.periodSeconds, epoch: opts.epoch ?? 30000 });
                for (const fork of ["homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock", "constantinopleBlock", "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock"] as const) {
                    expect(g.config[fork]).toBe(0);
                }
                expect(g.config).not.toHaveProperty("terminalTotalDifficulty");
                expect(g.config).not.toHaveProperty("shanghaiTime");
                expect(g.difficulty).toBe("0x1");
                expect(g.extraData).toBe(cliqueExtraData(opts.signers));
                expect(BigInt(g.gasLimit)).toBe(BigInt(opts.gasLimit ?? 30_000_000));
                expect(BigInt(g.timestamp)).toBe(BigInt(opts.timestamp ?? 0));
                for (const q of [g.nonce, g.timestamp, g.gasLimit, g.difficulty, g.number, g.gasUsed]) expect(q).toMatch(HEX_QUANTITY);
                expect(g.mixHash).toBe(ZERO32);
                expect(g.parentHash).toBe(ZERO32);
                expect(g.coinbase).toBe("0x" + "00".repeat(20));

                const keys = Object.keys(g.alloc);
                expect(keys).toEqual([...keys].sort());
                expect(keys.length).toBe(Object.keys(opts.alloc ?? {}).length);
                for (const [a, balance] of Object.entries(opts.alloc ?? {})) {
                    const entry = g.alloc[a.toLowerCase()];
                    expect(entry.balance).toMatch(HEX_QUANTITY);
                    expect(BigInt(entry.balance)).toBe(BigInt(balance));
                }
                if (opts.baseFeePerGas === undefined) expect(g).not.toHaveProperty("baseFeePerGas");
                else expect(BigInt(g.baseFeePerGas!)).toBe(BigInt(opts.baseFeePerGas));
            }),
            { numRuns: 200 },
        );
    });

    it("signerAddress output is accepted as a signer and lands in extraData", () => {
        fc.assert(
            fc.property(fc.bigInt({ min: 1n, max: 2n ** 200n }), (k) => {
                const a = signerAddress(k.toString(16).padStart(64, "0"));
                expect(buildCliqueGenesis({ chainId: 1, periodSeconds: 1, signers: [a] }).extraData).toContain(a.slice(2).toLowerCase());
            }),
            { numRuns: 50 },
        );
    });
});
