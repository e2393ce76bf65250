/**
 * {@link GenesisPin}: keeps a deployed chain's genesis from changing under it.
 *
 * The nodes stack initialises each host's data directory from the genesis config once,
 * on the first start there. A later deploy with a different genesis (another chain id,
 * period, gas limit, prefunded account, or signer list) would leave the running nodes on
 * the old chain while every host that starts afterwards initialises a new, incompatible
 * one: a silent split. The usual cause is raising `minerCount` on a running chain, which
 * by default also lists the new signer in the genesis; `genesisSigners` keeps the genesis
 * as it was and lets the running signers vote the new one in.
 *
 * The pin is a Pulumi dynamic resource whose `check` compares the genesis it was created
 * with (its old inputs) with the one the program now renders, and fails `pulumi preview`
 * and `pulumi up` with the fix when they differ. The nodes stack's resources depend on it,
 * so nothing of the stack changes before the check has passed.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { GethSwarmConfig } from "../components/config/types";

/** What a genesis says, in the terms of the program's config. Plain, non-secret data. */
export interface GenesisFacts {
    /** SHA-256 (hex) of the genesis file. */
    readonly hash: string;
    readonly chainId: number;
    readonly blockPeriod: number;
    readonly epoch: number;
    /** Decimal string. */
    readonly gasLimit: string;
    /** Signer addresses listed in the genesis, in order. */
    readonly signers: readonly string[];
    /** Prefunded accounts and their balances in wei (decimal strings), the development account's included. */
    readonly alloc: Readonly<Record<string, string>>;
    /** The development account's address, when the genesis funds one. */
    readonly devAccount?: string;
}

/** SHA-256 (hex) of a genesis file's content. */
export function genesisHash(genesisJson: string): string {
    return createHash("sha256").update(genesisJson, "utf8").digest("hex");
}

/** The facts of `genesisJson`, the genesis rendered from `config` with `signers` (and the development account `devAccount`) in it. */
export function genesisFacts(config: GethSwarmConfig, genesisJson: string, signers: readonly string[], devAccount?: string): GenesisFacts {
    const { chain } = config;
    const funded = [...chain.prefundAccounts, ...(devAccount ? [devAccount] : [])];
    return {
        hash: genesisHash(genesisJson),
        chainId: chain.chainId,
        blockPeriod: chain.blockPeriod,
        epoch: chain.epoch,
        gasLimit: chain.gasLimit.toString(),
        signers: [...signers],
        alloc: Object.fromEntries(funded.map((a) => [a, chain.prefundBalanceWei.toString()])),
        ...(devAccount ? { devAccount } : {}),
    };
}

/**
 * Why `next` may not replace the genesis `old` of a running chain, with the fix; or
 * undefined when they are the same genesis.
 */
export function genesisChangeProblem(old: GenesisFacts, next: GenesisFacts): string | undefined {
    if (old.hash === next.hash) return undefined;
    const lower = (xs: readonly string[]) => xs.map((x) => x.toLowerCase());
    const [was, now] = [lower(old.signers), lower(next.signers)];
    const grew = now.length > was.length && was.every((a, i) => now[i] === a);
    const changes: string[] = [];
    if (old.chainId !== next.chainId) changes.push(`chainId ${old.chainId} -> ${next.chainId}`);
    if (old.blockPeriod !== next.blockPeriod) changes.push(`blockPeriod ${old.blockPeriod} -> ${next.blockPeriod}`);
    if (old.epoch !== next.epoch) changes.push(`epoch ${old.epoch} -> ${next.epoch}`);
    if (old.gasLimit !== next.gasLimit) changes.push(`gasLimit ${old.gasLimit} -> ${next.gasLimit}`);
    if (JSON.stringify(was) !== JSON.stringify(now)) changes.push(`genesis signers ${was.length} -> ${now.length}${grew ? "" : " (a different list)"}`);
    const devOnly = (f: GenesisFacts) => JSON.stringify(Object.entries(f.alloc).filter(([a]) => a !== f.devAccount).sort());
    if (old.devAccount !== next.devAccount) {
        changes.push(next.devAccount && !old.devAccount ? "a development account (devAccount) added" : old.devAccount && !next.devAccount ? "the development account (devAccount) removed" : "another development account");
    }
    if (devOnly(old) !== devOnly(next)) changes.push("prefundAccounts / prefundBalanceEth");
    const what = changes.length > 0 ? changes.join(", ") : "its content";
    const head =
        `the genesis of the deployed chain would change (${what}). Hosts already running keep the old chain; ` +
        "hosts that start afterwards would initialise the new genesis and never join it.";
    if (grew && changes.length === 1) {
        return (
            `${head} Raising minerCount adds signers to the genesis unless genesisSigners pins it: set geth-swarm:genesisSigners ` +
            `to ${was.length} (library: config.chain.genesisSignerCount), and the running signers vote the new ones in.`
        );
    }
    if (!old.devAccount && next.devAccount && changes.length === 1) {
        return `${head} A chain created before the development account existed keeps its genesis: set geth-swarm:devAccount to off (or fund an account of yours by sending it ether), or start a new chain: \`pulumi destroy\`, then \`pulumi up\`.`;
    }
    return `${head} Put the settings back, or start a new chain: \`pulumi destroy\`, then \`pulumi up\`.`;
}

interface PinInputs {
    facts: GenesisFacts;
}

/** The dynamic provider of {@link GenesisPin}. Exported for tests. */
export const genesisPinProvider: pulumi.dynamic.ResourceProvider<PinInputs, PinInputs> = {
    async check(olds: Partial<PinInputs>, news: PinInputs): Promise<pulumi.dynamic.CheckResult<PinInputs>> {
        const old = olds?.facts;
        const next = news?.facts;
        // On the first deploy there is nothing to compare; in a preview the new genesis may not be known yet.
        if (!old || !next || typeof old.hash !== "string" || typeof next.hash !== "string" || !/^[0-9a-f]{64}$/.test(next.hash)) {
            return { inputs: news };
        }
        const problem = genesisChangeProblem(old, next);
        return problem ? { inputs: news, failures: [{ property: "facts", reason: problem }] } : { inputs: news };
    },
    async diff(_id: string, olds: PinInputs, news: PinInputs): Promise<pulumi.dynamic.DiffResult> {
        return { changes: olds.facts?.hash !== news.facts?.hash, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: PinInputs): Promise<pulumi.dynamic.CreateResult<PinInputs>> {
        return { id: `genesis-${inputs.facts.hash.slice(0, 16)}`, outs: inputs };
    },
    async update(_id: string, _olds: PinInputs, news: PinInputs): Promise<pulumi.dynamic.UpdateResult<PinInputs>> {
        return { outs: news };
    },
};

export interface GenesisPinArgs {
    /** What the genesis the program renders now says. */
    readonly facts: pulumi.Input<GenesisFacts>;
}

/**
 * Fails `pulumi preview` / `pulumi up` when the genesis of a deployed chain would change,
 * naming what changed and the fix (see the module comment). Created with the nodes stack;
 * it holds no secret and touches nothing outside Pulumi's state.
 */
export class GenesisPin extends pulumi.dynamic.Resource {
    declare public readonly facts: pulumi.Output<GenesisFacts>;

    constructor(name: string, args: GenesisPinArgs, opts?: pulumi.CustomResourceOptions) {
        super(genesisPinProvider, name, { facts: args.facts }, opts, "geth-swarm", "GenesisPin");
    }
}
