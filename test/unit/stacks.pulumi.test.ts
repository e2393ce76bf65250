import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { enodeFromNodeKey, parseEnode } from "../../components/chain/enode";
import { signerAddress } from "../../components/chain/secp256k1";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BootStack, NodesStack, StackSpec, bootStackSpec, composeBundle, genesisHash, renderCompose, renderStackResources, serviceArgs } from "../../stacks";
import { HOST_IPS, Recorded, TLS, fixture, mockHex, mockPassword, mockSwarmNetworkId, recorded, settle, value } from "./stacks.fixtures";

const DOCKER = {
    service: "docker:index/service:Service",
    network: "docker:index/network:Network",
    secret: "docker:index/secret:Secret",
    config: "docker:index/serviceConfig:ServiceConfig",
    provider: "pulumi:providers:docker",
    labels: "pulumi-nodejs:dynamic/geth-swarm:SwarmNodeLabels",
    enodeCheck: "pulumi-nodejs:dynamic/geth-swarm:BootnodeEnodeCheck",
    chainReady: "pulumi-nodejs:dynamic/geth-swarm:ChainReady",
    genesisPin: "pulumi-nodejs:dynamic/geth-swarm:GenesisPin",
    networkId: "pulumi-nodejs:dynamic/geth-swarm:SwarmNetworkId",
};
/** The swarm ID the mocked manager reports for Docker's `host` network. */
const HOST_ID = mockSwarmNetworkId("host");
const isDynamic = (type: string) => type.startsWith("pulumi-nodejs:dynamic/");
/** A resource to depend on. */
class TestResource extends pulumi.CustomResource {
    constructor(type: string, name: string) {
        super(type, name, {});
    }
}
const NS = "com.docker.stack.namespace";

interface Deployed {
    boot: BootStack;
    nodes: NodesStack;
    records: Recorded[];
    bootSpec: StackSpec;
    nodesSpec: StackSpec;
    /** Every secret value the deployment generated. */
    secretValues: string[];
}

async function deploy(prefix: string, raw: Record<string, unknown> = {}): Promise<Deployed> {
    const { config, hosts } = fixture(raw);
    const boot = new BootStack(`${prefix}-boot`, { config, hosts });
    const nodes = new NodesStack(`${prefix}-nodes`, { config, hosts, enode: boot.enode, dependsOn: [boot] });
    const all = [
        boot, nodes, boot.provider, nodes.provider, boot.network,
        ...Object.values(boot.services), ...Object.values(nodes.services),
        ...(boot.nodeLabels ? [boot.nodeLabels] : []), ...(boot.enodeCheck ? [boot.enodeCheck] : []), ...(nodes.chainReady ? [nodes.chainReady] : []), nodes.genesisPin,
        boot.hostNetwork, nodes.hostNetwork,
    ];
    await settle(all);
    const [bootSpec, nodesSpec] = await Promise.all([value(boot.spec), value(nodes.spec)]);
    const records = recorded.filter((r) => r.name.startsWith(`${prefix}-`));
    const secretValues = [
        mockHex(`${prefix}-boot-bootnode-nodekey`),
        ...Array.from({ length: config.chain.signerCount }, (_, i) => [mockHex(`${prefix}-nodes-signer-${i}-key`), mockPassword(`${prefix}-nodes-signer-${i}-password`)]).flat(),
    ];
    return { boot, nodes, records, bootSpec, nodesSpec, secretValues };
}

function one(records: Recorded[], type: string, name: string): Recorded {
    const found = records.filter((r) => r.type === type && r.name === name);
    expect(found, `${type} ${name}`).toHaveLength(1);
    return found[0];
}
const ofType = (records: Recorded[], type: string) => records.filter((r) => r.type === type);
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
const labelsOf = (list: { label: string; value: string }[] | undefined) => Object.fromEntries((list ?? []).map((l) => [l.label, l.value]));

/** Record inputs without the serialised dynamic provider, with secret data redacted: what snapshots hold. */
function snapshotable(records: Recorded[], prefix: string): unknown[] {
    return records
        .filter((r) => r.type.startsWith("docker:") || isDynamic(r.type))
        .map((r) => {
            const inputs = { ...r.inputs };
            delete inputs.__provider;
            if (r.type === DOCKER.secret) inputs.data = "<secret: redacted>";
            if (inputs.endpoint) inputs.endpoint = { ...inputs.endpoint, keyPem: "<secret: redacted>" };
            if (typeof inputs.dir === "string") inputs.dir = inputs.dir.replace(process.env.GETH_SWARM_HOME!, "$GETH_SWARM_HOME");
            return { type: r.type, name: r.name.replace(prefix, "<prefix>"), inputs };
        })
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

describe("reference scenario (manager, worker, miner-worker)", () => {
    let d: Deployed;
    beforeAll(async () => {
        // The reference scenario with the visualizer on (off by default), so that its service is covered.
        d = await deploy("ref", { visualizer: true });
    });

    it("creates exactly the expected children", () => {
        const names = d.records.map((r) => `${r.type} ${r.name}`).sort();
        expect(names).toEqual(
            [
                `${DOCKER.provider} ref-boot-provider`,
                `${DOCKER.provider} ref-nodes-provider`,
                `random:index/randomBytes:RandomBytes ref-boot-bootnode-nodekey`,
                `random:index/randomBytes:RandomBytes ref-nodes-signer-0-key`,
                `random:index/randomPassword:RandomPassword ref-nodes-signer-0-password`,
                `${DOCKER.network} ref-boot-network-default`,
                `${DOCKER.secret} ref-boot-secret-bootnode-key`,
                `${DOCKER.secret} ref-nodes-secret-signer-0-key`,
                `${DOCKER.secret} ref-nodes-secret-signer-0-password`,
                `${DOCKER.config} ref-nodes-config-start`,
                `${DOCKER.config} ref-nodes-config-genesis`,
                `${DOCKER.config} ref-nodes-config-signers`,
                `${DOCKER.service} ref-boot-service-bootnode`,
                `${DOCKER.service} ref-boot-service-visualizer`,
                `${DOCKER.service} ref-nodes-service-node`,
                `${DOCKER.service} ref-nodes-service-miner`,
                `${DOCKER.labels} ref-boot-node-labels`,
                `${DOCKER.enodeCheck} ref-boot-enode-check`,
                `${DOCKER.chainReady} ref-nodes-chain-ready`,
                `${DOCKER.genesisPin} ref-nodes-genesis-pin`,
                `${DOCKER.networkId} ref-boot-host-network`,
                `${DOCKER.networkId} ref-nodes-host-network`,
                `pulumi-nodejs:dynamic/geth-swarm:DockerTlsFilesCleanup ref-boot-provider-tls-files`,
                `pulumi-nodejs:dynamic/geth-swarm:DockerTlsFilesCleanup ref-nodes-provider-tls-files`,
                `geth-swarm:stacks:BootStack ref-boot`,
                `geth-swarm:stacks:NodesStack ref-nodes`,
            ].sort(),
        );
    });

    it("connects a docker provider to the manager with its TLS material in files of its own (0600 key), removed with the stack", () => {
        for (const name of ["ref-boot-provider", "ref-nodes-provider"]) {
            const p = one(d.records, DOCKER.provider, name);
            // Inline material would let DOCKER_HOST override the host (@pulumi/docker 5.x); a certPath does not.
            const dir = join(process.env.GETH_SWARM_HOME!, "docker-tls", "geth-swarm", "test", name);
            expect(p.inputs).toEqual({ host: "tcp://198.51.100.10:2376", certPath: dir });
            expect(p.secretPaths).toEqual([]);
            expect(readFileSync(join(dir, "ca.pem"), "utf8")).toBe(TLS.caPem);
            expect(readFileSync(join(dir, "cert.pem"), "utf8")).toBe(TLS.certPem);
            expect(readFileSync(join(dir, "key.pem"), "utf8")).toBe(TLS.keyPem);
            expect(statSync(join(dir, "key.pem")).mode & 0o777).toBe(0o600);
            expect(statSync(dir).mode & 0o777).toBe(0o700);
            expect(one(d.records, "pulumi-nodejs:dynamic/geth-swarm:DockerTlsFilesCleanup", `${name}-tls-files`).inputs).toMatchObject({ dir });
        }
        for (const r of d.records.filter((x) => x.type.startsWith("docker:index/"))) {
            expect(r.provider, r.name).toMatch(r.name.startsWith("ref-boot") ? /ref-boot-provider/ : /ref-nodes-provider/);
        }
    });

    it("bootnode: tools image, unprivileged, node key from a secret it owns, on the host network listening on the boot host's IP (no ports, no -nat), pinned to the boot host", () => {
        const s = one(d.records, DOCKER.service, "ref-boot-service-bootnode").inputs;
        const secret = one(d.records, DOCKER.secret, "ref-boot-secret-bootnode-key").inputs;
        expect(s.name).toBe("boot_bootnode");
        expect(s.mode).toEqual({ replicated: { replicas: 1 } });
        expect(s.endpointSpec).toEqual({ mode: "dnsrr", ports: [] });
        expect(s.taskSpec.containerSpec.image).toBe("ethereum/client-go:alltools-v1.13.15");
        expect(s.taskSpec.containerSpec.commands).toEqual(["bootnode"]);
        expect(s.taskSpec.containerSpec.args).toEqual(["-nodekey", "/run/secrets/bootnode-key", "-addr", "10.0.1.11:30301"]);
        expect(s.taskSpec.containerSpec.hostname).toBeUndefined();
        expect(s.taskSpec.containerSpec.env).toBeUndefined();
        // Unprivileged, and the owner of its key file, which no one else can read.
        expect(s.taskSpec.containerSpec.user).toBe("10001:10001");
        expect(s.taskSpec.containerSpec.secrets).toEqual([
            { secretId: "ref-boot-secret-bootnode-key-id", secretName: secret.name, fileName: "bootnode-key", fileUid: "10001", fileGid: "10001", fileMode: 0o400 },
        ]);
        expect(secret.name).toMatch(/^boot_bootnode-key-[0-9a-f]{12}$/);
        expect(s.taskSpec.placement).toEqual({ constraints: ["node.labels.geth-swarm.boot == true"] });
        // "any": a task whose process exits 0 (SIGTERM on a daemon shutdown) must come back too.
        expect(s.taskSpec.restartPolicy).toEqual({ condition: "any", delay: "5s", window: "0s", maxAttempts: 0 });
        expect(s.taskSpec.networksAdvanceds).toEqual([{ id: HOST_ID }]);
        expect(labelsOf(s.labels)).toEqual({ [NS]: "boot", "com.docker.stack.image": "ethereum/client-go:alltools-v1.13.15" });
        expect(labelsOf(s.taskSpec.containerSpec.labels)).toEqual({ [NS]: "boot" });
    });

    it("visualizer: on a manager, on the overlay network, docker socket read-only, port in host mode", () => {
        const s = one(d.records, DOCKER.service, "ref-boot-service-visualizer").inputs;
        expect(s.name).toBe("boot_visualizer");
        expect(s.taskSpec.containerSpec.image).toBe("dockersamples/visualizer:stable");
        expect(s.taskSpec.placement.constraints).toEqual(["node.role == manager"]);
        expect(s.taskSpec.containerSpec.mounts).toEqual([{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }]);
        expect(s.endpointSpec).toEqual({ mode: "dnsrr", ports: [{ targetPort: 8080, publishedPort: 8080, protocol: "tcp", publishMode: "host" }] });
        // By the overlay network resource's id, never by name.
        expect(s.taskSpec.networksAdvanceds).toEqual([{ id: "ref-boot-network-default-id" }]);
    });

    it("overlay network: boot_default, attachable, encrypted, labelled; the predefined host network is never created", () => {
        expect(ofType(d.records, DOCKER.network).map((r) => r.name)).toEqual(["ref-boot-network-default"]);
        const n = one(d.records, DOCKER.network, "ref-boot-network-default").inputs;
        expect(n).toMatchObject({ name: "boot_default", driver: "overlay", attachable: true, options: { encrypted: "" } });
        // The label carries the encryption (the options are not compared: the engine adds its own).
        expect(labelsOf(n.labels)).toEqual({ [NS]: "boot", "geth-swarm.encrypted": "true" });
    });

    it("node: global off miners, on the host network (no ports, no hostname template), safe RPC namespaces, start script", async () => {
        const s = one(d.records, DOCKER.service, "ref-nodes-service-node").inputs;
        const enode = await value(d.boot.enode);
        expect(s.name).toBe("nodes_node");
        expect(s.mode).toEqual({ global: true });
        expect(s.endpointSpec).toEqual({ mode: "dnsrr", ports: [] });
        expect(s.taskSpec.placement.constraints).toEqual(["node.labels.role != miner"]);
        expect(s.taskSpec.containerSpec.image).toBe("ethereum/client-go:v1.13.15");
        expect(s.taskSpec.containerSpec.commands).toEqual(["/bin/sh", "/geth-swarm/start.sh"]);
        expect(s.taskSpec.containerSpec.args).toEqual([
            "node", "--networkid", "4242", "--syncmode", "full", "--port", "30303", "--bootnodes", enode,
            "--txpool.accountqueue", "2048", "--txpool.globalqueue", "8192",
            "--http", "--http.addr", "0.0.0.0", "--http.port", "8545", "--http.api", "eth,net,web3",
        ]);
        expect(s.taskSpec.containerSpec.args.join(" ")).not.toMatch(/personal|admin|vhosts/);
        expect(s.taskSpec.restartPolicy).toEqual({ condition: "any", delay: "5s", window: "0s", maxAttempts: 0 });
        expect(s.taskSpec.containerSpec.hostname).toBeUndefined();
        expect(s.taskSpec.containerSpec.mounts).toEqual([
            { type: "volume", source: "nodes_node-data", target: "/data", volumeOptions: { labels: [{ label: NS, value: "nodes" }] } },
        ]);
        expect(s.taskSpec.containerSpec.secrets).toEqual([]);
        expect(s.taskSpec.containerSpec.configs.map((c: any) => [c.configId, c.fileName])).toEqual([
            ["ref-nodes-config-start-id", "/geth-swarm/start.sh"],
            ["ref-nodes-config-genesis-id", "/geth-swarm/genesis.json"],
        ]);
        expect(s.taskSpec.containerSpec.init).toBeUndefined();
        expect(s.taskSpec.networksAdvanceds).toEqual([{ id: HOST_ID }]);
    });

    it("miner: global on miners, on the host network, p2p only (no ports, no --http), signer secrets by id", () => {
        const s = one(d.records, DOCKER.service, "ref-nodes-service-miner").inputs;
        expect(s.name).toBe("nodes_miner");
        expect(s.mode).toEqual({ global: true });
        expect(s.taskSpec.placement.constraints).toEqual(["node.labels.role == miner"]);
        expect(s.endpointSpec).toEqual({ mode: "dnsrr", ports: [] });
        expect(s.taskSpec.networksAdvanceds).toEqual([{ id: HOST_ID }]);
        expect(s.taskSpec.containerSpec.hostname).toBeUndefined();
        expect(JSON.stringify(s)).not.toContain("8545");
        expect(s.taskSpec.containerSpec.args).not.toContain("--http");
        expect(s.taskSpec.containerSpec.args[0]).toBe("miner");
        // Out-of-order arrivals of a burst from one account are kept, not dropped (geth's default queue is 64).
        expect(s.taskSpec.containerSpec.args.join(" ")).toContain("--txpool.accountqueue 2048 --txpool.globalqueue 8192");
        // The signer targets the configured gas limit, not geth's own 30M default.
        expect(s.taskSpec.containerSpec.args.slice(-2)).toEqual(["--miner.gaslimit", "30000000"]);
        expect(s.taskSpec.restartPolicy).toEqual({ condition: "any", delay: "5s", window: "0s", maxAttempts: 0 });
        // The raw key is root's (only the start script's import reads it); geth, unprivileged, owns its password.
        expect(s.taskSpec.containerSpec.user).toBeUndefined();
        expect(s.taskSpec.containerSpec.secrets.map((x: any) => [x.secretId, x.fileName, `${x.fileUid}:${x.fileGid}`, x.fileMode])).toEqual([
            ["ref-nodes-secret-signer-0-key-id", "signer-0-key", "0:0", 0o400],
            ["ref-nodes-secret-signer-0-password-id", "signer-0-password", "10001:10001", 0o400],
        ]);
        expect(s.taskSpec.containerSpec.configs.map((c: any) => c.fileName)).toEqual([
            "/geth-swarm/start.sh", "/geth-swarm/genesis.json", "/geth-swarm/signers",
        ]);
        expect(s.taskSpec.containerSpec.init).toBeUndefined();
    });

    it("genesis and signers are configs with content-digest names; no host list", async () => {
        const addresses = await value(d.nodes.signerAddresses);
        expect(addresses).toEqual([signerAddress(mockHex("ref-nodes-signer-0-key"))]);
        const genesis = one(d.records, DOCKER.config, "ref-nodes-config-genesis").inputs;
        expect(genesis.name).toMatch(/^nodes_genesis-[0-9a-f]{12}$/);
        const g = JSON.parse(unb64(genesis.data));
        expect(g.config.chainId).toBe(4242);
        expect(g.config.clique).toEqual({ period: 5, epoch: 30000 });
        expect(g.extraData).toBe("0x" + "00".repeat(32) + addresses[0].slice(2).toLowerCase() + "00".repeat(65));
        expect(ofType(d.records, DOCKER.config).map((r) => r.name).sort()).toEqual(["ref-nodes-config-genesis", "ref-nodes-config-signers", "ref-nodes-config-start"]);
        const signersFile = unb64(one(d.records, DOCKER.config, "ref-nodes-config-signers").inputs.data);
        expect(signersFile).toContain(`miner-worker 0 ${addresses[0].toLowerCase()}\n`);
    });

    it("pins the genesis: the pin records what the genesis says, and every child of the stack waits for it", async () => {
        const addresses = await value(d.nodes.signerAddresses);
        const pin = one(d.records, DOCKER.genesisPin, "ref-nodes-genesis-pin").inputs;
        const genesisData = unb64(one(d.records, DOCKER.config, "ref-nodes-config-genesis").inputs.data);
        expect(pin.facts).toEqual({
            hash: genesisHash(genesisData),
            chainId: 4242,
            blockPeriod: 5,
            epoch: 30000,
            gasLimit: "30000000",
            signers: addresses,
            alloc: {},
        });
        expect(await value(d.nodes.genesis)).toBe(genesisData);
        expect(await value(d.nodes.genesisPin.facts)).toEqual(pin.facts);

        // Every child that touches the swarm depends on the pin, so a failed check stops them all.
        const deps = new Map<string, pulumi.Input<pulumi.Resource>[]>();
        const { config, hosts } = fixture({});
        const nodes = new NodesStack("pinned-nodes", { config, hosts, enode: enodeFromNodeKey("0b".repeat(32), HOST_IPS.worker) }, {
            transformations: [(a) => {
                deps.set(`${a.type} ${a.name}`, [a.opts.dependsOn ?? []].flat() as pulumi.Input<pulumi.Resource>[]);
                return undefined;
            }],
        });
        await settle([nodes, nodes.genesisPin, ...Object.values(nodes.services), ...(nodes.chainReady ? [nodes.chainReady] : [])]);
        const swarmChildren = [...deps.keys()].filter((k) => /^docker:index\/(service|secret|serviceConfig):/.test(k));
        expect(swarmChildren).toHaveLength(2 + 2 + 3);
        for (const k of swarmChildren) expect(deps.get(k), k).toContain(nodes.genesisPin);
    });

    it("runs the p2p services on the host network without ports; the only published port is the visualizer's, in host mode", () => {
        const services = ofType(d.records, DOCKER.service).map((r) => r.inputs);
        const shape = Object.fromEntries(
            services.map((s) => [s.name, { networks: networkNames(d.records, s), ports: s.endpointSpec.ports, hostname: s.taskSpec.containerSpec.hostname ?? null }]),
        );
        expect(shape).toEqual({
            boot_bootnode: { networks: ["host"], ports: [], hostname: null },
            boot_visualizer: { networks: ["boot_default"], ports: [{ targetPort: 8080, publishedPort: 8080, protocol: "tcp", publishMode: "host" }], hostname: null },
            nodes_node: { networks: ["host"], ports: [], hostname: null },
            nodes_miner: { networks: ["host"], ports: [], hostname: null },
        });
        // No ingress publishing anywhere; no service on the host network publishes a port.
        for (const s of services) {
            for (const p of s.endpointSpec.ports) expect(p.publishMode, `${s.name} ${p.targetPort}`).toBe("host");
            if (networkNames(d.records, s).includes("host")) expect(s.endpointSpec.ports, s.name).toEqual([]);
        }
        // Nothing advertises through NAT options but geth's per-host `--nat extip:` (set by the start script).
        for (const s of services) expect((s.taskSpec.containerSpec.args ?? []).join(" "), s.name).not.toMatch(/-nat\b|extip/);
    });

    it("labels every object with its stack", () => {
        for (const r of d.records.filter((x) => [DOCKER.service, DOCKER.network, DOCKER.secret, DOCKER.config].includes(x.type))) {
            expect(labelsOf(r.inputs.labels)[NS], r.name).toBe(r.name.startsWith("ref-boot") ? "boot" : "nodes");
        }
    });

    it("never inlines a key or password in any input; each value reaches only its own docker secret (base64)", () => {
        const all = d.records.map((r) => ({ r, text: JSON.stringify(r.inputs) }));
        for (const v of d.secretValues) {
            for (const { r, text } of all) {
                expect(text.includes(v), `${r.name} holds a secret value`).toBe(false);
                if (text.includes(b64(v))) {
                    expect(r.type, `${r.name} holds a secret value in base64`).toBe(DOCKER.secret);
                }
            }
            expect(all.filter(({ text }) => text.includes(b64(v)))).toHaveLength(1);
        }
        expect(unb64(one(d.records, DOCKER.secret, "ref-boot-secret-bootnode-key").inputs.data)).toBe(mockHex("ref-boot-bootnode-nodekey"));
        for (const r of ofType(d.records, DOCKER.secret)) expect(r.secretPaths, r.name).toEqual(["data"]);
        // The dynamic resources receive the endpoint as a secret (it holds the TLS key), never a chain key.
        const check = one(d.records, DOCKER.enodeCheck, "ref-boot-enode-check");
        expect(check.inputs.endpoint.keyPem).toBe(TLS.keyPem);
        expect(check.secretPaths).toEqual(["endpoint"]);
        expect(one(d.records, DOCKER.labels, "ref-boot-node-labels").secretPaths).toEqual(["endpoint"]);
        for (const name of ["ref-boot-host-network", "ref-nodes-host-network"]) expect(one(d.records, DOCKER.networkId, name).secretPaths, name).toEqual(["endpoint"]);
    });

    it("keeps the generated keys secret and the enode public", async () => {
        expect(await (d.boot.nodeKey as any).isSecret).toBe(true);
        expect(await (d.nodes.signerKeys[0] as any).isSecret).toBe(true);
        expect(await (d.boot.enode as any).isSecret).toBe(false);
        expect(await (d.nodes.signerAddresses as any).isSecret).toBe(false);
    });

    it("outputs the enode derived from the generated node key and the boot host's IP", async () => {
        const enode = await value(d.boot.enode);
        expect(enode).toBe(enodeFromNodeKey(mockHex("ref-boot-bootnode-nodekey"), HOST_IPS.worker, 30301));
        expect(parseEnode(enode).host).toBe("10.0.1.11");
        expect(await value(d.boot.stackName)).toBe("boot");
        expect(await value(d.boot.networkName)).toBe("boot_default");
        expect(await value(d.boot.visualizerUrl)).toBe("http://198.51.100.10:8080");
        expect(await value(d.nodes.stackName)).toBe("nodes");
        expect(await value(d.nodes.rpcEndpoints)).toEqual(["http://198.51.100.10:8545", "http://198.51.100.11:8545"]);
    });

    it("wires the swarm checks: labels for every host, the enode check on the bootnode, the chain wait on the RPC hosts", async () => {
        const labels = one(d.records, DOCKER.labels, "ref-boot-node-labels").inputs;
        expect(labels.hosts).toEqual([
            { name: "manager", labels: { "geth-swarm.host": "manager" } },
            { name: "worker", labels: { "geth-swarm.host": "worker", "geth-swarm.boot": "true" } },
            { name: "miner-worker", labels: { "geth-swarm.host": "miner-worker", role: "miner", "geth-swarm.signer": "0" } },
        ]);
        expect(labels.timeoutSeconds).toBe(600);
        expect(labels.owned).toEqual({ keys: ["role"], prefixes: ["geth-swarm."] });
        const check = one(d.records, DOCKER.enodeCheck, "ref-boot-enode-check").inputs;
        expect(check.serviceName).toBe("boot_bootnode");
        expect(check.expectedEnode).toBe(await value(d.boot.enode));
        // Checked again when the bootnode is replaced (id), updated in place (spec digest) or gets a new key (secret name).
        const bootSpec = d.bootSpec.services.find((x) => x.key === "bootnode");
        expect(check.triggers).toEqual([
            "ref-boot-service-bootnode-id",
            createHash("sha256").update(JSON.stringify(bootSpec)).digest("hex").slice(0, 12),
            one(d.records, DOCKER.secret, "ref-boot-secret-bootnode-key").inputs.name,
        ]);
        const chain = one(d.records, DOCKER.chainReady, "ref-nodes-chain-ready").inputs;
        expect(chain).toMatchObject({ rpcUrls: ["http://198.51.100.10:8545", "http://198.51.100.11:8545"], chainId: 4242, timeoutSeconds: 600, blockPeriodSeconds: 5 });
        // It waits for the services' rollout first, through the manager (whose endpoint stays secret).
        expect(chain.services).toEqual(["nodes_node", "nodes_miner"]);
        expect(chain.endpoint).toEqual({ host: "tcp://198.51.100.10:2376", ...TLS });
        expect(one(d.records, DOCKER.chainReady, "ref-nodes-chain-ready").secretPaths).toContain("endpoint");
        // Waited for again when a service is replaced or updated in place, or a config or secret is new.
        expect(chain.triggers).toEqual([
            "ref-nodes-service-node-id", "ref-nodes-service-miner-id",
            createHash("sha256").update(JSON.stringify(d.nodesSpec.services)).digest("hex").slice(0, 12),
            ...ofType(d.records, DOCKER.config).map((r) => r.inputs.name),
            ...ofType(d.records, DOCKER.secret).filter((r) => r.name.startsWith("ref-nodes")).map((r) => r.inputs.name),
        ]);
        for (const name of ["ref-boot-host-network", "ref-nodes-host-network"]) {
            const net = one(d.records, DOCKER.networkId, name).inputs;
            expect(net, name).toMatchObject({ endpoint: { host: "tcp://198.51.100.10:2376", ...TLS }, name: "host", timeoutSeconds: 600 });
        }
        expect(await value(d.boot.hostNetwork.networkId)).toBe(HOST_ID);
        expect(await value(d.nodes.hostNetwork.networkId)).toBe(HOST_ID);
    });

    it("serialises dynamic providers that run in a plain node process and fail with errors that say which", () => {
        const dir = mkdtempSync(join(tmpdir(), "gs-dyn-"));
        try {
            const files: Record<string, string> = {};
            for (const [type, name] of [
                [DOCKER.labels, "ref-boot-node-labels"], [DOCKER.enodeCheck, "ref-boot-enode-check"], [DOCKER.chainReady, "ref-nodes-chain-ready"],
                [DOCKER.networkId, "ref-boot-host-network"],
            ]) {
                const provider = one(d.records, type, name).inputs.__provider;
                expect(typeof provider).toBe("string");
                expect(provider.length).toBeLessThan(64 * 1024);
                files[name] = join(dir, `${name}.js`);
                writeFileSync(files[name], provider);
            }
            const script = `
const run = async (file, inputs) => { try { await require(file).handler().create(inputs); return "no error"; } catch (e) { return e.name + ": " + e.message; } };
(async () => {
  const nowhere = { host: "unix://${dir}/no-docker.sock" };
  const out = [
    await run(${JSON.stringify(files["ref-boot-node-labels"])}, { endpoint: nowhere, hosts: [{ name: "worker", labels: { a: "b" } }], timeoutSeconds: 0.2 }),
    await run(${JSON.stringify(files["ref-boot-enode-check"])}, { endpoint: nowhere, serviceName: "boot_bootnode", expectedEnode: "enode://" + "a".repeat(128) + "@10.0.1.11:30301", timeoutSeconds: 0.2 }),
    await run(${JSON.stringify(files["ref-nodes-chain-ready"])}, { rpcUrls: ["http://127.0.0.1:9/"], chainId: 4242, timeoutSeconds: 0.3 }),
    await run(${JSON.stringify(files["ref-boot-host-network"])}, { endpoint: nowhere, name: "host", timeoutSeconds: 0.2 }),
  ];
  process.stdout.write(JSON.stringify(out));
})();`;
            const r = spawnSync(process.execPath, ["-e", script], {
                env: { ...process.env, NODE_PATH: resolve("node_modules") },
                encoding: "utf8",
                timeout: 30_000,
            });
            expect(r.stderr).toBe("");
            const [labels, enode, chain, hostNetwork] = JSON.parse(r.stdout);
            expect(labels).toMatch(/^SwarmNodesNotReadyError: swarm nodes not ready after 200ms: worker\. Swarm nodes seen: \(last error listing nodes: connect ENOENT/);
            expect(enode).toMatch(/^BootnodeNoAnswerError: bootnode service boot_bootnode reported no enode URL within 200ms; last seen: listing tasks failed/);
            expect(chain).toMatch(/^ChainNotReadyError: chain 4242 not ready after 300ms[^]*http:\/\/127\.0\.0\.1:9\/: error: /);
            expect(hostNetwork).toMatch(
                new RegExp(`^SwarmNetworkNotFoundError: unix://${dir}/no-docker\\.sock: no swarm network host within 200ms; last seen: GET /networks/host\\?scope=swarm failed: connect ENOENT`),
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("renders compose files that say the same as the resources", () => {
        const fromResources = normalizeResources(d.records, "ref-");
        const fromCompose = [normalizeCompose(d.bootSpec), normalizeCompose(d.nodesSpec)].reduce(merge);
        expect(fromCompose).toEqual(fromResources);
    });

    it("matches the snapshots of both renderings, which hold no key material", async () => {
        const bootYaml = renderCompose(d.bootSpec);
        const nodesYaml = renderCompose(d.nodesSpec);
        const resources = JSON.stringify(snapshotable(d.records, "ref"), null, 2) + "\n";
        for (const text of [bootYaml, nodesYaml, resources, JSON.stringify(d.bootSpec), JSON.stringify(d.nodesSpec)]) {
            for (const v of d.secretValues) {
                expect(text).not.toContain(v);
                expect(text).not.toContain(b64(v));
            }
        }
        await expect(bootYaml).toMatchFileSnapshot("./stacks.snapshots/boot.compose.yml");
        await expect(nodesYaml).toMatchFileSnapshot("./stacks.snapshots/nodes.compose.yml");
        await expect(resources).toMatchFileSnapshot("./stacks.snapshots/resources.json");
    });
});

describe("variants", () => {
    it("a development account funded in the genesis, exported as a secret; browser access and WebSocket RPC on the node", async () => {
        const d = await deploy("dev", {
            devAccount: "on", wsRpc: true, rpcCorsDomains: ["http://localhost:3000"], rpcVhosts: ["localhost", "rpc.example.com"],
        });
        const key = mockHex("dev-nodes-dev-account-key");
        const account = await value(d.nodes.devAccount);
        expect(account).toEqual({ address: signerAddress(key), privateKey: `0x${key}` });
        expect(await pulumi.isSecret(d.nodes.devAccount)).toBe(true);
        const genesis = JSON.parse(unb64(one(d.records, DOCKER.config, "dev-nodes-config-genesis").inputs.data));
        expect(Object.keys(genesis.alloc).map((a) => a.toLowerCase())).toEqual([signerAddress(key).toLowerCase()]);
        expect(BigInt(Object.values<any>(genesis.alloc)[0].balance)).toBe(1_000_000n * 10n ** 18n);
        // The pin knows it: a chain created without it would refuse it by name.
        expect((await value(d.nodes.genesisPin.facts)).devAccount).toBe(signerAddress(key));
        // The key is in no input outside secrets.
        for (const r of d.records) {
            const plainInputs = JSON.stringify(r.inputs).replace(/"__provider":"[^"]*"/, "");
            if (r.secretPaths.length === 0) expect(plainInputs, r.name).not.toContain(key);
        }
        const node = one(d.records, DOCKER.service, "dev-nodes-service-node").inputs.taskSpec.containerSpec.args as string[];
        expect(node.slice(node.indexOf("--http.api"))).toEqual([
            "--http.api", "eth,net,web3",
            "--http.corsdomain", "http://localhost:3000",
            "--http.vhosts", "localhost,rpc.example.com",
            "--ws", "--ws.addr", "0.0.0.0", "--ws.port", "8546", "--ws.api", "eth,net,web3",
            "--ws.origins", "http://localhost:3000",
        ]);
        const miner = one(d.records, DOCKER.service, "dev-nodes-service-miner").inputs.taskSpec.containerSpec.args as string[];
        expect(miner.filter((a) => /^--(http|ws)/.test(a))).toEqual([]);
    });

    it("no development account on AWS by default, and the node's RPC flags stay geth's defaults", async () => {
        const d = await deploy("nodev", {});
        expect(await value(d.nodes.devAccount)).toBeUndefined();
        expect(d.records.filter((r) => r.name.includes("dev-account"))).toEqual([]);
        const node = one(d.records, DOCKER.service, "nodev-nodes-service-node").inputs.taskSpec.containerSpec.args as string[];
        expect(node.filter((a) => /^--(ws|http\.corsdomain|http\.vhosts)/.test(a))).toEqual([]);
    });

    it("no visualizer, plain overlay, two miners each with its signer", async () => {
        const d = await deploy("var", { visualizer: false, encryptedOverlay: false, minerCount: 2, workerCount: 2 });
        expect(d.records.filter((r) => r.type === DOCKER.service).map((r) => r.inputs.name).sort()).toEqual(["boot_bootnode", "nodes_miner", "nodes_node"]);
        expect(await value(d.boot.visualizerUrl)).toBeUndefined();
        expect(one(d.records, DOCKER.network, "var-boot-network-default").inputs.options).toEqual({});
        expect(labelsOf(one(d.records, DOCKER.network, "var-boot-network-default").inputs.labels)).toEqual({ [NS]: "boot", "geth-swarm.encrypted": "false" });
        const miner = one(d.records, DOCKER.service, "var-nodes-service-miner").inputs;
        expect(miner.taskSpec.containerSpec.secrets.map((s: any) => s.fileName)).toEqual([
            "signer-0-key", "signer-0-password", "signer-1-key", "signer-1-password",
        ]);
        const addresses = await value(d.nodes.signerAddresses);
        expect(new Set(addresses).size).toBe(2);
        const signersFile = unb64(one(d.records, DOCKER.config, "var-nodes-config-signers").inputs.data);
        expect(signersFile.split("\n").slice(1, 3)).toEqual([
            `miner-worker 0 ${addresses[0].toLowerCase()}`,
            `miner-worker-2 1 ${addresses[1].toLowerCase()}`,
        ]);
        const genesis = JSON.parse(unb64(one(d.records, DOCKER.config, "var-nodes-config-genesis").inputs.data));
        for (const a of addresses) expect(genesis.extraData).toContain(a.slice(2).toLowerCase());
        expect(await value(d.nodes.rpcEndpoints)).toHaveLength(3);
        expect(normalizeCompose(d.bootSpec)).toEqual(normalizeResources(d.records.filter((r) => r.name.startsWith("var-boot")), "var-"));
    });

    it("reads the host network's swarm ID once per stack, after the hosts and what the stack waits for", async () => {
        const { config, hosts } = fixture({});
        const host = new TestResource("test:index:Host", "deps-host");
        const before = new TestResource("test:index:Before", "deps-before");
        const deps = new Map<string, unknown[]>();
        const record: pulumi.ResourceTransformation = (a) => {
            deps.set(a.name, [a.opts.dependsOn ?? []].flat());
            return undefined;
        };
        const withHost = { ...hosts, dependsOn: [host] };
        const boot = new BootStack("deps-boot", { config, hosts: withHost }, { dependsOn: [before], transformations: [record] });
        const nodes = new NodesStack("deps-nodes", { config, hosts: withHost, enode: boot.enode }, { dependsOn: [before], transformations: [record] });
        await settle([boot, nodes, boot.hostNetwork, nodes.hostNetwork, ...Object.values(boot.services), ...Object.values(nodes.services)]);
        for (const name of ["deps-boot-host-network", "deps-nodes-host-network"]) {
            expect(deps.get(name), name).toEqual([host, before]);
            expect(recorded.filter((r) => r.name === name).map((r) => [r.type, r.inputs.name])).toEqual([[DOCKER.networkId, "host"]]);
        }
    });

    it("fails loudly when a spec references an external network whose ID is not given", () => {
        const { config } = fixture({});
        const shape = bootStackSpec({ config, bootHostIp: "192.0.2.1", bootnodeKeyDigest: "000000000000", stack: "boot" });
        const parent = new pulumi.ComponentResource("test:index:Parent", "ext-parent");
        const provider = new docker.Provider("ext-provider", {});
        const base = { shape, spec: pulumi.output(shape), secretValue: () => "00", namePrefix: "ext", parent, provider };
        expect(() => renderStackResources(base)).toThrow(
            "stack boot: no swarm network ID given for the external network host (externalNetworkIds; a swarm manager reports it, see SwarmNetworkId).",
        );
        expect(() => renderStackResources({ ...base, externalNetworkIds: { boot_default: "x" } })).toThrow(/external network host/);
        // serviceArgs, used directly, refuses a service whose network has no ID instead of sending its name.
        const bootnode = shape.services.find((x) => x.key === "bootnode")!;
        expect(() => serviceArgs(shape, bootnode, { networks: {}, secrets: {}, configs: {} })).toThrow(
            "stack boot: service bootnode is on the network host, whose ID was not given",
        );
        expect(serviceArgs(shape, bootnode, { networks: { hostnet: HOST_ID }, secrets: {}, configs: {} }).taskSpec).toMatchObject({ networksAdvanceds: [{ id: HOST_ID }] });
    });

    it("rejects a boot host that is not among the hosts", () => {
        const { config, hosts } = fixture();
        expect(() => new BootStack("bad-boot", { config: { ...config, bootHost: "nowhere" }, hosts })).toThrow(/boot host nowhere is not one of the hosts/);
    });
});

// ------------------------------------------------------------------------------------------
// One normal form for both renderings: what `docker stack deploy` / the provider would send.

interface Normal {
    services: Record<string, unknown>;
    networks: Record<string, unknown>;
    secrets: string[];
    configs: Record<string, string>;
}

function merge(a: Normal, b: Normal): Normal {
    return {
        services: { ...a.services, ...b.services },
        networks: { ...a.networks, ...b.networks },
        secrets: [...a.secrets, ...b.secrets].sort(),
        configs: { ...a.configs, ...b.configs },
    };
}

const sortPorts = (ports: { target: number; published: number; protocol: string; mode: string }[]) =>
    [...ports].sort((x, y) => x.target - y.target || x.protocol.localeCompare(y.protocol));

/** As `docker stack deploy -c` converts the compose file (docker/cli `convert` package). */
function normalizeCompose(spec: StackSpec): Normal {
    const bundle = composeBundle(spec);
    const doc = parse(bundle.files["docker-compose.yml"]);
    expect(doc.version).toBe("3.8");
    const stack = spec.stack;
    const netName = (key: string) => (doc.networks?.[key]?.external ? doc.networks[key].name ?? key : `${stack}_${key}`);
    const services: Record<string, unknown> = {};
    for (const [key, s] of Object.entries<any>(doc.services)) {
        services[`${stack}_${key}`] = {
            image: s.image,
            entrypoint: s.entrypoint ?? null,
            args: s.command ?? [],
            hostname: s.hostname ?? null,
            mode: s.deploy.mode === "global" ? "global" : `replicated:${s.deploy.replicas ?? 1}`,
            endpointMode: s.deploy.endpoint_mode ?? "vip",
            constraints: s.deploy.placement?.constraints ?? [],
            restart: `${s.deploy.restart_policy?.condition ?? "any"} after ${s.deploy.restart_policy?.delay ?? "5s"}`,
            ports: sortPorts((s.ports ?? []).map((p: any) => ({ target: p.target, published: p.published, protocol: p.protocol ?? "tcp", mode: p.mode ?? "ingress" }))),
            networks: (s.networks ?? []).map(netName),
            mounts: (s.volumes ?? []).map((m: any) =>
                m.type === "volume"
                    ? { type: "volume", source: doc.volumes?.[m.source]?.name ?? `${stack}_${m.source}`, target: m.target, labels: { [NS]: stack } }
                    : { type: "bind", source: m.source, target: m.target, readOnly: !!m.read_only },
            ),
            user: s.user ?? null,
            secrets: (s.secrets ?? []).map((r: any) => ({ name: doc.secrets[r.source].name, file: r.target ?? r.source, owner: `${r.uid ?? "0"}:${r.gid ?? "0"}`, mode: r.mode ?? 0o444 })),
            configs: (s.configs ?? []).map((r: any) => ({ name: doc.configs[r.source].name, file: r.target ?? `/${r.source}`, owner: `${r.uid ?? "0"}:${r.gid ?? "0"}`, mode: r.mode ?? 0o444 })),
            labels: { ...(s.deploy.labels ?? {}), [NS]: stack, "com.docker.stack.image": s.image },
            containerLabels: { [NS]: stack },
        };
    }
    const networks: Record<string, unknown> = {};
    for (const [key, n] of Object.entries<any>(doc.networks ?? {})) {
        if (n.external) continue;
        networks[`${stack}_${key}`] = { driver: n.driver, attachable: !!n.attachable, options: n.driver_opts ?? {}, labels: { ...(n.labels ?? {}), [NS]: stack } };
    }
    const configs: Record<string, string> = {};
    for (const c of Object.values<any>(doc.configs ?? {})) configs[c.name] = bundle.files[c.file.replace(/^\.\//, "")];
    // External secrets are created beforehand from secretsToCreate, which names them the same.
    expect(bundle.secrets.map((s) => s.name)).toEqual(Object.values<any>(doc.secrets ?? {}).map((s) => s.name));
    for (const s of Object.values<any>(doc.secrets ?? {})) expect(s.external).toBe(true);
    return { services, networks, secrets: bundle.secrets.map((s) => s.name).sort(), configs };
}

/**
 * The names of the networks a recorded service is on: every entry must be an id (never a
 * name), of a `docker.Network` of the records or the ID a `SwarmNetworkId` of the records
 * read (as the mocks answer it).
 */
function networkNames(records: Recorded[], service: Recorded["inputs"]): string[] {
    const byId = new Map<string, string>([
        ...ofType(records, DOCKER.network).map((r): [string, string] => [`${r.name}-id`, r.inputs.name]),
        ...ofType(records, DOCKER.networkId).map((r): [string, string] => [mockSwarmNetworkId(r.inputs.name), r.inputs.name]),
    ]);
    return service.taskSpec.networksAdvanceds.map((n: any) => {
        expect(Object.keys(n), `${service.name}: ${JSON.stringify(n)}`).toEqual(["id"]);
        expect(byId.has(n.id), `${service.name}: network id ${n.id}`).toBe(true);
        return byId.get(n.id)!;
    });
}

/** The recorded @pulumi/docker inputs in the same form. */
function normalizeResources(records: Recorded[], prefix: string): Normal {
    const byId = (type: string) => Object.fromEntries(ofType(records, type).map((r) => [`${r.name}-id`, r.inputs]));
    const secretsById = byId(DOCKER.secret);
    const configsById = byId(DOCKER.config);
    const services: Record<string, unknown> = {};
    for (const r of ofType(records, DOCKER.service)) {
        const s = r.inputs;
        const c = s.taskSpec.containerSpec;
        services[s.name] = {
            image: c.image,
            entrypoint: c.commands ?? null,
            args: c.args ?? [],
            hostname: c.hostname ?? null,
            mode: s.mode.global ? "global" : `replicated:${s.mode.replicated.replicas}`,
            endpointMode: s.endpointSpec.mode,
            constraints: s.taskSpec.placement?.constraints ?? [],
            restart: `${s.taskSpec.restartPolicy.condition} after ${s.taskSpec.restartPolicy.delay}`,
            ports: sortPorts(s.endpointSpec.ports.map((p: any) => ({ target: p.targetPort, published: p.publishedPort, protocol: p.protocol, mode: p.publishMode }))),
            networks: networkNames(records, s),
            mounts: (c.mounts ?? []).map((m: any) =>
                m.type === "volume"
                    ? { type: "volume", source: m.source, target: m.target, labels: labelsOf(m.volumeOptions?.labels) }
                    : { type: "bind", source: m.source, target: m.target, readOnly: !!m.readOnly },
            ),
            user: c.user ?? null,
            secrets: (c.secrets ?? []).map((x: any) => {
                expect(secretsById[x.secretId], `secret id ${x.secretId}`).toBeDefined();
                expect(secretsById[x.secretId].name).toBe(x.secretName);
                return { name: x.secretName, file: x.fileName, owner: `${x.fileUid}:${x.fileGid}`, mode: x.fileMode };
            }),
            configs: (c.configs ?? []).map((x: any) => {
                expect(configsById[x.configId], `config id ${x.configId}`).toBeDefined();
                expect(configsById[x.configId].name).toBe(x.configName);
                return { name: x.configName, file: x.fileName, owner: `${x.fileUid}:${x.fileGid}`, mode: x.fileMode };
            }),
            labels: labelsOf(s.labels),
            containerLabels: labelsOf(c.labels),
        };
    }
    const networks: Record<string, unknown> = {};
    for (const r of ofType(records, DOCKER.network)) {
        networks[r.inputs.name] = { driver: r.inputs.driver, attachable: r.inputs.attachable, options: r.inputs.options ?? {}, labels: labelsOf(r.inputs.labels) };
    }
    const configs: Record<string, string> = {};
    for (const r of ofType(records, DOCKER.config)) configs[r.inputs.name] = unb64(r.inputs.data);
    void prefix;
    return { services, networks, secrets: ofType(records, DOCKER.secret).map((r) => r.inputs.name).sort(), configs };
}
