/**
 * The compose export: both stacks of a config as files for people who run `docker stack
 * deploy` themselves, with everything the stacks need besides the files: the generated keys
 * (one file per swarm secret, 0600), a `deploy.sh` that labels the swarm's nodes as the host
 * plan says, creates the secrets that do not exist yet and deploys `boot`, then `nodes`, and
 * a `network.json` with the chain's public facts (chain id, enode, signer and development
 * account addresses).
 *
 * Pure but for {@link writeComposeExport}: the keys are given (see {@link newExportKeys}).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { enodeFromNodeKey } from "../components/chain/enode";
import { normalizePrivateKey, signerAddress } from "../components/chain/secp256k1";
import type { GethSwarmConfig } from "../components/config/types";
import { bootStackSpec } from "./boot";
import { composeBundle } from "./compose";
import { contentDigest } from "./files";
import { nodesStackSpec } from "./nodes";
import { SecretSource, StackSpec, STACK_NAMESPACE_LABEL } from "./spec";

/** The key material of an exported network. Secret: it ends up in 0600 files only. */
export interface ExportKeys {
    readonly bootnodeKey: string;
    readonly signerKeys: readonly string[];
    readonly signerPasswords: readonly string[];
    /** With `config.devAccount`. */
    readonly devAccountKey?: string;
}

/** A valid secp256k1 private key from the system's CSPRNG: 64 hex digits. */
function newKey(): string {
    for (;;) {
        try {
            return normalizePrivateKey(randomBytes(32).toString("hex"));
        } catch {
            // 0 or >= n: astronomically rare, draw again
        }
    }
}

/** Fresh keys for `config`: a bootnode key, a key and a keystore password per signer, a development account key. */
export function newExportKeys(config: GethSwarmConfig): ExportKeys {
    const n = config.chain.signerCount;
    return {
        bootnodeKey: newKey(),
        signerKeys: Array.from({ length: n }, newKey),
        signerPasswords: Array.from({ length: n }, () => randomBytes(24).toString("base64url")),
        ...(config.devAccount ? { devAccountKey: newKey() } : {}),
    };
}

/** What {@link composeExport} produces: relative path -> content, and which files are secret (0600). */
export interface ComposeExport {
    readonly files: Record<string, string>;
    readonly secretFiles: readonly string[];
    readonly enode: string;
}

/** The value of one secret a spec references (`secretsToCreate`), from the stacks' keys. */
export function secretValue(keys: Pick<ExportKeys, "bootnodeKey" | "signerKeys" | "signerPasswords">, source: SecretSource): string {
    switch (source.kind) {
        case "bootnodeKey":
            return keys.bootnodeKey;
        case "signerKey":
            return keys.signerKeys[source.index];
        case "signerPassword":
            return keys.signerPasswords[source.index];
    }
}

/** A shell word for `value` (single quotes). */
function sh(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

function deployScript(config: GethSwarmConfig, specs: readonly StackSpec[]): string {
    const lines = [
        "#!/bin/sh",
        "# Deploys the exported geth-swarm network on the swarm the docker CLI talks to (a manager;",
        "# DOCKER_HOST or DOCKER_CONTEXT choose it): node labels of the host plan, the swarm secrets",
        "# that do not exist yet (from ./secrets), then the stacks boot and nodes.",
        "#",
        "# The swarm's node hostnames must be the plan's host names (below); rename the nodes, or",
        "# edit the labels' node names, before you run it.",
        "set -eu",
        'cd "$(dirname "$0")"',
        "",
        "echo 'node labels (the host plan)'",
    ];
    for (const h of config.hosts) {
        const adds = Object.entries(h.labels).flatMap(([k, v]) => ["--label-add", sh(`${k}=${v}`)]);
        lines.push(`docker node update ${adds.join(" ")} ${sh(h.name)} >/dev/null`);
    }
    for (const spec of specs) {
        lines.push("", `echo 'stack ${spec.stack}: secrets, then docker stack deploy'`);
        for (const s of spec.secrets) {
            lines.push(
                `docker secret inspect ${sh(s.name)} >/dev/null 2>&1 || docker secret create --label ${sh(`${STACK_NAMESPACE_LABEL}=${spec.stack}`)} ${sh(s.name)} ${sh(`secrets/${s.name}`)} >/dev/null`,
            );
        }
        // `never`: every node runs the image its engine has or pulls by tag; no registry is asked for a digest here.
        lines.push(`docker stack deploy --resolve-image never --prune -c ${sh(`${spec.stack}/docker-compose.yml`)} ${sh(spec.stack)}`);
    }
    return `${lines.join("\n")}\n`;
}

/**
 * Both stacks of `config` as compose bundles (`boot/`, `nodes/`), their secrets as files
 * (`secrets/<swarm secret name>`, and `secrets/dev-account.key`), `deploy.sh` and
 * `network.json`. `bootHostIp` is the address the boot host's peers reach it at (the swarm
 * node labelled `geth-swarm.boot=true`, `config.bootHost`).
 */
export function composeExport(config: GethSwarmConfig, keys: ExportKeys, bootHostIp: string): ComposeExport {
    const boot = bootStackSpec({ config, bootHostIp, bootnodeKeyDigest: contentDigest(keys.bootnodeKey) });
    const enode = enodeFromNodeKey(keys.bootnodeKey, bootHostIp, config.ports.bootnode);
    const signers = keys.signerKeys.map((k, i) => ({ address: signerAddress(k), keyDigest: contentDigest(k), passwordDigest: contentDigest(keys.signerPasswords[i]) }));
    const devAccount = keys.devAccountKey ? signerAddress(keys.devAccountKey) : undefined;
    const nodes = nodesStackSpec({
        config,
        enode,
        hosts: config.hosts.map((h) => ({ name: h.name, class: h.class, signerIndex: h.signerIndex })),
        signers,
        ...(devAccount ? { devAccount } : {}),
    });
    const files: Record<string, string> = {};
    const secretFiles: string[] = [];
    for (const spec of [boot, nodes]) {
        for (const [rel, content] of Object.entries(composeBundle(spec).files)) files[`${spec.stack}/${rel}`] = content;
        for (const s of spec.secrets) {
            files[`secrets/${s.name}`] = secretValue(keys, s.source);
            secretFiles.push(`secrets/${s.name}`);
        }
    }
    if (keys.devAccountKey) {
        files["secrets/dev-account.key"] = `0x${keys.devAccountKey}\n`;
        secretFiles.push("secrets/dev-account.key");
    }
    files["deploy.sh"] = deployScript(config, [boot, nodes]);
    files["network.json"] = `${JSON.stringify(
        {
            chainId: config.chain.chainId,
            enode,
            signerAddresses: signers.map((s) => s.address),
            ...(devAccount ? { devAccount: { address: devAccount, keyFile: "secrets/dev-account.key" } } : {}),
            rpcPort: config.ports.rpc,
            ...(config.rpc.ws.enabled ? { wsPort: config.rpc.ws.port } : {}),
            hosts: config.hosts.map((h) => ({ name: h.name, labels: h.labels })),
        },
        null,
        2,
    )}\n`;
    return { files, secretFiles, enode };
}

/** Writes {@link composeExport} into `dir`: secret files 0600 in a 0700 `secrets/`, `deploy.sh` executable. */
export function writeComposeExport(dir: string, exported: ComposeExport): void {
    for (const [rel, content] of Object.entries(exported.files)) {
        const path = join(dir, rel);
        const secret = exported.secretFiles.includes(rel);
        mkdirSync(dirname(path), { recursive: true, mode: secret ? 0o700 : 0o755 });
        writeFileSync(path, content, { mode: secret ? 0o600 : rel === "deploy.sh" ? 0o755 : 0o644 });
        chmodSync(path, secret ? 0o600 : rel === "deploy.sh" ? 0o755 : 0o644);
    }
}
