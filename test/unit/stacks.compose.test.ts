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
    COMPOSE_FILE, bootStackSpec, composeBundle, contentDigest, nodesStackSpec, renderCompose, secretsToCreate, specShape, writeComposeBundle,
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
    hosts: config.hosts.map((h) => ({ name: h.name, privateIp: ips[h.name], class: h.class, signerIndex: h.signerIndex })),
    signers: [{ address: signerAddress(SIGNER_KEY), keyDigest: contentDigest(SIGNER_KEY), passwordDigest: contentDigest(PASSWORD) }],
});

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

    it("changes a config's name when its content changes, and nothing else's", () => {
        const other = nodesStackSpec({
            config,
            enode: enodeFromNodeKey(NODE_KEY, ips.worker),
            hosts: config.hosts.map((h) => ({ name: h.name, privateIp: h.name === "worker" ? "10.0.1.99" : ips[h.name], class: h.class, signerIndex: h.signerIndex })),
            signers: [{ address: signerAddress(SIGNER_KEY), keyDigest: contentDigest(SIGNER_KEY), passwordDigest: contentDigest(PASSWORD) }],
        });
        expect(specShape(other)).toEqual(specShape(nodes));
        const changed = other.configs.filter((c, i) => c.name !== nodes.configs[i].name).map((c) => c.key);
        expect(changed).toEqual(["hosts"]);
    });

    it("without a visualizer and encryption, the boot stack is the bootnode on the host network, beside a plain overlay", () => {
        const doc = parse(renderCompose(boot));
        expect(Object.keys(doc.services)).toEqual(["bootnode"]);
        expect(doc.networks).toEqual({ default: { driver: "overlay", attachable: true }, hostnet: { external: true, name: "host" } });
        const b = doc.services.bootnode;
        expect([b.networks, b.ports, b.hostname, b.command]).toEqual([["hostnet"], undefined, undefined, ["-nodekey", "/run/secrets/bootnode-key", "-addr", "10.0.1.11:30301"]]);
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
                hosts: [{ name: "miner-worker", privateIp: "10.0.2.20", class: "miner", signerIndex: 3 }],
                signers: [],
            }),
        ).toThrow(/miner host miner-worker has signer index 3, but there are 0 signer\(s\)/);
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
        }
    });
});
