import { getAddress, isAddress } from "ethers";
import { ChainInputError } from "./errors";

/** Clique extra-data vanity prefix: 32 bytes (geth `consensus/clique` `extraVanity`). */
export const CLIQUE_EXTRA_VANITY = 32;
/** Clique extra-data seal suffix: 65 bytes, one secp256k1 signature (geth `extraSeal`). */
export const CLIQUE_EXTRA_SEAL = 65;
/** Default Clique epoch (blocks between checkpoints that reset votes), as geth's `clique.epochLength`. */
export const DEFAULT_CLIQUE_EPOCH = 30000;
/** Default genesis gas limit. */
export const DEFAULT_GAS_LIMIT = 30_000_000n;
/** geth's `params.MinGasLimit`: the smallest gas limit a block may have. */
export const MIN_GAS_LIMIT = 5000n;

const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;
const ZERO_HASH = "0x" + "00".repeat(32);
const ZERO_ADDRESS = "0x" + "00".repeat(20);

/** An integer amount given as a bigint, a safe-integer number, or a decimal / `0x`-hex string. */
export type IntegerInput = bigint | number | string;

/** Options of {@link buildCliqueGenesis}. */
export interface CliqueGenesisOptions {
    /** EIP-155 chain ID; a positive safe integer. Also the network ID geth uses by default. */
    chainId: number;
    /** Clique block period in seconds; an integer >= 1. */
    periodSeconds: number;
    /** Clique epoch length in blocks; a positive safe integer. Default 30000. */
    epoch?: number;
    /** Genesis block gas limit; 5000..2^64-1. Default 30,000,000. */
    gasLimit?: IntegerInput;
    /** Addresses of the initial Clique signers (at least one; any case; no duplicates). */
    signers: string[];
    /** Pre-funded accounts: address -> balance in wei (non-negative, < 2^256). */
    alloc?: Record<string, bigint | string>;
    /** Genesis timestamp in seconds since the epoch; a non-negative safe integer. Default 0. */
    timestamp?: number;
    /**
     * Base fee of the genesis block in wei (London is active from block 0).
     * Default: omitted, and geth uses its initial base fee (1 gwei).
     */
    baseFeePerGas?: IntegerInput;
}

/** Chain configuration of a Clique genesis: every fork up to London at block 0, no merge. */
export interface CliqueChainConfig {
    chainId: number;
    homesteadBlock: 0;
    eip150Block: 0;
    eip155Block: 0;
    eip158Block: 0;
    byzantiumBlock: 0;
    constantinopleBlock: 0;
    petersburgBlock: 0;
    istanbulBlock: 0;
    berlinBlock: 0;
    londonBlock: 0;
    clique: { period: number; epoch: number };
}

/** A genesis specification as geth's `core.Genesis` reads it from JSON (quantities as `0x` hex strings). */
export interface CliqueGenesis {
    config: CliqueChainConfig;
    nonce: string;
    timestamp: string;
    extraData: string;
    gasLimit: string;
    difficulty: string;
    mixHash: string;
    coinbase: string;
    alloc: Record<string, { balance: string }>;
    number: string;
    gasUsed: string;
    parentHash: string;
    baseFeePerGas?: string;
}

function positiveSafeInteger(value: unknown, argument: string, min: number, fix: string): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
        throw new ChainInputError(
            argument,
            `${argument} must be an integer >= ${min} (and <= ${Number.MAX_SAFE_INTEGER}), got ${describe(value)}. ${fix}`,
        );
    }
    return value;
}

function describe(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value.length > 80 ? value.slice(0, 80) + "..." : value);
    if (typeof value === "bigint") return `${value}n`;
    if (typeof value === "number") return String(value);
    return value === null ? "null" : typeof value;
}

/**
 * Parses an integer amount (bigint, safe-integer number, decimal string or
 * `0x` hex string) and checks it lies in [min, max].
 */
function parseInteger(value: unknown, argument: string, min: bigint, max: bigint, unit: string): bigint {
    let n: bigint | undefined;
    if (typeof value === "bigint") n = value;
    else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
    else if (typeof value === "string") {
        const s = value.trim();
        if (/^[0-9]+$/.test(s)) n = BigInt(s);
        else if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = BigInt(s);
        else if (/^-[0-9]+$/.test(s)) n = BigInt(s);
    }
    if (n === undefined) {
        throw new ChainInputError(
            argument,
            `${argument} must be an integer ${unit}: a bigint, a safe integer, or a decimal or 0x-hex string; got ${describe(value)}. ` +
                `Write 1 ether as 1000000000000000000n or "1000000000000000000" (no decimals, no exponent).`,
        );
    }
    if (n < min) {
        throw new ChainInputError(argument, `${argument} must be >= ${min}, got ${n}. Pass a ${min === 0n ? "non-negative" : "larger"} ${unit}.`);
    }
    if (n > max) {
        throw new ChainInputError(argument, `${argument} must be <= ${max}, got ${n}. Pass a smaller ${unit}.`);
    }
    return n;
}

function hex(n: bigint): string {
    return "0x" + n.toString(16);
}

/**
 * Validates an address and returns it lower-case with `0x`. Uses ethers'
 * `isAddress`, so a mixed-case address with a wrong EIP-55 checksum is rejected.
 */
function normalizeAddress(value: unknown, argument: string): string {
    if (typeof value !== "string" || !isAddress(value)) {
        const why =
            typeof value === "string" && /^(0x)?[0-9a-fA-F]{40}$/.test(value)
                ? "its mixed-case EIP-55 checksum is wrong (a typo?)"
                : "it is not 20 bytes of hex";
        throw new ChainInputError(
            argument,
            `${argument} is not a valid address (${describe(value)}): ${why}. Pass a 0x-prefixed 40-hex-digit address, e.g. from signerAddress(key).`,
        );
    }
    return getAddress(value).toLowerCase();
}

/** Validates and normalises a signer list: lower-case, sorted ascending, duplicates rejected. */
function normalizeSigners(signers: unknown, argument: string): string[] {
    if (!Array.isArray(signers) || signers.length === 0) {
        throw new ChainInputError(
            argument,
            `${argument} must be a non-empty array of signer addresses, got ${Array.isArray(signers) ? "an empty array" : describe(signers)}. ` +
                `A Clique chain needs at least one signer to seal blocks.`,
        );
    }
    const seen = new Map<string, number>();
    const out: string[] = [];
    signers.forEach((s, i) => {
        const a = normalizeAddress(s, `${argument}[${i}]`);
        if (a === ZERO_ADDRESS) {
            throw new ChainInputError(`${argument}[${i}]`, `${argument}[${i}] is the zero address, which no key controls. Pass a signer's address.`);
        }
        const first = seen.get(a);
        if (first !== undefined) {
            throw new ChainInputError(
                `${argument}[${i}]`,
                `${argument}[${i}] duplicates ${argument}[${first}] (${getAddress(a)}). List each signer once.`,
            );
        }
        seen.set(a, i);
        out.push(a);
    });
    return out.sort();
}

/**
 * Clique genesis extra-data: 32 zero bytes of vanity, the signer addresses
 * (20 bytes each, sorted ascending as geth's Clique snapshot keeps them), and
 * 65 zero bytes for the (absent) seal. Lower-case `0x` hex,
 * `2 * (32 + 20 * signers.length + 65)` hex digits.
 *
 * @throws ChainInputError for an empty list, an invalid, zero or duplicate address.
 */
export function cliqueExtraData(signers: string[]): string {
    return extraDataOf(normalizeSigners(signers, "signers"));
}

function extraDataOf(sortedSigners: string[]): string {
    return "0x" + "00".repeat(CLIQUE_EXTRA_VANITY) + sortedSigners.map((a) => a.slice(2)).join("") + "00".repeat(CLIQUE_EXTRA_SEAL);
}

/**
 * Builds a Clique proof-of-authority genesis for geth v1.13 (`geth init`).
 *
 * All block-numbered forks from Homestead to London are active at block 0.
 * Deliberately absent: `terminalTotalDifficulty` (with it set, geth treats the
 * chain as merging into proof-of-stake) and `shanghaiTime` / `cancunTime`
 * (geth's Clique engine refuses to verify Shanghai or Cancun headers).
 * The glacier forks (muirGlacier/arrowGlacier/grayGlacier) only delay the
 * proof-of-work difficulty bomb and are irrelevant to Clique, so they are left out.
 *
 * The result is a plain JSON-serialisable object with a fixed key order and
 * alloc sorted by address, so equal options give byte-identical JSON.
 *
 * @throws ChainInputError naming the offending option.
 */
export function buildCliqueGenesis(opts: CliqueGenesisOptions): CliqueGenesis {
    if (opts === null || typeof opts !== "object") {
        throw new ChainInputError("opts", `opts must be an object with chainId, periodSeconds and signers, got ${describe(opts)}.`);
    }
    const chainId = positiveSafeInteger(opts.chainId, "opts.chainId", 1, "Pick a chain ID not used by a public network, e.g. 1337 or a random 6-digit number.");
    const period = positiveSafeInteger(opts.periodSeconds, "opts.periodSeconds", 1, "Use the number of seconds between blocks, e.g. 5.");
    const epoch = positiveSafeInteger(opts.epoch ?? DEFAULT_CLIQUE_EPOCH, "opts.epoch", 1, `Omit it for the default ${DEFAULT_CLIQUE_EPOCH}.`);
    const timestamp = opts.timestamp === undefined ? 0 : positiveSafeInteger(opts.timestamp, "opts.timestamp", 0, "Use seconds since the Unix epoch, or omit it for 0.");
    const gasLimit = parseInteger(opts.gasLimit ?? DEFAULT_GAS_LIMIT, "opts.gasLimit", MIN_GAS_LIMIT, MAX_UINT64, "gas amount");
    const baseFee = opts.baseFeePerGas === undefined ? undefined : parseInteger(opts.baseFeePerGas, "opts.baseFeePerGas", 0n, MAX_UINT256, "amount of wei");
    const extraData = extraDataOf(normalizeSigners(opts.signers, "opts.signers"));

    const alloc: Record<string, { balance: string }> = {};
    const allocIn = opts.alloc ?? {};
    if (allocIn === null || typeof allocIn !== "object" || Array.isArray(allocIn)) {
        throw new ChainInputError("opts.alloc", `opts.alloc must be an object mapping address to balance in wei, got ${describe(allocIn)}.`);
    }
    const entries: [string, bigint, string][] = [];
    for (const [address, balance] of Object.entries(allocIn)) {
        const arg = `opts.alloc[${JSON.stringify(address)}]`;
        const a = normalizeAddress(address, `opts.alloc key ${JSON.stringify(address)}`);
        entries.push([a, parseInteger(balance, arg, 0n, MAX_UINT256, "amount of wei"), address]);
    }
    entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (let i = 1; i < entries.length; i++) {
        if (entries[i][0] === entries[i - 1][0]) {
            throw new ChainInputError(
                "opts.alloc",
                `opts.alloc lists address ${getAddress(entries[i][0])} twice (as ${JSON.stringify(entries[i - 1][2])} and ${JSON.stringify(entries[i][2])}). Merge the two entries.`,
            );
        }
    }
    for (const [a, balance] of entries) alloc[a] = { balance: hex(balance) };

    const genesis: CliqueGenesis = {
        config: {
            chainId,
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
            clique: { period, epoch },
        },
        nonce: "0x0",
        timestamp: hex(BigInt(timestamp)),
        extraData,
        gasLimit: hex(gasLimit),
        difficulty: "0x1",
        mixHash: ZERO_HASH,
        coinbase: ZERO_ADDRESS,
        alloc,
        number: "0x0",
        gasUsed: "0x0",
        parentHash: ZERO_HASH,
    };
    if (baseFee !== undefined) genesis.baseFeePerGas = hex(baseFee);
    return genesis;
}

/** The genesis as the JSON text of a `genesis.json` file (2-space indent, trailing newline). */
export function genesisToJson(genesis: CliqueGenesis): string {
    return JSON.stringify(genesis, null, 2) + "\n";
}
