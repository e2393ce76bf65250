import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveConfig, RawConfig } from "../config";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DIND_CAPABILITIES, dindCapabilitiesEntrypoint, dindCommand, LocalSwarmHosts, LocalSwarmHostsArgs, planLocalHosts } from "./localSwarmHosts";

// ----------------------------------------------------------------------------------------
// Mocks: every resource recorded with its inputs (secret wrappers kept, so secrecy can be
// asserted) and its parent; computed properties get realistic, distinctive values.

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, any>;
    parent?: string;
    dependsOn: string[];
}
const recorded: Recorded[] = [];
const opts = new Map<string, { parent?: string; dependsOn: string[] }>();

const isSecretWrapper = (v: unknown): v is { value: unknown } =>
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
/** The value with every secret wrapper removed. */
function reveal(v: any): any {
    if (isSecretWrapper(v)) return reveal(v.value);
    if (Array.isArray(v)) return v.map(reveal);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
    return v;
}
/** The value with every secret replaced by a marker: what is visible in plain text. */
function plain(v: any): any {
    if (isSecretWrapper(v)) return "<secret>";
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

/** Fake key material: distinctive, so a leak anywhere is found by substring. */
const fakeKey = (name: string) => `-----BEGIN EC PRIVATE KEY-----\nFAKEKEY-${name}\n-----END EC PRIVATE KEY-----\n`;
const fakeCert = (name: string) => `-----BEGIN CERTIFICATE-----\nFAKECERT-${name}\n-----END CERTIFICATE-----\n`;

beforeAll(() => {
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                const o = opts.get(args.name);
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs, parent: o?.parent, dependsOn: o?.dependsOn ?? [] });
                const extra: Record<string, unknown> = {};
                switch (args.type) {
                    case "tls:index/privateKey:PrivateKey":
                        extra.privateKeyPem = fakeKey(args.name);
                        extra.publicKeyPem = `PUBLIC-${args.name}`;
                        break;
                    case "tls:index/selfSignedCert:SelfSignedCert":
                    case "tls:index/locallySignedCert:LocallySignedCert":
                        extra.certPem = fakeCert(args.name);
                        break;
                    case "tls:index/certRequest:CertRequest":
                        extra.certRequestPem = `CSR-${args.name}`;
                        break;
                    case "docker:index/remoteImage:RemoteImage":
                        extra.imageId = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
                        extra.repoDigest = "docker@sha256:abc";
                        break;
                    case "pulumi-nodejs:dynamic/geth-swarm:SwarmFormation":
                        extra.clusterId = "cluster-1";
                        extra.nodeIds = { manager: "n-manager", worker: "n-worker", "miner-worker": "n-miner" };
                        break;
                }
                return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
            },
            call(args) {
                throw new Error(`unexpected invoke ${args.token}`);
            },
        },
        "geth-swarm",
        "local",
        false,
    );
});

beforeEach(() => {
    recorded.length = 0;
    opts.clear();
});

/** Records each child's parent and dependsOn (mocks do not see resource options). */
const recordOpts: pulumi.ResourceTransformation = (a) => {
    const deps = a.opts.dependsOn;
    const list = deps === undefined ? [] : Array.isArray(deps) ? deps : [deps];
    opts.set(a.name, {
        parent: a.opts.parent ? (a.opts.parent as unknown as { __name?: string }).__name : undefined,
        dependsOn: list.map((d) => (d as unknown as { __name?: string }).__name ?? "?"),
    });
    return undefined;
};

const val = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply((v) => resolve(v)));

/**
 * Each configuration is built once; a test that asks for one built before gets the component
 * back and the record of it restored (the tests read the record only).
 */
const builds = new Map<string, { hosts: LocalSwarmHosts; recorded: Recorded[]; opts: [string, { parent?: string; dependsOn: string[] }][] }>();

/** Creates the component and waits until every child is registered. */
async function build(raw: RawConfig = {}, extra: Partial<LocalSwarmHostsArgs> = {}): Promise<LocalSwarmHosts> {
    recorded.length = 0;
    opts.clear();
    const key = JSON.stringify([raw, extra]);
    const known = builds.get(key);
    if (known) {
        recorded.push(...known.recorded);
        for (const [k, v] of known.opts) opts.set(k, v);
        return known.hosts;
    }
    const hosts = new LocalSwarmHosts("local", { config: resolveConfig(raw), ...extra }, { transformations: [recordOpts] });
    await Promise.all([
        val(hosts.formation.urn),
        ...Object.values(hosts.containers).map((c) => val(c.urn)),
        ...(hosts.preload ? [val(hosts.preload.urn)] : []),
        val(hosts.urn),
    ]);
    builds.set(key, { hosts, recorded: [...recorded], opts: [...opts] });
    return hosts;
}

const ofType = (t: string) => recorded.filter((r) => r.type === t);
const containers = () => ofType("docker:index/container:Container");
const named = (name: string) => {
    const r = recorded.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}; have ${recorded.map((x) => x.name).join(", ")}`);
    return r;
};

// ----------------------------------------------------------------------------------------

describe("LocalSwarmHosts: resources", () => {
    it("creates exactly the network, image, TLS material, volumes, host containers and formation, all children of the component", async () => {
        await build();
        const children = recorded.filter((r) => r.type !== "geth-swarm:hosts:LocalSwarmHosts");
        expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                "docker:index/remoteImage:RemoteImage local-dind-image",
                "docker:index/network:Network local-net",
                "tls:index/privateKey:PrivateKey local-tls-ca-key",
                "tls:index/selfSignedCert:SelfSignedCert local-tls-ca",
                "tls:index/privateKey:PrivateKey local-tls-client-key",
                "tls:index/certRequest:CertRequest local-tls-client-csr",
                "tls:index/locallySignedCert:LocallySignedCert local-tls-client",
                ...["manager", "worker", "miner-worker"].flatMap((h) => [
                    `tls:index/privateKey:PrivateKey local-${h}-tls-key`,
                    `tls:index/certRequest:CertRequest local-${h}-tls-csr`,
                    `tls:index/locallySignedCert:LocallySignedCert local-${h}-tls`,
                    `docker:index/volume:Volume local-${h}-data`,
                    `docker:index/container:Container local-${h}`,
                ]),
                "pulumi-nodejs:dynamic/geth-swarm:SwarmFormation local-swarm",
            ].sort(),
        );
        for (const c of children) expect(c.parent, `${c.name}'s parent`).toBe("local");
        expect(ofType("geth-swarm:hosts:LocalSwarmHosts").map((r) => r.name)).toEqual(["local"]);
    });

    it("pulls the dind image once and keeps it locally", async () => {
        await build();
        expect(ofType("docker:index/remoteImage:RemoteImage").map((r) => r.inputs)).toEqual([{ name: "docker:27.5.1-dind", keepLocally: true }]);
        await build({ dindImage: "docker:26.1.4-dind" });
        expect(named("local-dind-image").inputs.name).toBe("docker:26.1.4-dind");
    });

    it("puts the hosts on one private bridge with a fixed subnet, outside the gateway and auto-assign range", async () => {
        await build();
        expect(named("local-net").inputs).toEqual({
            name: "local-net",
            driver: "bridge",
            internal: false,
            attachable: false,
            ipamConfigs: [{ subnet: "192.168.213.0/24", gateway: "192.168.213.1", ipRange: "192.168.213.128/25" }],
            labels: [{ label: "geth-swarm.component", value: "local" }],
        });
        await build({}, { subnet: "10.77.0.0/16" });
        expect(named("local-net").inputs.ipamConfigs).toEqual([{ subnet: "10.77.0.0/16", gateway: "10.77.0.1", ipRange: "10.77.128.0/17" }]);
        expect(containers().map((c) => c.inputs.networksAdvanced[0].ipv4Address)).toEqual(["10.77.0.10", "10.77.0.11", "10.77.0.12"]);
    });

    it("runs one privileged dind container per planned host: name, hostname, fixed IP, data volume, dockerd with TLS", async () => {
        await build();
        const cs = containers();
        expect(cs.map((c) => [c.name, c.inputs.name, c.inputs.hostname, c.inputs.networksAdvanced])).toEqual([
            ["local-manager", "local-manager", "manager", [{ name: "local-net", ipv4Address: "192.168.213.10" }]],
            ["local-worker", "local-worker", "worker", [{ name: "local-net", ipv4Address: "192.168.213.11" }]],
            ["local-miner-worker", "local-miner-worker", "miner-worker", [{ name: "local-net", ipv4Address: "192.168.213.12" }]],
        ]);
        for (const c of cs) {
            const host = c.inputs.hostname as string;
            expect(c.inputs.image).toMatch(/^sha256:0f1e/);
            expect(c.inputs.privileged).toBe(true);
            expect(c.inputs.capabilities).toBeUndefined();
            expect(c.inputs.restart).toBe("unless-stopped");
            // Time for the engine inside to stop its containers before the host is removed.
            expect(c.inputs.destroyGraceSeconds).toBe(30);
            expect(c.inputs.envs).toEqual(["DOCKER_TLS_CERTDIR="]);
            expect(c.inputs.command).toEqual(dindCommand());
            expect(c.inputs.volumes).toEqual([{ volumeName: `local-${host}-data`, containerPath: "/var/lib/docker" }]);
            expect(c.inputs.wait).toBe(true);
            expect(c.inputs.healthcheck.tests).toEqual(["CMD", "docker", "version"]);
            expect(c.inputs.labels).toEqual([
                { label: "geth-swarm.component", value: "local" },
                { label: "geth-swarm.host", value: host },
                { label: "geth-swarm.role", value: host === "manager" ? "manager" : "worker" },
            ]);
        }
        expect(ofType("docker:index/volume:Volume").map((v) => v.inputs.name)).toEqual(["local-manager-data", "local-worker-data", "local-miner-worker-data"]);
    });

    it("with dindPrivileges capabilities: no privilege, every capability but SYS_RESOURCE, its own cgroup parent, cleaned up on stop", async () => {
        await build({ dindPrivileges: "capabilities" });
        expect(JSON.stringify(recorded.map((r) => reveal(r.inputs)))).not.toContain('"privileged":true');
        for (const c of containers()) {
            const host = c.inputs.hostname as string;
            expect(c.inputs.privileged).toBe(false);
            expect(c.inputs.capabilities).toEqual({ adds: [...DIND_CAPABILITIES] });
            expect(c.inputs.capabilities.adds).not.toContain("CAP_SYS_RESOURCE");
            expect(c.inputs.capabilities.adds).toContain("CAP_SYS_ADMIN");
            expect(c.inputs.capabilities.adds.every((x: string) => /^CAP_[A-Z_]+$/.test(x))).toBe(true);
            expect(c.inputs.securityOpts).toEqual(["seccomp=unconfined", "apparmor=unconfined"]);
            expect(c.inputs.sysctls).toEqual({ "net.ipv4.ip_forward": "1" });
            expect(c.inputs.mounts).toEqual([{ type: "bind", source: "/sys/fs/cgroup", target: "/sys/fs/cgroup", readOnly: false }]);
            expect(c.inputs.entrypoints).toEqual(dindCapabilitiesEntrypoint(`local-${host}`));
            expect(c.inputs.command).toEqual([...dindCommand(), `--cgroup-parent=/geth-swarm-dind/local-${host}`]);
            expect(c.inputs.destroyGraceSeconds).toBe(30);
        }
    });

    it("the capabilities entrypoint is shellcheck-clean and runs the command it is given", () => {
        const [sh, flag, script, arg0] = dindCapabilitiesEntrypoint("local-manager");
        expect([sh, flag, arg0]).toEqual(["/bin/sh", "-c", "dind-host"]);
        expect(script).toContain("cg=geth-swarm-dind/local-manager");
        expect(spawnSync("shellcheck", ["--version"]).status, "shellcheck is not installed: apt-get install -y shellcheck").toBe(0);
        const lint = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
        expect(lint.stdout + lint.stderr).toBe("");
        // It runs what follows it, passes its exit status on, and leaves no cgroup it did not make.
        const run = spawnSync("dash", ["-c", script, "dind-host", "sh", "-c", "echo started; exit 3"], { encoding: "utf8" });
        expect(run.stdout).toBe("started\n");
        expect(run.status).toBe(3);
    });

    it("the capabilities entrypoint exits with the status of a command that fails at once (100 runs)", () => {
        // A dockerd that fails at start exits before the script first looks at it; a script
        // that only waits while the process is alive then lost the status (in 6 to 21 runs of 100 on the 2-CPU test machines).
        const [, , script] = dindCapabilitiesEntrypoint("local-manager");
        const loop = 'for i in $(seq 100); do dash -c "$1" dind-host sh -c "exit 3"; echo "$?"; done';
        const run = spawnSync("dash", ["-c", loop, "loop", script], { encoding: "utf8", timeout: 60_000 });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout.trim().split("\n")).toEqual(Array(100).fill("3"));
    });

    it("the capabilities entrypoint passes SIGTERM on and exits with the command's status after it", () => {
        const [, , script] = dindCapabilitiesEntrypoint("local-manager");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-entrypoint-"));
        try {
            const up = path.join(dir, "up");
            // The command says it runs, then stops with status 7 on TERM.
            const cmd = `trap 'exit 7' TERM; echo up > '${up}'; while :; do sleep 0.05; done`;
            // The entrypoint in the background, sent TERM once the command runs (20 s bound).
            const outer = 'dash -c "$1" dind-host sh -c "$2" & e=$!; n=0; until [ -s "$3" ]; do n=$((n+1)); [ "$n" -le 400 ] || exit 99; sleep 0.05; done; kill -TERM "$e"; wait "$e"';
            const run = spawnSync("dash", ["-c", outer, "outer", script, cmd, up], { encoding: "utf8", timeout: 30_000 });
            expect(run.status, run.stderr).toBe(7);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("starts dockerd itself with TLS verification on 2376 and no plain-HTTP listener", () => {
        const cmd = dindCommand();
        expect(cmd[0]).toBe("dockerd"); // the entrypoint would add tcp://0.0.0.0:2375 before a leading --flag
        expect(cmd).toContain("--tlsverify");
        expect(cmd).toContain("--host=tcp://0.0.0.0:2376");
        expect(cmd.join(" ")).not.toMatch(/2375/);
        expect(cmd.filter((a) => a.startsWith("--tls") && a !== "--tlsverify")).toEqual([
            "--tlscacert=/etc/docker/geth-swarm-tls/ca.pem",
            "--tlscert=/etc/docker/geth-swarm-tls/server-cert.pem",
            "--tlskey=/etc/docker/geth-swarm-tls/server-key.pem",
        ]);
    });

    it("is the only privileged thing: nothing but the host containers asks for privilege", async () => {
        await build({ preloadImages: true });
        const privileged = recorded.filter((r) => JSON.stringify(reveal(r.inputs)).includes('"privileged":true'));
        expect(privileged.map((r) => r.name).sort()).toEqual(["local-manager", "local-miner-worker", "local-worker"]);
    });

    it("publishes the Docker APIs, the non-miner RPCs and the visualizer on 127.0.0.1 only, and no p2p port", async () => {
        await build({ visualizer: true });
        const ports = Object.fromEntries(containers().map((c) => [c.inputs.hostname, c.inputs.ports]));
        expect(ports).toEqual({
            manager: [
                { internal: 2376, external: 12375, ip: "127.0.0.1", protocol: "tcp" },
                { internal: 8545, external: 18545, ip: "127.0.0.1", protocol: "tcp" },
                { internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" },
            ],
            worker: [
                { internal: 2376, external: 12376, ip: "127.0.0.1", protocol: "tcp" },
                { internal: 8545, external: 18546, ip: "127.0.0.1", protocol: "tcp" },
            ],
            "miner-worker": [{ internal: 2376, external: 12377, ip: "127.0.0.1", protocol: "tcp" }],
        });
        const all = containers().flatMap((c) => c.inputs.ports as Array<{ internal: number; ip?: string }>);
        expect(all.every((p) => p.ip === "127.0.0.1")).toBe(true);
        expect(all.filter((p) => [30303, 30301].includes(p.internal))).toEqual([]);
    });

    it("with wsRpc publishes each non-miner host's WebSocket RPC on 127.0.0.1 at the WebSocket base port + slot", async () => {
        const h = await build({ wsRpc: true, wsPort: 9546, localWsBasePort: 20000 });
        const ws = Object.fromEntries(containers().map((c) => [c.inputs.hostname, (c.inputs.ports as Array<{ internal: number }>).filter((p) => p.internal === 9546)]));
        expect(ws).toEqual({
            manager: [{ internal: 9546, external: 20000, ip: "127.0.0.1", protocol: "tcp" }],
            worker: [{ internal: 9546, external: 20001, ip: "127.0.0.1", protocol: "tcp" }],
            "miner-worker": [],
        });
        expect(await Promise.all(h.hosts.map((x) => val(x.wsUrl!)))).toEqual(["ws://127.0.0.1:20000", "ws://127.0.0.1:20001", ""]);
        expect(() => planLocalHosts({ config: resolveConfig({ wsRpc: true, localWsBasePort: 18545 }) })).toThrow(/the WebSocket JSON-RPC of manager and the JSON-RPC of manager would both be published on 127\.0\.0\.1:18545/);
    });

    it("follows the configured ports, and leaves the visualizer unpublished when it is off", async () => {
        await build({ localApiPort: 22375, localRpcBasePort: 28545, rpcPort: 8600, visualizer: false });
        const ports = containers().map((c) => (c.inputs.ports as Array<{ internal: number; external: number }>).map((p) => `${p.external}->${p.internal}`));
        expect(ports).toEqual([["22375->2376", "28545->8600"], ["22376->2376", "28546->8600"], ["22377->2376"]]);
        await build({ visualizer: true }, { visualizerHostPort: 18080 });
        expect(containers()[0].inputs.ports[2]).toEqual({ internal: 8080, external: 18080, ip: "127.0.0.1", protocol: "tcp" });
    });

    it("keeps every host's container, address and ports when a count grows: growing only adds containers", async () => {
        const layout = async (raw: RawConfig) => {
            await build(raw);
            return Object.fromEntries(containers().map((c) => [c.name, JSON.stringify([c.inputs.hostname, c.inputs.networksAdvanced, c.inputs.ports])]));
        };
        const small = await layout({});
        for (const raw of [{ workerCount: 2 }, { minerCount: 2 }, { managerCount: 3 }, { workerCount: 4, minerCount: 3, managerCount: 3 }]) {
            const grown = await layout(raw);
            expect(Object.keys(grown).length, JSON.stringify(raw)).toBeGreaterThan(Object.keys(small).length);
            for (const [name, inputs] of Object.entries(small)) expect(grown[name], `${name} with ${JSON.stringify(raw)}`).toBe(inputs);
        }
    });

    it("scales with the plan: 3 managers, 2 workers, 2 miners", async () => {
        const h = await build({ managerCount: 3, workerCount: 2, minerCount: 2, visualizer: true });
        expect(containers().map((c) => [c.inputs.hostname, c.inputs.networksAdvanced[0].ipv4Address, c.inputs.ports.map((p: { external: number }) => p.external)])).toEqual([
            ["manager", "192.168.213.10", [12375, 18545, 8080]],
            ["manager-2", "192.168.213.13", [12378, 18548]],
            ["manager-3", "192.168.213.16", [12381, 18551]],
            ["worker", "192.168.213.11", [12376, 18546]],
            ["worker-2", "192.168.213.14", [12379, 18549]],
            ["miner-worker", "192.168.213.12", [12377]],
            ["miner-worker-2", "192.168.213.15", [12380]],
        ]);
        expect(h.hosts.map((x) => x.role)).toEqual(["manager", "manager", "manager", "worker", "worker", "worker", "worker"]);
        expect(ofType("tls:index/locallySignedCert:LocallySignedCert")).toHaveLength(8);
    });
});

describe("LocalSwarmHosts: TLS and secrets", () => {
    it("issues server certificates for the host's bridge IP, 127.0.0.1 and localhost, and a client certificate", async () => {
        await build();
        expect(named("local-worker-tls-csr").inputs.ipAddresses).toEqual(["192.168.213.11", "127.0.0.1"]);
        expect(named("local-worker-tls-csr").inputs.dnsNames).toEqual(["localhost", "worker"]);
        expect(named("local-worker-tls").inputs.allowedUses).toEqual(["server_auth", "digital_signature", "key_encipherment"]);
        expect(named("local-tls-client").inputs.allowedUses).toEqual(["client_auth", "digital_signature", "key_encipherment"]);
        expect(named("local-tls-ca").inputs.isCaCertificate).toBe(true);
        expect(named("local-tls-ca").inputs.allowedUses).toContain("cert_signing");
        for (const k of ofType("tls:index/privateKey:PrivateKey")) expect(k.inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    });

    it("uploads the server key from a secret, with mode 0600, next to the CA and certificate", async () => {
        await build();
        for (const c of containers()) {
            const host = c.inputs.hostname as string;
            expect(isSecretWrapper(c.inputs.uploads), `${host}: uploads must be a secret input`).toBe(true);
            expect(reveal(c.inputs.uploads)).toEqual([
                { file: "/etc/docker/geth-swarm-tls/ca.pem", content: fakeCert("local-tls-ca"), permissions: "0644" },
                { file: "/etc/docker/geth-swarm-tls/server-cert.pem", content: fakeCert(`local-${host}-tls`), permissions: "0644" },
                { file: "/etc/docker/geth-swarm-tls/server-key.pem", content: fakeKey(`local-${host}-tls-key`), permissions: "0600" },
            ]);
        }
    });

    it("never shows a private key in plain text: not in command, env, labels, healthcheck, nor any non-secret input", async () => {
        await build({ preloadImages: true });
        const keys = ofType("tls:index/privateKey:PrivateKey").map((k) => `FAKEKEY-${k.name}`);
        expect(keys).toHaveLength(5);
        for (const r of recorded) {
            const visible = JSON.stringify(plain(r.inputs));
            for (const k of keys) expect(visible, `${r.name} shows ${k}`).not.toContain(k);
        }
        for (const c of containers()) {
            const exposed = JSON.stringify([c.inputs.command, c.inputs.envs, c.inputs.labels, c.inputs.healthcheck, c.inputs.name, c.inputs.hostname]);
            expect(exposed).not.toMatch(/FAKEKEY|PRIVATE KEY/);
        }
        // The key does reach where it must (as a secret): the uploads and the formation's endpoints.
        expect(JSON.stringify(reveal(named("local-manager").inputs.uploads))).toContain("FAKEKEY-local-manager-tls-key");
        expect(JSON.stringify(reveal(named("local-swarm").inputs.hosts))).toContain("FAKEKEY-local-tls-client-key");
    });
});

describe("LocalSwarmHosts: swarm formation", () => {
    it("forms the swarm over every host's API, advertising the bridge IPs, after the containers exist", async () => {
        await build();
        const f = named("local-swarm");
        expect(isSecretWrapper(f.inputs.hosts)).toBe(true);
        const hosts = reveal(f.inputs.hosts) as Array<{ name: string; role: string; advertiseAddr: string; endpoint: Record<string, string> }>;
        expect(hosts.map((h) => [h.name, h.role, h.advertiseAddr, h.endpoint.host])).toEqual([
            ["manager", "manager", "192.168.213.10", "tcp://127.0.0.1:12375"],
            ["worker", "worker", "192.168.213.11", "tcp://127.0.0.1:12376"],
            ["miner-worker", "worker", "192.168.213.12", "tcp://127.0.0.1:12377"],
        ]);
        for (const h of hosts) {
            expect(h.endpoint.caPem).toBe(fakeCert("local-tls-ca"));
            expect(h.endpoint.certPem).toBe(fakeCert("local-tls-client"));
            expect(h.endpoint.keyPem).toBe(fakeKey("local-tls-client-key"));
        }
        expect(f.inputs.timeoutSeconds).toBe(600);
        expect(f.inputs.triggers).toEqual(["local-manager-id", "local-worker-id", "local-miner-worker-id"]);
        expect(f.dependsOn.sort()).toEqual(["local-manager", "local-miner-worker", "local-worker"]);
        expect(typeof f.inputs.__provider).toBe("string");
    });
});

describe("LocalSwarmHosts: the SwarmHosts it returns", () => {
    it("returns the manager's API (secret), the hosts with bridge and loopback addresses, and the formation to depend on", async () => {
        const h = await build();
        expect(await pulumi.isSecret(h.manager)).toBe(true);
        expect(await val(h.manager)).toEqual({
            host: "tcp://127.0.0.1:12375",
            caPem: fakeCert("local-tls-ca"),
            certPem: fakeCert("local-tls-client"),
            keyPem: fakeKey("local-tls-client-key"),
        });
        const hosts = await Promise.all(
            h.hosts.map(async (x) => ({
                name: x.name, class: x.class, role: x.role, labels: x.labels, signerIndex: x.signerIndex,
                privateIp: await val(x.privateIp), publicIp: await val(x.publicIp), zone: await val(x.zone), rpcUrl: await val(x.rpcUrl),
            })),
        );
        expect(hosts).toEqual([
            { name: "manager", class: "manager", role: "manager", labels: { "geth-swarm.host": "manager" }, signerIndex: undefined,
              privateIp: "192.168.213.10", publicIp: "127.0.0.1", zone: "local", rpcUrl: "http://127.0.0.1:18545" },
            { name: "worker", class: "worker", role: "worker", labels: { "geth-swarm.host": "worker", "geth-swarm.boot": "true" }, signerIndex: undefined,
              privateIp: "192.168.213.11", publicIp: "127.0.0.1", zone: "local", rpcUrl: "http://127.0.0.1:18546" },
            { name: "miner-worker", class: "miner", role: "worker",
              labels: { "geth-swarm.host": "miner-worker", role: "miner", "geth-swarm.signer": "0" }, signerIndex: 0,
              privateIp: "192.168.213.12", publicIp: "127.0.0.1", zone: "local", rpcUrl: "" },
        ]);
        expect(h.dependsOn).toEqual([h.formation]);
        expect(await val(h.formation.nodeIds)).toEqual({ manager: "n-manager", worker: "n-worker", "miner-worker": "n-miner" });
        expect(Object.keys(h.endpoints)).toEqual(["manager", "worker", "miner-worker"]);
        expect((await val(h.endpoints["miner-worker"])).host).toBe("tcp://127.0.0.1:12377");
    });

    it("knows every host address at preview time (plain values, no resource output)", () => {
        const l = planLocalHosts({ config: resolveConfig({ visualizer: true }) });
        expect(l.hosts.map((h) => [h.plan.name, h.ip, h.apiPort, h.rpcPort, h.visualizerPort])).toMatchInlineSnapshot(`
          [
            [
              "manager",
              "192.168.213.10",
              12375,
              18545,
              8080,
            ],
            [
              "worker",
              "192.168.213.11",
              12376,
              18546,
              undefined,
            ],
            [
              "miner-worker",
              "192.168.213.12",
              12377,
              undefined,
              undefined,
            ],
          ]
        `);
    });
});

describe("LocalSwarmHosts: image preload", () => {
    it("copies geth, tools and visualizer images into every host once they run, and the stacks wait for it", async () => {
        const h = await build({ preloadImages: true, visualizer: true });
        const p = named("local-preload");
        expect(p.type).toBe("pulumi-nodejs:dynamic/geth-swarm:LocalImagePreload");
        expect(p.inputs.images).toEqual(["ethereum/client-go:v1.13.15", "ethereum/client-go:alltools-v1.13.15", "dockersamples/visualizer:stable"]);
        expect(isSecretWrapper(p.inputs.targets)).toBe(true);
        expect((reveal(p.inputs.targets) as Array<{ name: string; endpoint: { host: string } }>).map((t) => [t.name, t.endpoint.host])).toEqual([
            ["manager", "tcp://127.0.0.1:12375"], ["worker", "tcp://127.0.0.1:12376"], ["miner-worker", "tcp://127.0.0.1:12377"],
        ]);
        expect(p.dependsOn.sort()).toEqual(["local-manager", "local-miner-worker", "local-worker"]);
        // Images before the swarm: a host that joins without them gets tasks it cannot run.
        expect(named("local-swarm").dependsOn.sort()).toEqual(["local-manager", "local-miner-worker", "local-preload", "local-worker"]);
        expect(h.dependsOn).toEqual([h.formation, h.preload]);
    });

    it("creates no preload when the option is off (the default)", async () => {
        const h = await build();
        expect(h.preload).toBeUndefined();
        expect(recorded.filter((r) => r.type.includes("LocalImagePreload"))).toEqual([]);
    });
});

describe("LocalSwarmHosts: bad args fail before any resource, naming the arg and the fix", () => {
    const cfg = resolveConfig({});
    it.each<[string, Partial<LocalSwarmHostsArgs> & { raw?: RawConfig }, RegExp]>([
        ["subnet not a CIDR", { subnet: "192.168.213.0" }, /subnet "192.168.213.0" is not an IPv4 CIDR; write e.g. 192.168.213.0\/24/],
        ["subnet with host bits", { subnet: "192.168.213.7/24" }, /subnet 192.168.213.7\/24 has host bits set; write 192.168.213.0\/24/],
        ["subnet too small", { subnet: "192.168.213.0/29" }, /too small for 3 hosts; use a larger one/],
        ["subnet too small for many hosts", { subnet: "192.168.213.0/27", raw: { workerCount: 6 } }, /too small for 8 hosts/],
        ["API ports overlap RPC ports", { raw: { localApiPort: 18544 } }, /localApiPort.*would both be published on 127.0.0.1:18545|localRpcBasePort.*would both be published on 127.0.0.1:18545/],
        ["visualizer on an API port", { visualizerHostPort: 12376, raw: { visualizer: true } }, /visualizerHostPort: the visualizer and the Docker API of worker would both be published on 127.0.0.1:12376/],
        ["visualizer port out of range", { visualizerHostPort: 0, raw: { visualizer: true } }, /visualizerHostPort 0 must be a port from 1 to 65535/],
        ["API ports past 65535", { raw: { localApiPort: 65534 } }, /localApiPort.*port 65536, above 65535; lower/],
        ["TLS validity", { tlsValidityHours: 0 }, /tlsValidityHours 0 must be a whole number of hours/],
    ])("%s", async (_n, a, re) => {
        const { raw, ...rest } = a;
        expect(() => new LocalSwarmHosts("bad", { config: raw ? resolveConfig(raw) : cfg, ...rest })).toThrow(re);
        await new Promise((r) => setTimeout(r, 50));
        expect(recorded.filter((r) => r.name.startsWith("bad"))).toEqual([]);
    });

    it("refuses a plan whose first host is not a manager", () => {
        const c = resolveConfig({});
        const swapped = { ...c, hosts: [c.hosts[1], c.hosts[0], c.hosts[2]] };
        expect(() => planLocalHosts({ config: swapped })).toThrow(/config.hosts\[0\] \(worker\) must be a manager/);
    });
});
