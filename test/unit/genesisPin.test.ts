import { describe, expect, it } from "vitest";
import { signerAddress } from "../../components/chain/secp256k1";
import { resolveConfig } from "../../components/config";
import { GenesisFacts, genesisChangeProblem, genesisFacts, genesisPinProvider, renderGenesis } from "../../stacks";

const key = (i: number) => (i + 1).toString(16).padStart(2, "0").repeat(32);
const addresses = (n: number) => Array.from({ length: n }, (_, i) => signerAddress(key(i)));

/** The facts of the genesis the nodes stack renders for these settings and genesis signers. */
function facts(raw: Record<string, unknown>, signers: string[]): GenesisFacts {
    const c = resolveConfig(raw);
    return genesisFacts(c, renderGenesis(c, signers), signers);
}

const base = facts({}, addresses(1));

describe("genesisChangeProblem", () => {
    it("sees no problem in the same genesis", () => {
        expect(genesisChangeProblem(base, facts({}, addresses(1)))).toBeUndefined();
        expect(genesisChangeProblem(base, { ...base })).toBeUndefined();
    });

    it("names genesisSigners and the count to pin when only signers were added (minerCount raised)", () => {
        const p = genesisChangeProblem(base, facts({ minerCount: 2 }, addresses(2)));
        expect(p).toMatch(/genesis signers 1 -> 2\)/);
        expect(p).toMatch(/set geth-swarm:genesisSigners to 1 \(library: config\.chain\.genesisSignerCount\)/);
        expect(p).toMatch(/hosts that start afterwards would initialise the new genesis/);
        const three = facts({ minerCount: 3 }, addresses(3));
        expect(genesisChangeProblem(facts({ minerCount: 2 }, addresses(2)), three)).toMatch(/genesisSigners to 2/);
    });

    it.each([
        ["chainId", { chainId: 4243 }, addresses(1), /chainId 4242 -> 4243/],
        ["blockPeriod", { blockPeriod: 2 }, addresses(1), /blockPeriod 5 -> 2/],
        ["epoch", { epoch: 100 }, addresses(1), /epoch 30000 -> 100/],
        ["gasLimit", { gasLimit: "60000000" }, addresses(1), /gasLimit 30000000 -> 60000000/],
        ["prefund", { prefundAccounts: [addresses(3)[2]] }, addresses(1), /prefundAccounts \/ prefundBalanceEth/],
        ["another signer list", {}, [addresses(2)[1]], /genesis signers 1 -> 1 \(a different list\)/],
        ["fewer signers", { minerCount: 2 }, addresses(1), /genesis signers 2 -> 1 \(a different list\)/],
    ])("refuses a changed %s with the way out: put it back, or destroy and start a new chain", (_what, raw, signers, change) => {
        const from = _what === "fewer signers" ? facts({ minerCount: 2 }, addresses(2)) : base;
        const p = genesisChangeProblem(from, facts(raw, signers));
        expect(p).toMatch(change);
        expect(p).toMatch(/Put the settings back, or start a new chain: `pulumi destroy`, then `pulumi up`\./);
        expect(p).not.toMatch(/genesisSigners/);
    });

    it("names devAccount when a chain created without the development account would get one", () => {
        const dev = addresses(5)[4];
        const c = resolveConfig({});
        const withDev = genesisFacts(c, renderGenesis(c, addresses(1), dev), addresses(1), dev);
        expect(withDev.alloc[dev]).toBe(c.chain.prefundBalanceWei.toString());
        const p = genesisChangeProblem(base, withDev);
        expect(p).toMatch(/\(a development account \(devAccount\) added\)/);
        expect(p).toMatch(/set geth-swarm:devAccount to off/);
        // The same development account again is no change; another prefund beside it is still named.
        expect(genesisChangeProblem(withDev, genesisFacts(c, renderGenesis(c, addresses(1), dev), addresses(1), dev))).toBeUndefined();
        const more = resolveConfig({ prefundAccounts: [addresses(4)[3]] });
        expect(genesisChangeProblem(withDev, genesisFacts(more, renderGenesis(more, addresses(1), dev), addresses(1), dev))).toMatch(/prefundAccounts \/ prefundBalanceEth/);
    });

    it("does not offer genesisSigners when signers were added together with another change", () => {
        const p = genesisChangeProblem(base, facts({ minerCount: 2, blockPeriod: 2 }, addresses(2)));
        expect(p).toMatch(/blockPeriod 5 -> 2, genesis signers 1 -> 2/);
        expect(p).toMatch(/pulumi destroy/);
    });
});

describe("the GenesisPin provider", () => {
    const check = (olds: unknown, news: unknown) => genesisPinProvider.check!(olds as never, news as never);

    it("accepts any genesis on the first deploy (no old inputs) and an unchanged one later", async () => {
        expect(await check({}, { facts: base })).toEqual({ inputs: { facts: base } });
        expect(await check({ facts: base }, { facts: { ...base } })).toEqual({ inputs: { facts: base } });
    });

    it("fails the check, on the facts property, when the deployed genesis would change", async () => {
        const next = facts({ minerCount: 2 }, addresses(2));
        const r = await check({ facts: base }, { facts: next });
        expect(r.inputs).toEqual({ facts: next });
        expect(r.failures).toHaveLength(1);
        expect(r.failures![0].property).toBe("facts");
        expect(r.failures![0].reason).toBe(genesisChangeProblem(base, next));
    });

    it("does not judge a genesis that is not known yet (a preview before the keys exist)", async () => {
        const unknown = { ...base, hash: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" };
        expect((await check({ facts: base }, { facts: unknown })).failures).toBeUndefined();
        expect((await check({ facts: base }, { facts: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).failures).toBeUndefined();
    });

    it("creates with an id from the hash and reports a change only when the hash differs", async () => {
        const created = await genesisPinProvider.create!({ facts: base });
        expect(created.id).toBe(`genesis-${base.hash.slice(0, 16)}`);
        expect(created.outs).toEqual({ facts: base });
        expect((await genesisPinProvider.diff!("x", { facts: base }, { facts: { ...base } })).changes).toBe(false);
        expect((await genesisPinProvider.diff!("x", { facts: base }, { facts: { ...base, hash: "0".repeat(64) } })).changes).toBe(true);
    });
});
