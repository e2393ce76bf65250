/**
 * Checks built genesis files against a real geth v1.13.15 binary, when one is
 * available: $GETH_BIN, or the lab's build under /var/cache/geth-swarm-lab.
 * Skipped otherwise.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildCliqueGenesis, genesisToJson, signerAddress } from "./index";

const GETH = [process.env.GETH_BIN, "/var/cache/geth-swarm-lab/geth-v1.13.15/bin/geth"].find(
    (p): p is string => typeof p === "string" && p.length > 0 && existsSync(p),
);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function gethInit(genesisJson: string): { status: number | null; output: string } {
    const dir = mkdtempSync(join(tmpdir(), "chain-geth-"));
    dirs.push(dir);
    writeFileSync(join(dir, "genesis.json"), genesisJson);
    const r = spawnSync(GETH!, ["init", "--datadir", join(dir, "data"), join(dir, "genesis.json")], { encoding: "utf8", timeout: 60_000 });
    return { status: r.status, output: r.stdout + r.stderr };
}

describe.skipIf(GETH === undefined)("geth init (real binary)", () => {
    it("accepts a Clique genesis with several signers, alloc and a base fee", () => {
        const signers = [1n, 2n, 3n].map((k) => signerAddress(k.toString(16).padStart(64, "0")));
        const genesis = buildCliqueGenesis({
            chainId: 4242,
            periodSeconds: 2,
            signers,
            alloc: { [signers[0]]: 10n ** 24n, [signers[1]]: "0x10", [signers[2]]: "0" },
            timestamp: 1_700_000_000,
            baseFeePerGas: 7n,
            gasLimit: "8000000",
        });
        const { status, output } = gethInit(genesisToJson(genesis));
        expect(output).toMatch(/Successfully wrote genesis state/);
        expect(status).toBe(0);
    });

    it("rejects the same genesis with no signers in extraData (the check this library enforces first)", () => {
        const genesis = buildCliqueGenesis({ chainId: 4242, periodSeconds: 2, signers: [signerAddress("01".padStart(64, "0"))] });
        const { status, output } = gethInit(genesisToJson({ ...genesis, extraData: "0x" + "00".repeat(32 + 65 - 1) }));
        expect(status).not.toBe(0);
        expect(output).toMatch(/can't start clique chain without signers/);
    });
});
