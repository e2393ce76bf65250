/**
 * Pulumi mocks for the stacks tests: every registered resource is recorded; random values
 * are deterministic so the tests can search for them.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { resolveConfig, type GethSwarmConfig, type RawConfig } from "../../components/config";
import type { SwarmHostInfo, SwarmHosts } from "../../components/hosts/types";

export interface Recorded {
    type: string;
    name: string;
    /** Inputs with secret values unwrapped. */
    inputs: Record<string, any>;
    /** Paths (`a.b.0`) of the inputs that arrived as Pulumi secrets. */
    secretPaths: string[];
    provider?: string;
}

/** Pulumi's marker of a secret value in mock inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function unwrapSecrets(v: any, path: string, secrets: string[]): any {
    if (Array.isArray(v)) return v.map((x, i) => unwrapSecrets(x, path ? `${path}.${i}` : String(i), secrets));
    if (v && typeof v === "object") {
        if (v[SECRET_SIG] === SECRET_VALUE) {
            secrets.push(path);
            return unwrapSecrets(v.value, path, secrets);
        }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x, path ? `${path}.${k}` : k, secrets)]));
    }
    return v;
}

export const recorded: Recorded[] = [];

/** The mocked 32-byte value of the `random.RandomBytes` named `name`. */
export function mockHex(name: string): string {
    return createHash("sha256").update(`bytes:${name}`).digest("hex");
}
/**
 * The swarm-scoped ID a manager reports for the network `name`, as the mocked
 * `SwarmNetworkId` resources return it: 25 lowercase letters and digits, like the swarm's.
 */
export function mockSwarmNetworkId(name: string): string {
    const n = BigInt("0x" + createHash("sha256").update(`swarm-network:${name}`).digest("hex"));
    return n.toString(36).slice(0, 25);
}
/** The mocked result of the `random.RandomPassword` named `name`. */
export function mockPassword(name: string): string {
    return "Pw" + createHash("sha256").update(`password:${name}`).digest("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 30);
}

pulumi.runtime.setMocks(
    {
        newResource(args: pulumi.runtime.MockResourceArgs) {
            const secretPaths: string[] = [];
            const inputs = unwrapSecrets(args.inputs, "", secretPaths);
            recorded.push({ type: args.type, name: args.name, inputs, secretPaths, provider: args.provider });
            const state: Record<string, any> = { ...inputs };
            if (args.type === "random:index/randomBytes:RandomBytes") {
                const hex = mockHex(args.name);
                state.hex = hex;
                state.base64 = Buffer.from(hex, "hex").toString("base64");
            }
            if (args.type === "random:index/randomPassword:RandomPassword") state.result = mockPassword(args.name);
            if (args.type === "pulumi-nodejs:dynamic/geth-swarm:SwarmNetworkId") state.networkId = mockSwarmNetworkId(inputs.name);
            return { id: `${args.name}-id`, state };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            return args.inputs;
        },
    },
    "geth-swarm",
    "test",
    false,
);

/** Resolve an Output in a test (awaited, never asserted inside an un-awaited apply). */
export function value<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise<T>((resolve) => pulumi.output(o).apply((v) => { resolve(v as T); return v; }));
}

export const HOST_IPS: Record<string, string> = {
    manager: "10.0.1.10",
    worker: "10.0.1.11",
    "worker-2": "10.0.1.12",
    "miner-worker": "10.0.2.20",
    "miner-worker-2": "10.0.2.21",
};

export const TLS = {
    caPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
    certPem: "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n",
    keyPem: "-----BEGIN PRIVATE KEY-----\nCLIENTKEY\n-----END PRIVATE KEY-----\n",
};

/** A config and a SwarmHosts for it with realistic addresses (nothing left undefined). */
export function fixture(raw: RawConfig = {}): { config: GethSwarmConfig; hosts: SwarmHosts } {
    const config = resolveConfig({ target: "aws", adminCidrs: ["10.8.0.7/32"], ...raw });
    const infos: SwarmHostInfo[] = config.hosts.map((h, i) => {
        const ip = HOST_IPS[h.name] ?? `10.0.3.${10 + i}`;
        return {
            name: h.name,
            class: h.class,
            role: h.role,
            privateIp: pulumi.output(ip),
            publicIp: pulumi.output(`198.51.100.${10 + i}`),
            zone: pulumi.output(`eu-west-1${"abc"[h.zoneIndex] ?? "a"}`),
            labels: h.labels,
            signerIndex: h.signerIndex,
            rpcUrl: pulumi.output(`http://198.51.100.${10 + i}:${config.ports.rpc}`),
        };
    });
    const hosts: SwarmHosts = {
        manager: pulumi.output({ host: "tcp://198.51.100.10:2376", ...TLS }),
        hosts: infos,
        dependsOn: [],
    };
    return { config, hosts };
}

/** Wait until every resource of the given components has registered. */
export async function settle(resources: pulumi.Resource[]): Promise<void> {
    await Promise.all(resources.map((r) => value(r.urn)));
    await new Promise((r) => setTimeout(r, 20));
}
