import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, ConfigError, LABELS, resolveConfig, type RawConfig } from "./index";

/** Resolve and return the ConfigError it throws (fails the test if it does not throw one). */
function problemsOf(raw: RawConfig): ConfigError {
    try {
        resolveConfig(raw);
    } catch (e) {
        if (e instanceof ConfigError) return e;
        throw e;
    }
    throw new Error(`expected a ConfigError for ${JSON.stringify(raw)}`);
}

const aws = { target: "aws", adminCidrs: ["203.0.113.7/32"] };

describe("resolveConfig defaults", () => {
    it("gives the reference scenario with no settings", () => {
        const c = resolveConfig({});
        expect(c.target).toBe("local");
        expect(c.chain).toEqual({
            chainId: 4242, blockPeriod: 5, epoch: 30000, gasLimit: 30_000_000n, signerCount: 1, genesisSignerCount: 1,
            prefundAccounts: [], prefundBalanceWei: 1_000_000n * 10n ** 18n,
        });
        expect(c.ports).toEqual({ rpc: 8545, p2p: 30303, bootnode: 30301, visualizer: 8080 });
        expect(c.rpc.apis).toEqual(["eth", "net", "web3"]);
        expect(c.hosts.map((h) => [h.name, h.class, h.role, h.zoneIndex, h.instanceType])).toEqual([
            ["manager", "manager", "manager", 0, "t3.small"],
            ["worker", "worker", "worker", 0, "t3.small"],
            ["miner-worker", "miner", "worker", 1, "t3.medium"],
        ]);
        expect(c.bootHost).toBe("worker");
        expect(c.hosts[1].labels).toEqual({ [LABELS.host]: "worker", [LABELS.boot]: "true" });
        expect(c.hosts[2].labels).toEqual({ [LABELS.host]: "miner-worker", [LABELS.role]: "miner", [LABELS.signer]: "0" });
        expect(c.hosts[2].signerIndex).toBe(0);
        expect(c.aws).toMatchObject({ vpcCidr: "10.0.0.0/16", zoneCount: 3, natStrategy: "none", privateSubnets: false, rootVolumeSizeGb: 30 });
        expect(c.encryptedOverlay).toBe(true);
        expect(c.local).toEqual({ dindImage: "docker:27.5.1-dind", dindPrivileges: "privileged", preloadImages: false, apiPort: 12375, rpcBasePort: 18545, wsBasePort: 19545 });
        expect(resolveConfig({ dindPrivileges: "capabilities" }).local.dindPrivileges).toBe("capabilities");
        // Browser access and WebSocket: closed by default; geth's own vhost default.
        expect(c.rpc).toEqual({ apis: ["eth", "net", "web3"], cidrs: [], ws: { enabled: false, port: 8546 }, corsDomains: [], vhosts: ["localhost"] });
    });

    it("funds a development account on the local target by default, not on AWS", () => {
        expect(resolveConfig({}).devAccount).toBe(true);
        expect(resolveConfig({ devAccount: "off" }).devAccount).toBe(false);
        expect(resolveConfig(aws).devAccount).toBe(false);
        expect(resolveConfig({ ...aws, devAccount: "on" }).devAccount).toBe(true);
    });

    it("takes CORS origins, vhosts and WebSocket settings as written; * for any origin with the opt-in", () => {
        const c = resolveConfig({ wsRpc: true, wsPort: 9546, rpcCorsDomains: ["http://localhost:3000", "https://app.example.com"], rpcVhosts: ["localhost", "rpc.example.com"] });
        expect(c.rpc.ws).toEqual({ enabled: true, port: 9546 });
        expect(c.rpc.corsDomains).toEqual(["http://localhost:3000", "https://app.example.com"]);
        expect(c.rpc.vhosts).toEqual(["localhost", "rpc.example.com"]);
        expect(resolveConfig({ rpcCorsDomains: ["*"], allowAnyRpcOrigin: true }).rpc.corsDomains).toEqual(["*"]);
        // The WebSocket port may share a number with nothing only when WebSocket RPC is on.
        expect(resolveConfig({ wsPort: 8545 }).rpc.ws.port).toBe(8545);
    });

    it("parses values as `pulumi config` stores them (strings, JSON lists)", () => {
        const c = resolveConfig({
            target: "aws", chainId: "999", blockPeriod: "2", visualizer: "false",
            adminCidrs: '["198.51.100.0/24"]', rpcApis: '["eth","net"]', workerCount: "3", managerCount: "3",
        });
        expect(c.chain.chainId).toBe(999);
        expect(c.chain.blockPeriod).toBe(2);
        expect(c.visualizer).toBe(false);
        expect(c.adminCidrs).toEqual(["198.51.100.0/24"]);
        expect(c.rpc.apis).toEqual(["eth", "net"]);
        expect(c.hosts.map((h) => h.name)).toEqual([
            "manager", "manager-2", "manager-3", "worker", "worker-2", "worker-3", "miner-worker",
        ]);
        expect(c.hosts.filter((h) => h.class === "manager").map((h) => h.zoneIndex)).toEqual([0, 1, 2]);
        expect(c.bootHost).toBe("worker");
    });

    it("gives each miner its own signer index and label", () => {
        const c = resolveConfig({ minerCount: 3 });
        const miners = c.hosts.filter((h) => h.class === "miner");
        expect(miners.map((m) => [m.name, m.signerIndex, m.labels[LABELS.signer]])).toEqual([
            ["miner-worker", 0, "0"], ["miner-worker-2", 1, "1"], ["miner-worker-3", 2, "2"],
        ]);
        expect(c.chain.signerCount).toBe(3);
        expect(c.chain.genesisSignerCount).toBe(3);
    });

    it("keeps every existing host's name when a count grows: growing only adds hosts", () => {
        for (const [key, base] of [["managerCount", "manager"], ["workerCount", "worker"], ["minerCount", "miner-worker"]] as const) {
            const counts = key === "managerCount" ? [1, 3, 5] : [1, 2, 3, 7];
            const names = counts.map((n) => resolveConfig({ [key]: n }).hosts.map((h) => h.name).filter((h) => h === base || h.startsWith(`${base}-`)));
            for (let i = 1; i < names.length; i++) expect(names[i].slice(0, names[i - 1].length), key).toEqual(names[i - 1]);
            expect(names[0]).toEqual([base]);
        }
        const signers = (n: number) => resolveConfig({ minerCount: n }).hosts.filter((h) => h.class === "miner").map((h) => [h.name, h.signerIndex]);
        expect(signers(3).slice(0, 2)).toEqual(signers(2));
    });

    it("lists only the first genesisSigners signers in the genesis when set", () => {
        expect(resolveConfig({ minerCount: 4, genesisSigners: 3 }).chain).toMatchObject({ signerCount: 4, genesisSignerCount: 3 });
        expect(resolveConfig({ minerCount: 4, genesisSigners: 0 }).chain.genesisSignerCount).toBe(4);
        expect(resolveConfig({ minerCount: 2, genesisSigners: 2 }).chain.genesisSignerCount).toBe(2);
    });

    it("puts the bootnode on a miner when there is no plain worker", () => {
        const c = resolveConfig({ workerCount: 0 });
        expect(c.bootHost).toBe("miner-worker");
    });

    it("applies extra host labels", () => {
        const c = resolveConfig({ hostLabels: ["worker:tier=edge"] });
        expect(c.hosts.find((h) => h.name === "worker")!.labels.tier).toBe("edge");
    });

    it("accepts a public chain id when forced", () => {
        expect(resolveConfig({ chainId: 1, allowPublicChainId: true }).chain.chainId).toBe(1);
    });

    it("accepts 0.0.0.0/0 for RPC with the opt-in and unsafe APIs with theirs", () => {
        const c = resolveConfig({ ...aws, rpcCidrs: ["0.0.0.0/0"], allowPublicRpc: true, rpcApis: ["eth", "admin"], allowUnsafeRpcApis: true });
        expect(c.rpc.cidrs).toEqual(["0.0.0.0/0"]);
        expect(c.rpc.apis).toEqual(["eth", "admin"]);
    });
});

/**
 * One row per bad input: the settings, the key the error must name, and a fragment of the
 * fix it must give. Each is checked to be reported with the key, the bad value and the fix.
 */
const BAD: Array<[string, RawConfig, string, RegExp]> = [
    ["chain id zero", { chainId: 0 }, "chainId", /positive whole number/],
    ["chain id negative", { chainId: -5 }, "chainId", /positive whole number/],
    ["chain id not a number", { chainId: "abc" }, "chainId", /whole number/],
    ["chain id fractional", { chainId: 4.5 }, "chainId", /whole number/],
    ["chain id mainnet", { chainId: 1 }, "chainId", /Ethereum mainnet.*allowPublicChainId/],
    ["chain id sepolia", { chainId: 11155111 }, "chainId", /Sepolia/],
    ["block period zero", { blockPeriod: 0 }, "blockPeriod", /at least 1 second/],
    ["epoch zero", { epoch: 0 }, "epoch", /at least 1 block/],
    ["gas limit not decimal", { gasLimit: "30M" }, "gasLimit", /decimal number of gas/],
    ["gas limit too low", { gasLimit: "100" }, "gasLimit", /between 5000/],
    ["signer count vs miner hosts", { signerCount: 3, minerCount: 1 }, "signerCount", /must equal minerCount \(1\)/],
    ["genesis signers above the miner hosts", { genesisSigners: 2, minerCount: 1 }, "genesisSigners", /from 1 to minerCount \(1\), or 0/],
    ["genesis signers negative", { genesisSigners: -1, minerCount: 2 }, "genesisSigners", /from 1 to minerCount \(2\)/],
    ["no miner host", { minerCount: 0 }, "minerCount", /at least one signer host/],
    ["prefund address invalid", { prefundAccounts: ["0x1234"] }, "prefundAccounts", /not an Ethereum address/],
    ["prefund balance invalid", { prefundBalanceEth: "-1" }, "prefundBalanceEth", /decimal amount of ether/],
    ["VPC CIDR invalid", { ...aws, vpcCidr: "10.0.0.0/33" }, "vpcCidr", /IPv4 CIDR/],
    ["VPC CIDR not a CIDR", { ...aws, vpcCidr: "my-vpc" }, "vpcCidr", /IPv4 CIDR/],
    ["VPC CIDR host bits", { ...aws, vpcCidr: "10.0.1.0/16" }, "vpcCidr", /write 10\.0\.0\.0\/16/],
    ["VPC too small for the zones", { ...aws, vpcCidr: "10.0.0.0/27", zoneCount: 3 }, "vpcCidr", /too small for 3 subnets/],
    ["subnet prefix too short for the zones", { ...aws, vpcCidr: "10.0.0.0/16", subnetPrefixLength: 16 }, "subnetPrefixLength", /fewer than 3 subnets/],
    ["zone count zero", { zoneCount: 0 }, "zoneCount", /from 1 to 6/],
    ["zone count seven", { zoneCount: 7 }, "zoneCount", /from 1 to 6/],
    ["zones list vs count", { availabilityZones: ["eu-west-1a"], zoneCount: 3 }, "availabilityZones", /exactly zoneCount/],
    ["miner zone outside the zones", { zoneCount: 1 }, "minerZone", /zoneCount is 1/],
    ["manager count even", { managerCount: 2 }, "managerCount", /1, 3 or 5/],
    ["manager count seven", { managerCount: 7 }, "managerCount", /1, 3 or 5/],
    ["host names collide", { workerName: "manager" }, "managerName", /host names collide \(manager\)/],
    ["host name invalid", { minerName: "Miner_1" }, "minerName", /must be a host name/],
    ["boot host unknown", { bootHost: "nope" }, "bootHost", /not a host; use one of worker, miner-worker/],
    ["boot host is a manager", { bootHost: "manager" }, "bootHost", /is a manager/],
    ["label for unknown host", { hostLabels: ["ghost:tier=edge"] }, "hostLabels", /not planned/],
    ["reserved label", { hostLabels: ["worker:role=miner"] }, "hostLabels", /reserved label role/],
    ["label malformed", { hostLabels: ["worker-tier"] }, "hostLabels", /<host>:<key>=<value>/],
    ["instance type empty", { workerInstanceType: "" }, "workerInstanceType", /EC2 instance type/],
    ["instance type malformed", { minerInstanceType: "big" }, "minerInstanceType", /EC2 instance type/],
    ["admin CIDR invalid", { ...aws, adminCidrs: ["1.2.3.4"] }, "adminCidrs", /not a CIDR/],
    ["admin CIDR open to all", { ...aws, adminCidrs: ["0.0.0.0/0"] }, "adminCidrs", /whole internet/],
    ["admin CIDRs missing on AWS", { target: "aws" }, "adminCidrs", /is empty/],
    ["RPC CIDR invalid", { rpcCidrs: ["10.0.0.0/40"] }, "rpcCidrs", /not a CIDR/],
    ["RPC CIDR host bits", { rpcCidrs: ["10.1.2.3/16"] }, "rpcCidrs", /write the network address 10\.1\.0\.0\/16/],
    ["RPC open to the world without opt-in", { rpcCidrs: ["0.0.0.0/0"] }, "rpcCidrs", /allowPublicRpc/],
    ["RPC open to the world over IPv6 without opt-in", { rpcCidrs: ["::/0"] }, "rpcCidrs", /allowPublicRpc/],
    ["p2p CIDR invalid", { p2pCidrs: ["nowhere"] }, "p2pCidrs", /not a CIDR/],
    ["personal RPC API without opt-in", { rpcApis: ["eth", "personal"] }, "rpcApis", /allowUnsafeRpcApis/],
    ["admin RPC API without opt-in", { rpcApis: ["admin"] }, "rpcApis", /allowUnsafeRpcApis/],
    ["unknown RPC API", { rpcApis: ["eth", "foo"] }, "rpcApis", /not a geth JSON-RPC namespace/],
    ["RPC port out of range", { rpcPort: 70000 }, "rpcPort", /1 to 65535/],
    ["p2p port zero", { p2pPort: 0 }, "p2pPort", /1 to 65535/],
    ["bootnode port collides with p2p", { bootnodePort: 30303 }, "bootnodePort", /collides with p2pPort/],
    ["visualizer port collides with RPC", { visualizerPort: 8545 }, "visualizerPort", /collides with rpcPort/],
    ["target unknown", { target: "gcp" }, "target", /`local` or `aws`/],
    ["NAT strategy unknown", { natStrategy: "double" }, "natStrategy", /none.*single.*perZone/],
    ["NAT without private subnets", { natStrategy: "single" }, "natStrategy", /privateSubnets/],
    ["root volume too small", { rootVolumeSizeGb: 4 }, "rootVolumeSizeGb", /8 to 16384/],
    ["image with spaces", { gethImage: "ethereum client" }, "gethImage", /image reference/],
    ["dind privileges unknown", { dindPrivileges: "root" }, "dindPrivileges", /`privileged`.*or `capabilities`/],
    ["dev account setting unknown", { devAccount: "yes" }, "devAccount", /`auto`.*`on` or `off`/],
    ["CORS for any origin without opt-in", { rpcCorsDomains: ["*"] }, "rpcCorsDomains", /allowAnyRpcOrigin/],
    ["CORS origin with a path", { rpcCorsDomains: ["http://localhost:3000/app"] }, "rpcCorsDomains", /not a web origin.*no path/],
    ["CORS origin without a scheme", { rpcCorsDomains: ["localhost:3000"] }, "rpcCorsDomains", /not a web origin/],
    ["vhost not a host name", { rpcVhosts: ["rpc example"] }, "rpcVhosts", /not a host name/],
    ["WebSocket port collides with RPC", { wsRpc: true, wsPort: 8545 }, "wsPort", /collides with rpcPort/],
    ["local WebSocket base port out of range", { localWsBasePort: 70000 }, "localWsBasePort", /1 to 65535/],
    ["boolean not a boolean", { visualizer: "yes" }, "visualizer", /true or false/],
    ["list not a list", { adminCidrs: "203.0.113.7/32" }, "adminCidrs", /list of strings/],
    ["unknown key (typo)", { chainid: 5 }, "chainid", /did you mean chainId/],
    ["readiness timeout too short", { readinessTimeoutSeconds: 5 }, "readinessTimeoutSeconds", /30 to 3600/],
];

describe("resolveConfig rejects bad input before any resource exists", () => {
    it.each(BAD)("%s", (_name, raw, key, fix) => {
        const err = problemsOf(raw);
        const p = err.problems.find((x) => x.key === key);
        expect(p, `no problem reported for ${key}: ${err.message}`).toBeDefined();
        expect(p!.message).toMatch(fix);
        // The one error message names the namespaced key, the value and the fix.
        const line = err.message.split("\n").find((l) => l.includes(`geth-swarm:${key} = `));
        expect(line).toBeDefined();
        expect(line).toMatch(fix);
    });

    it("lists every problem in ONE error", () => {
        const err = problemsOf({ chainId: 1, blockPeriod: 0, managerCount: 2, rpcApis: ["personal"], rpcPort: 0 });
        expect(err.problems.map((p) => p.key).sort()).toEqual(["blockPeriod", "chainId", "managerCount", "rpcApis", "rpcPort"]);
        expect(err.message).toMatch(/^geth-swarm config has 5 problems:/);
    });

    it("gives the same config when every default is written out explicitly", () => {
        const explicit = Object.fromEntries(CONFIG_KEYS.map((k) => [k.key, k.default]));
        expect(resolveConfig(explicit)).toEqual(resolveConfig({}));
    });
});
