// The compose export as its users run it: `npm run export-compose` for a stack config, then
// the exported deploy.sh with the docker CLI talking to the lab's manager. Proves the bundle
// (compose files, secret files, node labels) stands up a working network on its own, and that
// its development account is funded: a transfer from it through one node's RPC is mined.
// Runs as root: `npx vitest run --project lab test/lab/export.test.ts`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import { afterAll, describe, expect, it } from "vitest";
import { hexToNumber, rpc } from "./chain";
import { LAB_ENV } from "./exec";
import { dockerCli, Lab, startLab, waitFor } from "./hosts";

const ROOT = path.resolve(__dirname, "..", "..");
/** Upper bounds that only catch hangs. */
const BOUND = { healthy: 120_000, tx: 60_000 };

describe("the compose export, deployed by its own deploy.sh", () => {
    let lab: Lab;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-export-"));
    const out = path.join(dir, "bundle");
    const ipOf = (host: string) => lab.host(host).ip;

    afterAll(async () => {
        await lab?.teardown();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("exports a stack config: compose bundles, 0600 key files, deploy.sh, network.json", async () => {
        lab = await startLab({ hostCount: 3 });
        const configFile = path.join(dir, "Pulumi.lab.yaml");
        fs.writeFileSync(
            configFile,
            // The lab's settings (no IPsec here, 2 s blocks), the local target's development account.
            "config:\n  geth-swarm:target: local\n  geth-swarm:visualizer: false\n  geth-swarm:encryptedOverlay: false\n  geth-swarm:blockPeriod: 2\n",
        );
        const r = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(ROOT, "examples", "export-compose.ts"), "--out", out, "--boot-host-ip", ipOf("worker"), "--config-file", configFile], {
            encoding: "utf8",
            timeout: 60_000,
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`Bootnode: enode://[0-9a-f]{128}@${ipOf("worker").replace(/\./g, "\\.")}:30301`));
        const secrets = fs.readdirSync(path.join(out, "secrets"));
        expect(secrets.sort()).toEqual([
            expect.stringMatching(/^boot_bootnode-key-[0-9a-f]{12}$/),
            "dev-account.key",
            expect.stringMatching(/^nodes_signer-0-key-[0-9a-f]{12}$/),
            expect.stringMatching(/^nodes_signer-0-password-[0-9a-f]{12}$/),
        ]);
        for (const f of secrets) expect(fs.statSync(path.join(out, "secrets", f)).mode & 0o777, f).toBe(0o600);
        expect(fs.statSync(path.join(out, "secrets")).mode & 0o777).toBe(0o700);
        // No key outside secrets/.
        const keys = secrets.map((f) => fs.readFileSync(path.join(out, "secrets", f), "utf8").trim().replace(/^0x/, ""));
        for (const f of ["deploy.sh", "network.json", "boot/docker-compose.yml", "nodes/docker-compose.yml", "nodes/configs/genesis.json"]) {
            const text = fs.readFileSync(path.join(out, f), "utf8");
            for (const k of keys) expect(text.includes(k), `${f} holds a key`).toBe(false);
        }
    }, 30 * 60_000);

    it("deploy.sh labels the nodes, creates the secrets and deploys both stacks; the nodes peer and the chain advances", async () => {
        const deploy = spawnSync("sh", [path.join(out, "deploy.sh")], {
            env: { ...LAB_ENV, DOCKER_HOST: `unix://${lab.managerSocket}`, PATH: `${path.dirname(dockerCli())}:${LAB_ENV.PATH}` },
            encoding: "utf8",
            timeout: 120_000,
        });
        expect(deploy.status, deploy.stdout + deploy.stderr).toBe(0);
        const labels = await lab.docker(["node", "inspect", "miner-worker", "--format", "{{json .Spec.Labels}}"]);
        expect(JSON.parse(labels.stdout)).toMatchObject({ role: "miner", "geth-swarm.signer": "0", "geth-swarm.host": "miner-worker" });
        const network = JSON.parse(fs.readFileSync(path.join(out, "network.json"), "utf8"));
        expect(network.chainId).toBe(4242);
        await waitFor(
            "both node hosts to answer with a peer and a head above 2",
            async () => {
                const views = await Promise.all(
                    ["manager", "worker"].map(async (h) => ({
                        peers: hexToNumber(await rpc<string>(ipOf(h), 8545, "net_peerCount")),
                        head: hexToNumber(await rpc<string>(ipOf(h), 8545, "eth_blockNumber")),
                        chainId: hexToNumber(await rpc<string>(ipOf(h), 8545, "eth_chainId")),
                    })),
                );
                return views.every((v) => v.peers > 0 && v.head > 2 && v.chainId === 4242) ? views : undefined;
            },
            BOUND.healthy,
            1_000,
        );
    }, 5 * 60_000);

    it("the development account is funded in the genesis: a transfer from it through one node's RPC is mined and seen by the other", async () => {
        const network = JSON.parse(fs.readFileSync(path.join(out, "network.json"), "utf8"));
        const key = fs.readFileSync(path.join(out, network.devAccount.keyFile), "utf8").trim();
        const worker = new JsonRpcProvider(`http://${ipOf("worker")}:8545/`, 4242, { staticNetwork: true });
        const manager = new JsonRpcProvider(`http://${ipOf("manager")}:8545/`, 4242, { staticNetwork: true });
        try {
            const wallet = new Wallet(key, worker);
            expect(wallet.address).toBe(network.devAccount.address);
            expect(await worker.getBalance(wallet.address)).toBe(parseEther("1000000"));
            const to = Wallet.createRandom().address;
            const tx = await wallet.sendTransaction({ to, value: parseEther("1.5") });
            const receipt = await tx.wait(1, BOUND.tx);
            expect(receipt?.status).toBe(1);
            const seen = await waitFor("the transfer on the other node", async () => ((await manager.getBalance(to)) === parseEther("1.5") ? true : undefined), BOUND.tx, 500);
            expect(seen).toBe(true);
        } finally {
            worker.destroy();
            manager.destroy();
        }
    }, 5 * 60_000);
});
