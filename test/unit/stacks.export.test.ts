// The compose export (stacks/export.ts) as pure data: which files, what deploy.sh does, and
// that the keys are in the secret files only. The lab deploys an export for real
// (test/lab/export.test.ts).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { signerAddress } from "../../components/chain/secp256k1";
import { resolveConfig } from "../../components/config";
import { composeExport, newExportKeys, writeComposeExport } from "../../stacks/export";

const config = resolveConfig({ visualizer: false, encryptedOverlay: false, minerCount: 2, genesisSigners: 1 });
const keys = newExportKeys(config);
const exported = composeExport(config, keys, "10.0.1.11");

describe("composeExport", () => {
    it("writes both bundles, one 0600 file per swarm secret and the development key, deploy.sh and network.json", () => {
        expect(Object.keys(exported.files).sort()).toEqual([
            "boot/docker-compose.yml",
            "deploy.sh",
            "network.json",
            "nodes/configs/genesis.json",
            "nodes/configs/signers",
            "nodes/configs/start.sh",
            "nodes/docker-compose.yml",
            ...exported.secretFiles,
        ].sort());
        expect(exported.secretFiles.map((f) => f.replace(/-[0-9a-f]{12}$/, "-<digest>")).sort()).toEqual([
            "secrets/boot_bootnode-key-<digest>", "secrets/dev-account.key",
            "secrets/nodes_signer-0-key-<digest>", "secrets/nodes_signer-0-password-<digest>",
            "secrets/nodes_signer-1-key-<digest>", "secrets/nodes_signer-1-password-<digest>",
        ]);
        const net = JSON.parse(exported.files["network.json"]);
        expect(net).toMatchObject({
            chainId: 4242, enode: exported.enode, rpcPort: 8545,
            signerAddresses: keys.signerKeys.map(signerAddress),
            devAccount: { address: signerAddress(keys.devAccountKey!), keyFile: "secrets/dev-account.key" },
        });
        expect(exported.enode).toMatch(/^enode:\/\/[0-9a-f]{128}@10\.0\.1\.11:30301$/);
        // The genesis funds the development account and lists the first signer only.
        const genesis = JSON.parse(exported.files["nodes/configs/genesis.json"]);
        expect(Object.keys(genesis.alloc).map((a) => a.toLowerCase())).toEqual([signerAddress(keys.devAccountKey!).toLowerCase()]);
        expect(genesis.extraData.toLowerCase()).toContain(signerAddress(keys.signerKeys[0]).slice(2).toLowerCase());
        expect(genesis.extraData.toLowerCase()).not.toContain(signerAddress(keys.signerKeys[1]).slice(2).toLowerCase());
    });

    it("keeps every key and password out of everything but its own secret file", () => {
        const values = [keys.bootnodeKey, ...keys.signerKeys, ...keys.signerPasswords, keys.devAccountKey!];
        for (const [file, content] of Object.entries(exported.files)) {
            if (exported.secretFiles.includes(file)) continue;
            for (const v of values) expect(content.includes(v), `${file}`).toBe(false);
        }
        for (const v of values) expect(exported.secretFiles.filter((f) => exported.files[f].includes(v))).toHaveLength(1);
    });

    it("deploy.sh labels the plan's hosts, creates missing secrets from the files, deploys boot then nodes; shellcheck-clean", () => {
        const script = exported.files["deploy.sh"];
        expect(script).toContain("docker node update --label-add 'geth-swarm.host=miner-worker-2' --label-add 'role=miner' --label-add 'geth-swarm.signer=1' 'miner-worker-2'");
        expect(script).toContain("docker node update --label-add 'geth-swarm.host=worker' --label-add 'geth-swarm.boot=true' 'worker'");
        const secretLines = script.split("\n").filter((l) => l.startsWith("docker secret inspect"));
        expect(secretLines).toHaveLength(5);
        for (const l of secretLines) expect(l).toMatch(/^docker secret inspect '(\S+)' >\/dev\/null 2>&1 \|\| docker secret create --label 'com\.docker\.stack\.namespace=(boot|nodes)' '\1' 'secrets\/\1' >\/dev\/null$/);
        const deploys = script.split("\n").filter((l) => l.startsWith("docker stack deploy"));
        expect(deploys).toEqual([
            "docker stack deploy --resolve-image never --prune -c 'boot/docker-compose.yml' 'boot'",
            "docker stack deploy --resolve-image never --prune -c 'nodes/docker-compose.yml' 'nodes'",
        ]);
        expect(spawnSync("shellcheck", ["--version"]).status, "shellcheck is not installed: apt-get install -y shellcheck").toBe(0);
        const lint = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
        expect(lint.stdout + lint.stderr).toBe("");
    });

    it("writes the secret files 0600 in a 0700 directory and deploy.sh executable", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-export-unit-"));
        try {
            writeComposeExport(dir, exported);
            expect(fs.statSync(path.join(dir, "secrets")).mode & 0o777).toBe(0o700);
            for (const f of exported.secretFiles) expect(fs.statSync(path.join(dir, f)).mode & 0o777, f).toBe(0o600);
            expect(fs.statSync(path.join(dir, "deploy.sh")).mode & 0o777).toBe(0o755);
            expect(fs.readFileSync(path.join(dir, "nodes/configs/start.sh"), "utf8")).toBe(exported.files["nodes/configs/start.sh"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("draws new keys each time, and no development key without the development account", () => {
        expect(newExportKeys(config).bootnodeKey).not.toBe(keys.bootnodeKey);
        const aws = resolveConfig({ target: "aws", adminCidrs: ["81.2.69.142/32"] });
        expect(newExportKeys(aws).devAccountKey).toBeUndefined();
        expect(Object.keys(composeExport(aws, newExportKeys(aws), "10.0.1.11").files)).not.toContain("secrets/dev-account.key");
    });
});
