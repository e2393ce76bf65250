import { describe, expect, it } from "vitest";
import {
    CONFIG_KEYS, ConfigError, documentationRange, gethImageTagProblem, imageTag, keySpec, LABELS, minReadinessSeconds, misspelledNamespaceProblems,
    resolveConfig, resolveStackConfig, type RawConfig,
} from "./index";

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

/** An operator address outside the documentation ranges, which are refused. */
const aws = { target: "aws", adminCidrs: ["10.8.0.7/32"] };

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
        // The visualizer mounts the manager's Docker socket: off unless asked for.
        expect(c.visualizer).toBe(false);
        expect(c.images.geth).toBe("ethereum/client-go:v1.13.15");
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
            target: "aws", chainId: "999", blockPeriod: "2", visualizer: "true",
            adminCidrs: '["10.8.0.0/24"]', rpcApis: '["eth","net"]', workerCount: "3", managerCount: "3",
        });
        expect(c.chain.chainId).toBe(999);
        expect(c.chain.blockPeriod).toBe(2);
        expect(c.visualizer).toBe(true);
        expect(c.adminCidrs).toEqual(["10.8.0.0/24"]);
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
    ["visualizer port collides with RPC", { visualizer: true, visualizerPort: 8545 }, "visualizerPort", /collides with rpcPort/],
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
    ["list not a list", { adminCidrs: "10.8.0.7/32" }, "adminCidrs", /list of strings/],
    ["unknown key (typo)", { chainid: 5 }, "chainid", /did you mean chainId/],
    ["readiness timeout too short", { readinessTimeoutSeconds: 5 }, "readinessTimeoutSeconds", /30 to 3600/],
    // p2p open to the world needs its opt-in (the opt-in for RPC does not cover it)
    ["p2p open to the world without opt-in", { ...aws, p2pCidrs: ["0.0.0.0/0"] }, "p2pCidrs", /whole internet.*set allowOpenP2p to true/],
    ["p2p open to the world over IPv6 without opt-in", { ...aws, p2pCidrs: ["::/0"] }, "p2pCidrs", /whole internet.*allowOpenP2p/],
    ["p2p prefix length 0 on another address", { ...aws, p2pCidrs: ["10.0.0.0/0"] }, "p2pCidrs", /whole internet.*allowOpenP2p/],
    ["p2p open with the RPC opt-in only", { ...aws, p2pCidrs: ["0.0.0.0/0"], allowPublicRpc: true }, "p2pCidrs", /allowOpenP2p/],
    ["allowOpenP2p not a boolean", { allowOpenP2p: "yes" }, "allowOpenP2p", /true or false/],
    // documentation address ranges in the access lists
    ["admin CIDR the Pulumi.dev.yaml placeholder", { ...aws, adminCidrs: ["203.0.113.7/32"] }, "adminCidrs", /203\.0\.113\.0\/24.*reserved for documentation.*your own public address.*curl -s https:\/\/checkip\.amazonaws\.com/],
    ["admin CIDR TEST-NET-1", { ...aws, adminCidrs: ["192.0.2.0/24"] }, "adminCidrs", /192\.0\.2\.0\/24.*documentation.*checkip/],
    ["admin CIDR TEST-NET-2 inside a real one's list", { ...aws, adminCidrs: ["10.8.0.7/32", "198.51.100.0/25"] }, "adminCidrs", /198\.51\.100\.0\/24.*documentation/],
    ["admin CIDR IPv6 documentation", { ...aws, adminCidrs: ["2001:db8::/64"] }, "adminCidrs", /2001:db8::\/32.*documentation.*checkip/],
    ["admin CIDR IPv4-mapped documentation address", { ...aws, adminCidrs: ["::ffff:203.0.113.7/128"] }, "adminCidrs", /203\.0\.113\.0\/24.*documentation/],
    ["RPC CIDR documentation", { ...aws, rpcCidrs: ["198.51.100.0/24"] }, "rpcCidrs", /198\.51\.100\.0\/24.*documentation.*checkip/],
    ["RPC CIDR documentation, IPv6", { ...aws, rpcCidrs: ["2001:db8:1::/48"] }, "rpcCidrs", /2001:db8::\/32.*documentation/],
    ["p2p CIDR documentation", { ...aws, p2pCidrs: ["192.0.2.0/24"] }, "p2pCidrs", /192\.0\.2\.0\/24.*documentation.*checkip/],
    // geth images that cannot seal Clique, or whose tag does not say
    ["geth v1.14", { gethImage: "ethereum/client-go:v1.14.3" }, "gethImage", /geth 1\.14, which cannot seal Clique.*v1\.13\.15.*gethImageCheck to off/],
    ["geth v1.15 with an arch suffix", { gethImage: "ethereum/client-go:v1.15.0-amd64" }, "gethImage", /geth 1\.15, which cannot seal Clique.*gethImageCheck to off/],
    ["geth v1.14 pinned by tag and digest", { gethImage: `ethereum/client-go:v1.14.0@sha256:${"a".repeat(64)}` }, "gethImage", /geth 1\.14, which cannot seal Clique/],
    ["geth v2", { gethImage: "ethereum/client-go:v2.0.0" }, "gethImage", /geth 2\.0, which cannot seal Clique/],
    ["geth latest", { gethImage: "ethereum/client-go:latest" }, "gethImage", /tag latest, which names no geth version.*ethereum\/client-go:v1\.13\.15.*gethImageCheck to off/],
    ["geth stable", { gethImage: "ethereum/client-go:stable" }, "gethImage", /tag stable, which names no geth version.*gethImageCheck to off/],
    ["geth without a tag", { gethImage: "ethereum/client-go" }, "gethImage", /no tag, so Docker pulls `latest`.*gethImageCheck to off/],
    ["geth on a registry port without a tag", { gethImage: "registry.local:5000/geth" }, "gethImage", /no tag/],
    ["geth by digest only", { gethImage: `ethereum/client-go@sha256:${"b".repeat(64)}` }, "gethImage", /pinned by digest only.*:v1\.13\.15@sha256:.*gethImageCheck to off/],
    ["geth alltools tag as the node image", { gethImage: "ethereum/client-go:alltools-v1.13.15" }, "gethImage", /tag alltools-v1\.13\.15, which names no geth version/],
    ["geth older than v1.10", { gethImage: "ethereum/client-go:v1.9.25" }, "gethImage", /geth 1\.9, older than the v1\.10 to v1\.13/],
    ["geth image check unknown", { gethImageCheck: "none" }, "gethImageCheck", /`tag`.*or `off`/],
    // a block period the readiness wait cannot see advance
    ["block period too long for the readiness timeout", { blockPeriod: 30, readinessTimeoutSeconds: 60 }, "blockPeriod",
        /too long for readinessTimeoutSeconds \(60\).*2 block periods plus 30 s.*\(90 s\).*readinessTimeoutSeconds to at least 90.*blockPeriod to at most 15/],
    ["block period just too long for the default timeout", { blockPeriod: 286 }, "blockPeriod", /readinessTimeoutSeconds \(600\).*at least 602.*at most 285/],
    ["one-second blocks with a readiness timeout of 30", { blockPeriod: 1, readinessTimeoutSeconds: 31 }, "blockPeriod", /at least 32.*at most 0/],
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

    it("refuses Pulumi.dev.yaml's placeholder operator address, and takes a real one", () => {
        const err = problemsOf({ target: "aws", adminCidrs: ["203.0.113.7/32"] });
        expect(err.problems.map((p) => p.key)).toEqual(["adminCidrs"]);
        expect(err.message).toContain('geth-swarm:adminCidrs = "203.0.113.7/32": is in 203.0.113.0/24, an address range reserved for documentation');
        expect(err.message).toContain("curl -s https://checkip.amazonaws.com");
        expect(resolveConfig({ target: "aws", adminCidrs: ["81.2.69.142/32"] }).adminCidrs).toEqual(["81.2.69.142/32"]);
    });

    it("gives the same config when every default is written out explicitly", () => {
        const explicit = Object.fromEntries(CONFIG_KEYS.map((k) => [k.key, k.default]));
        expect(resolveConfig(explicit)).toEqual(resolveConfig({}));
    });
});

describe("access lists: prefix length 0 and documentation ranges", () => {
    it("accepts p2p open to the world with allowOpenP2p, and real networks next to the documentation ranges", () => {
        expect(resolveConfig({ ...aws, p2pCidrs: ["0.0.0.0/0", "::/0"], allowOpenP2p: true }).p2pCidrs).toHaveLength(2);
        expect(resolveConfig({ ...aws, p2pCidrs: ["0.0.0.0/0"], allowOpenP2p: "true" }).p2pCidrs).toEqual(["0.0.0.0/0"]);
        const c = resolveConfig({
            ...aws, adminCidrs: ["192.0.3.7/32", "2001:db9::/32"], rpcCidrs: ["198.51.101.0/24", "203.0.112.0/24"], p2pCidrs: ["192.0.0.0/8"],
        });
        expect(c.adminCidrs).toHaveLength(2);
        expect(c.adminCidrs[0]).toBe("192.0.3.7/32");
        expect(c.rpc.cidrs).toEqual(["198.51.101.0/24", "203.0.112.0/24"]);
        expect(c.p2pCidrs).toEqual(["192.0.0.0/8"]);
    });

    it.each([
        ["192.0.2.1/32", "192.0.2.0/24"], ["198.51.100.0/24", "198.51.100.0/24"], ["203.0.113.128/25", "203.0.113.0/24"],
        ["2001:db8::/32", "2001:db8::/32"], ["2001:db8:ffff::1/128", "2001:db8::/32"], ["::ffff:192.0.2.9/128", "192.0.2.0/24"],
        ["192.0.2.0/23", undefined], ["203.0.0.0/16", undefined], ["2001:db8::/31", undefined], ["10.0.0.0/8", undefined], ["203.0.114.1/32", undefined],
    ])("%s lies in the documentation range %s", (cidr, range) => {
        expect(documentationRange(cidr)).toBe(range);
    });
});

describe("gethImage: a geth that seals Clique", () => {
    it.each([
        "ethereum/client-go:v1.13.15", "ethereum/client-go:v1.13.15-amd64", "ethereum/client-go:v1.10.0", "ethereum/client-go:v1.12.2",
        "ethereum/client-go:1.13.15", "ethereum/client-go:v1.13", "ethereum/client-go:release-1.13",
        `ethereum/client-go:v1.13.15@sha256:${"c".repeat(64)}`, "registry.local:5000/team/geth:v1.13.15", "ghcr.io/me/geth:v1.11.6-unstable",
    ])("accepts %s", (image) => {
        expect(gethImageTagProblem(image)).toBeUndefined();
        expect(resolveConfig({ gethImage: image }).images.geth).toBe(image);
    });

    it("takes any image when the user vouches for it (gethImageCheck off)", () => {
        for (const image of ["ethereum/client-go:latest", "ethereum/client-go:v1.14.3", `me/geth@sha256:${"d".repeat(64)}`]) {
            expect(resolveConfig({ gethImage: image, gethImageCheck: "off" }).images.geth).toBe(image);
        }
        expect(keySpec("gethImageCheck")?.default).toBe("tag");
    });

    it.each([
        ["ethereum/client-go:v1.13.15", "v1.13.15"], [`ethereum/client-go:v1.14.0@sha256:${"e".repeat(64)}`, "v1.14.0"],
        [`ethereum/client-go@sha256:${"e".repeat(64)}`, undefined], ["registry.local:5000/geth", undefined], ["registry.local:5000/geth:v1.13", "v1.13"],
        ["geth", undefined],
    ])("reads the tag of %s as %s", (image, tag) => {
        expect(imageTag(image)).toBe(tag);
    });

    it("does not check toolsImage's tag (alltools-v1.13.15 is its default)", () => {
        expect(resolveConfig({ toolsImage: "ethereum/client-go:alltools-v1.14.0" }).images.tools).toBe("ethereum/client-go:alltools-v1.14.0");
    });
});

describe("blockPeriod and readinessTimeoutSeconds", () => {
    it("needs two block periods plus 30 s of readiness", () => {
        expect(minReadinessSeconds(5)).toBe(40);
        expect(resolveConfig({}).readinessTimeoutSeconds).toBeGreaterThanOrEqual(minReadinessSeconds(resolveConfig({}).chain.blockPeriod));
    });

    it.each([
        [1, 32], [5, 40], [15, 60], [30, 90], [285, 600], [1785, 3600],
    ])("accepts block period %i with a readiness timeout of %i s", (blockPeriod, readinessTimeoutSeconds) => {
        const c = resolveConfig({ blockPeriod, readinessTimeoutSeconds });
        expect([c.chain.blockPeriod, c.readinessTimeoutSeconds]).toEqual([blockPeriod, readinessTimeoutSeconds]);
    });

    it("reports one problem when the timeout is out of range, not a second one about the period", () => {
        const err = problemsOf({ blockPeriod: 30, readinessTimeoutSeconds: 10 });
        expect(err.problems.map((p) => p.key)).toEqual(["readinessTimeoutSeconds"]);
    });
});

describe("keys of ours under a misspelled namespace", () => {
    const GOOD = { "geth-swarm:target": "local", "aws:region": "eu-west-1" };

    it.each([
        ["gethswarm:minerCount", "geth-swarm:minerCount"],
        ["geth_swarm:minerCount", "geth-swarm:minerCount"],
        ["gethSwarm:minerCount", "geth-swarm:minerCount"],
        ["Geth-Swarm:blockPeriod", "geth-swarm:blockPeriod"],
        ["geth.swarm:minercount", "geth-swarm:minerCount"],
        ["geth--swarm:adminCidrs", "geth-swarm:adminCidrs"],
    ])("reports %s with the spelling %s", (key, correct) => {
        const problems = misspelledNamespaceProblems({ ...GOOD, [key]: "3" });
        expect(problems).toHaveLength(1);
        expect(problems[0].key).toBe(key);
        expect(problems[0].value).toBe("3");
        expect(problems[0].message).toContain(`write it as ${correct}`);
        expect(problems[0].message).toContain(`pulumi config set ${correct} <value>`);
        // In the program's one error, the line names the key as written.
        const err = (() => {
            try {
                resolveStackConfig({ ...GOOD, [key]: "3" });
            } catch (e) {
                return e as ConfigError;
            }
            throw new Error("no ConfigError");
        })();
        expect(err).toBeInstanceOf(ConfigError);
        expect(err.message).toContain(`  - ${key} = "3": is not read: the namespace is geth-swarm, so write it as ${correct}`);
    });

    it.each([
        ["geth-swarm:minerCount", "ours, spelled right"],
        ["aws:region", "another project's namespace"],
        ["gethswarm:notOurs", "a key that is not ours"],
        ["geth-swarmer:minerCount", "a namespace that is not ours"],
        ["swarm:minerCount", "a namespace that is not ours"],
        ["minerCount", "no namespace"],
    ])("leaves %s alone (%s)", (key) => {
        expect(misspelledNamespaceProblems({ [key]: "3" })).toEqual([]);
    });

    it("resolves the project's keys of the whole map, and lists misspelled ones with the other problems in ONE error", () => {
        const c = resolveStackConfig({ "geth-swarm:minerCount": "3", "aws:region": "eu-west-1", "random:seed": "x" });
        expect(c.chain.signerCount).toBe(3);
        let err: ConfigError | undefined;
        try {
            resolveStackConfig({ "geth-swarm:target": "aws", "gethswarm:adminCidrs": '["10.8.0.7/32"]', "geth-swarm:chainId": "1" });
        } catch (e) {
            err = e as ConfigError;
        }
        expect(err).toBeInstanceOf(ConfigError);
        expect(err!.problems.map((p) => p.key)).toEqual(["gethswarm:adminCidrs", "chainId", "adminCidrs"]);
        expect(err!.message).toMatch(/^geth-swarm config has 3 problems:\n  - gethswarm:adminCidrs = .*write it as geth-swarm:adminCidrs/);
    });
});
