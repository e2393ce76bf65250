import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { enodeFromNodeKey } from "../../components/chain/enode";
import { signerAddress } from "../../components/chain/secp256k1";
import { resolveConfig } from "../../components/config";
import {
    COMPOSE_FILE, bootStackSpec, composeBundle, contentDigest, nodesStackSpec, renderCompose, secretsToCreate, writeComposeBundle,
} from "../../stacks";

const NODE_KEY = "0b".repeat(32);
const SIGNER_KEY = "5e".repeat(32);
const PASSWORD = "correcthorsebatterystaple0123456";
const config = resolveConfig({ encryptedOverlay: false, visualizer: false });
const ips: Record<string, string> = { manager: "10.0.1.10", worker: "10.0.1.11", "miner-worker": "10.0.2.20" };

const boot = bootStackSpec({ config, bootHostIp: ips.worker, bootnodeKeyDigest: contentDigest(NODE_KEY) });
const nodes = nodesStackSpec({
    config,
    enode: enodeFromNodeKey(NODE_KEY, ips.worker),
    hosts: config.hosts.map((h) => ({ name: h.name, class: h.class, signerIndex: h.signerIndex })),
    signers: [{ address: signerAddress(SIGNER_KEY), keyDigest: contentDigest(SIGNER_KEY), passwordDigest: contentDigest(PASSWORD) }],
});

/** The nodes stack for other settings: signer 0 has SIGNER_KEY, signer i > 0 the key of 32 bytes `i + 1`; same enode. */
function nodesFor(raw: Record<string, unknown>) {
    const c = resolveConfig({ encryptedOverlay: false, visualizer: false, ...raw });
    const keys = Array.from({ length: c.chain.signerCount }, (_, i) => (i === 0 ? SIGNER_KEY : (i + 1).toString(16).padStart(2, "0").repeat(32)));
    return nodesStackSpec({
        config: c,
        enode: enodeFromNodeKey(NODE_KEY, ips.worker),
        hosts: c.hosts.map((h) => ({ name: h.name, class: h.class, signerIndex: h.signerIndex })),
        signers: keys.map((k) => ({ address: signerAddress(k), keyDigest: contentDigest(k), passwordDigest: contentDigest(PASSWORD) })),
    });
}

const dirs: string[] = [];
afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dockerStackConfigWorks(): boolean {
    return spawnSync("docker", ["stack", "config", "--help"], { encoding: "utf8" }).status === 0;
}

describe("compose rendering (as the lab uses it, without Pulumi)", () => {
    it("names secrets with a digest of their value and lists them to create, values nowhere", () => {
        expect(secretsToCreate(boot)).toEqual([
            {
                key: "bootnode-key",
                name: `boot_bootnode-key-${contentDigest(NODE_KEY)}`,
                source: { kind: "bootnodeKey" },
                description: expect.stringContaining("bootnode node key"),
                labels: { "com.docker.stack.namespace": "boot" },
            },
        ]);
        expect(secretsToCreate(nodes).map((s) => [s.name, s.source])).toEqual([
            [`nodes_signer-0-key-${contentDigest(SIGNER_KEY)}`, { kind: "signerKey", index: 0 }],
            [`nodes_signer-0-password-${contentDigest(PASSWORD)}`, { kind: "signerPassword", index: 0 }],
        ]);
        for (const spec of [boot, nodes]) {
            const text = JSON.stringify(composeBundle(spec));
            for (const v of [NODE_KEY, SIGNER_KEY, PASSWORD]) expect(text).not.toContain(v);
        }
    });

    it("stays the same when a worker host is added: nothing to update, no task restarts", () => {
        expect(nodesFor({ workerCount: 3 })).toEqual(nodes);
    });

    it("with the genesis pinned, adding a miner host changes the signers config and the miner's secrets only: same genesis, node untouched", () => {
        const grown = nodesFor({ minerCount: 2, genesisSigners: 1 });
        const byKey = <T extends { key: string }>(xs: readonly T[]) => Object.fromEntries(xs.map((x) => [x.key, x]));
        const [was, now] = [byKey(nodes.configs), byKey(grown.configs)];
        expect(now.genesis).toEqual(was.genesis);
        expect(now.start).toEqual(was.start);
        expect(now.signers.name).not.toBe(was.signers.name);
        expect(now.signers.content.split("\n").slice(1, 3)).toEqual([
            `miner-worker 0 ${signerAddress(SIGNER_KEY).toLowerCase()}`,
            `miner-worker-2 1 ${signerAddress("02".repeat(32)).toLowerCase()}`,
        ]);
        expect(byKey(grown.services).node).toEqual(byKey(nodes.services).node);
        const [minerWas, minerNow] = [byKey(nodes.services).miner, byKey(grown.services).miner];
        expect({ ...minerNow, secrets: [], configs: [] }).toEqual({ ...minerWas, secrets: [], configs: [] });
        expect(minerNow.secrets.map((r) => r.target)).toEqual(["signer-0-key", "signer-0-password", "signer-1-key", "signer-1-password"]);
        expect(grown.secrets.slice(0, 2)).toEqual(nodes.secrets);
    });

    it("lists every signer in the genesis unless genesisSigners pins fewer", () => {
        const extra = (spec: ReturnType<typeof nodesFor>) => JSON.parse(spec.configs.find((c) => c.key === "genesis")!.content).extraData as string;
        const signerCountIn = (x: string) => (x.length - 2 - 64 - 130) / 40;
        expect(signerCountIn(extra(nodesFor({ minerCount: 3 })))).toBe(3);
        expect(signerCountIn(extra(nodesFor({ minerCount: 3, genesisSigners: 2 })))).toBe(2);
        expect(extra(nodesFor({ minerCount: 3, genesisSigners: 1 }))).toBe(extra(nodes));
    });

    it("without a visualizer and encryption, the boot stack is the bootnode on the host network, beside a plain overlay", () => {
        const doc = parse(renderCompose(boot));
        expect(Object.keys(doc.services)).toEqual(["bootnode"]);
        expect(doc.networks).toEqual({ default: { driver: "overlay", attachable: true, labels: { "geth-swarm.encrypted": "false" } }, hostnet: { external: true, name: "host" } });
        const b = doc.services.bootnode;
        expect([b.networks, b.ports, b.hostname, b.command]).toEqual([["hostnet"], undefined, undefined, ["-nodekey", "/run/secrets/bootnode-key", "-addr", "10.0.1.11:30301"]]);
        // Unprivileged, the owner of its key; the user quoted, so no YAML 1.1 reader takes it for a base-60 number.
        expect(b.user).toBe("10001:10001");
        expect(renderCompose(boot)).toContain('user: "10001:10001"');
        expect(b.secrets).toEqual([{ source: "bootnode-key", target: "bootnode-key", uid: "10001", gid: "10001", mode: 0o400 }]);
    });

    it("puts node and miner on the host network: no ports, no hostname template, no overlay", () => {
        const doc = parse(renderCompose(nodes));
        expect(doc.networks).toEqual({ hostnet: { external: true, name: "host" } });
        for (const key of ["node", "miner"]) {
            const s = doc.services[key];
            expect([s.networks, s.ports, s.hostname, s.deploy.endpoint_mode], key).toEqual([["hostnet"], undefined, undefined, "dnsrr"]);
        }
    });

    it("refuses a miner host whose signer does not exist", () => {
        expect(() =>
            nodesStackSpec({
                config,
                enode: enodeFromNodeKey(NODE_KEY, ips.worker),
                hosts: [{ name: "miner-worker", class: "miner", signerIndex: 3 }],
                signers: [{ address: signerAddress(SIGNER_KEY), keyDigest: "0", passwordDigest: "0" }],
            }),
        ).toThrow(/miner host miner-worker has signer index 3, but there are 1 signer\(s\)/);
    });

    it("is accepted by the Docker CLI's compose loader (docker stack config)", () => {
        expect(dockerStackConfigWorks(), "needs a Docker CLI with `docker stack config` (20.10 or later) on PATH").toBe(true);
        for (const spec of [boot, nodes]) {
            const dir = mkdtempSync(join(tmpdir(), `gs-compose-${spec.stack}-`));
            dirs.push(dir);
            const file = writeComposeBundle(spec, dir);
            expect(file).toBe(join(dir, COMPOSE_FILE));
            const r = spawnSync("docker", ["stack", "config", "-c", file], { encoding: "utf8", cwd: dir });
            expect(r.stderr).toBe("");
            expect(r.status).toBe(0);
            const seen = parse(r.stdout);
            expect(Object.keys(seen.services).sort()).toEqual(spec.services.map((s) => s.key).sort());
            for (const c of spec.configs) {
                expect(seen.configs[c.key].name).toBe(c.name);
                expect(readFileSync(seen.configs[c.key].file, "utf8")).toBe(c.content);
            }
            for (const s of spec.secrets) expect(seen.secrets[s.key]).toEqual({ name: s.name, external: true });
            for (const s of spec.services) {
                expect(seen.services[s.key].user, s.key).toBe(s.user);
                const owners = (seen.services[s.key].secrets ?? []).map((r: any) => `${r.source} ${r.uid ?? "-"}:${r.gid ?? "-"}`);
                expect(owners, s.key).toEqual(s.secrets.map((r) => `${r.ref} ${r.uid ?? "-"}:${r.gid ?? "-"}`));
            }
        }
    });
});
