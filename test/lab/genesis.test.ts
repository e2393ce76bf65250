/**
 * Checks built genesis files against the real geth v1.13.15 binary that the lab builds
 * (or $GETH_BIN). A missing binary is a failure, never a skip.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCliqueGenesis, genesisToJson, signerAddress } from "../../components/chain";
import { DEFAULT_GETH_VERSION, ensureImages, labCacheDir } from "./images";

let GETH = process.env.GETH_BIN ?? "";
beforeAll(async () => {
    if (!GETH) {
        await ensureImages();
        GETH = join(labCacheDir(), `geth-${DEFAULT_GETH_VERSION}`, "bin", "geth");
    }
    if (!existsSync(GETH)) throw new Error(`no geth binary at ${GETH}: the lab image build did not produce it`);
}, 30 * 60_000);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function gethInit(genesisJson: string): { status: number | null; output: string } {
    const dir = mkdtempSync(join(tmpdir(), "chain-geth-"));
    dirs.push(dir);
    writeFileSync(join(dir, "genesis.json"), genesisJson);
    const r = spawnSync(GETH, ["init", "--datadir", join(dir, "data"), join(dir, "genesis.json")], { encoding: "utf8", timeout: 60_000 });
    return { status: r.status, output: r.stdout + r.stderr };
}

describe("geth init (real binary)", () => {
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
