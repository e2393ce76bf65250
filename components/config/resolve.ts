import { getAddress, isAddress, parseEther } from "ethers";
import * as ipaddr from "ipaddr.js";
import { CONFIG_KEYS, ConfigKeySpec, PROJECT } from "./keys";
import { DindPrivileges, GethSwarmConfig, HostPlan, LABELS, NatStrategy, Target } from "./types";

/** One problem with one config key. */
export interface ConfigProblem {
    /**
     * Key without namespace, e.g. `chainId`; a key outside the project's namespace (a
     * misspelled namespace such as `gethswarm:minerCount`) with its namespace.
     */
    readonly key: string;
    /** The offending value as the user wrote it. */
    readonly value: unknown;
    /** What is wrong and how to fix it. */
    readonly message: string;
}

/**
 * Thrown before any resource is created when the config is invalid. Lists every
 * problem at once, each naming the key, the bad value and the fix.
 */
export class ConfigError extends Error {
    constructor(readonly problems: readonly ConfigProblem[]) {
        super(
            `geth-swarm config has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p.key.includes(":") ? p.key : `${PROJECT}:${p.key}`} = ${show(p.value)}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

function show(v: unknown): string {
    if (typeof v === "string") return JSON.stringify(v);
    if (typeof v === "bigint") return v.toString();
    return JSON.stringify(v) ?? String(v);
}

/**
 * Chain ids of public networks: a private chain that reuses one lets transactions
 * signed for it replay there (and wallets confuse the two).
 */
export const PUBLIC_CHAIN_IDS: Readonly<Record<number, string>> = {
    1: "Ethereum mainnet", 3: "Ropsten", 4: "Rinkeby", 5: "Goerli", 10: "OP Mainnet", 42: "Kovan",
    56: "BNB Smart Chain", 61: "Ethereum Classic", 100: "Gnosis", 137: "Polygon", 250: "Fantom",
    324: "zkSync Era", 8453: "Base", 17000: "Holesky", 42161: "Arbitrum One", 43114: "Avalanche C-Chain",
    59144: "Linea", 560048: "Hoodi", 11155111: "Sepolia",
};

/** JSON-RPC namespaces geth v1.13 serves. */
export const KNOWN_RPC_APIS = ["eth", "net", "web3", "txpool", "clique", "debug", "admin", "personal", "miner"] as const;
/** Namespaces that control the node or its accounts. */
export const UNSAFE_RPC_APIS = ["admin", "personal", "debug", "miner"] as const;

const NAT_STRATEGIES: readonly NatStrategy[] = ["none", "single", "perZone"];
const TARGETS: readonly Target[] = ["local", "aws"];
const DIND_PRIVILEGES: readonly DindPrivileges[] = ["privileged", "capabilities"];
const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const LABEL_KEY_RE = /^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,62}[a-zA-Z0-9])?$/;

/** How `gethImage` is checked: by its tag, or not at all (the user vouches for the image). */
export type GethImageCheck = "tag" | "off";
const GETH_IMAGE_CHECKS: readonly GethImageCheck[] = ["tag", "off"];

/** The geth releases that seal Clique: v1.10 to v1.13 (v1.14 removed Clique sealing). */
export const CLIQUE_GETH_MINORS = { min: 10, max: 13 } as const;

/**
 * The tag of an image reference (`repo[:tag][@digest]`), or undefined when it has none.
 * A `:` before the last `/` belongs to a registry's port (`registry:5000/geth`).
 */
export function imageTag(image: string): string | undefined {
    const name = image.split("@")[0];
    const colon = name.lastIndexOf(":");
    return colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
}

/**
 * Why a `gethImage` cannot be shown to seal Clique from its tag, or undefined when its tag
 * names geth v1.10 to v1.13 (`v1.13.15`, `1.13.15`, `v1.13.15-amd64`, `v1.13`, `release-1.13`;
 * a digest may follow the tag).
 */
export function gethImageTagProblem(image: string): string | undefined {
    const tag = imageTag(image);
    const vouch = "or set gethImageCheck to off if you vouch that your image seals Clique.";
    const pin = "pin a geth version that seals Clique, e.g. ethereum/client-go:v1.13.15 (a digest may follow the tag: ...:v1.13.15@sha256:<digest>),";
    if (tag === undefined) {
        return image.includes("@")
            ? `is pinned by digest only: no tag says which geth it holds, and geth v1.14 and later cannot seal Clique; ${pin} ${vouch}`
            : `has no tag, so Docker pulls \`latest\`: a geth of v1.14 or later, which cannot seal Clique; ${pin} ${vouch}`;
    }
    const m = /^(?:v|release-)?(\d+)\.(\d+)(?:\.\d+)?(?:-[A-Za-z0-9._-]+)?$/.exec(tag);
    if (!m) return `has the tag ${tag}, which names no geth version, so nothing shows it can seal Clique (geth v1.14 and later cannot; \`latest\` and \`stable\` are such releases); ${pin} ${vouch}`;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major > 1 || (major === 1 && minor > CLIQUE_GETH_MINORS.max)) {
        return `names geth ${major}.${minor}, which cannot seal Clique (geth removed Clique sealing in v1.14, so the chain would never make a block); use ethereum/client-go:v1.13.15, ${vouch}`;
    }
    if (major < 1 || minor < CLIQUE_GETH_MINORS.min) {
        return `names geth ${major}.${minor}, older than the v1.10 to v1.13 this project runs (its flags and start script are v1.13's); use ethereum/client-go:v1.13.15, ${vouch}`;
    }
    return undefined;
}

/**
 * What `readinessTimeoutSeconds` must leave, beside the blocks, for the rest of the chain
 * check: the geth services to roll out and start, import the genesis and find a peer (the
 * lab measured a first peer 4.6-11.2 s after the nodes stack was deployed), and the check's
 * own backoff (up to 5 s between two readings of a node). 30 s is also the key's floor.
 */
export const READINESS_MARGIN_SECONDS = 30;

/**
 * The shortest `readinessTimeoutSeconds` that can see a chain of this block period advance.
 * The check reads each node's head and waits for a later, higher one: a first reading just
 * after a block sees the next one a full period later; a second period covers a late block
 * (a signer that misses its turn, which another signer then takes after the period plus a
 * random delay of up to 500 ms × (signers / 2 + 1)). Plus {@link READINESS_MARGIN_SECONDS}.
 */
export function minReadinessSeconds(blockPeriod: number): number {
    return 2 * blockPeriod + READINESS_MARGIN_SECONDS;
}

/** The longest block period a readiness timeout can see advance (at least 0). */
function maxObservableBlockPeriod(readinessSeconds: number): number {
    return Math.max(0, Math.floor((readinessSeconds - READINESS_MARGIN_SECONDS) / 2));
}

/** Raw values, by key without namespace: typed values (tests, programs) or strings (`pulumi config`). */
export type RawConfig = Readonly<Record<string, unknown>>;

class Collector {
    readonly problems: ConfigProblem[] = [];
    add(key: string, value: unknown, message: string): void {
        this.problems.push({ key, value, message });
    }
}

/** Coerce one raw value to its declared type; record a problem (and return undefined) when it does not parse. */
function coerce(spec: ConfigKeySpec, raw: unknown, c: Collector): unknown {
    if (raw === undefined || raw === null) return spec.default;
    switch (spec.type) {
        case "string":
            if (typeof raw === "string") return raw;
            c.add(spec.key, raw, "must be a string.");
            return undefined;
        case "integer": {
            const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
            if (typeof n === "number" && Number.isSafeInteger(n)) return n;
            c.add(spec.key, raw, "must be a whole number.");
            return undefined;
        }
        case "boolean":
            if (typeof raw === "boolean") return raw;
            if (raw === "true" || raw === "false") return raw === "true";
            c.add(spec.key, raw, "must be true or false.");
            return undefined;
        case "array": {
            let v: unknown = raw;
            if (typeof raw === "string") {
                try {
                    v = JSON.parse(raw);
                } catch {
                    c.add(spec.key, raw, `must be a list of strings, e.g. set it with \`pulumi config set --path '${spec.key}[0]' <value>\`.`);
                    return undefined;
                }
            }
            if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
            c.add(spec.key, raw, "must be a list of strings.");
            return undefined;
        }
    }
}

/** How to find the address to put in a CIDR list. */
export const OWN_ADDRESS_HINT = "your own public address as <ip>/32 (`curl -s https://checkip.amazonaws.com` prints it)";

/**
 * Address ranges reserved for documentation (RFC 5737, RFC 3849): no host has such an
 * address, so a rule that allows one only ever allows nobody, and a value copied from an
 * example (this project's `Pulumi.dev.yaml` placeholder among them) would deploy a stack
 * no operator can reach.
 */
export const DOCUMENTATION_RANGES: readonly string[] = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"];

/** The documentation range (see {@link DOCUMENTATION_RANGES}) that holds the whole CIDR, if any. */
export function documentationRange(cidr: string): string | undefined {
    let [addr, prefix] = ipaddr.parseCIDR(cidr);
    // An IPv4-mapped IPv6 CIDR (::ffff:203.0.113.7/128) is the IPv4 one.
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
        addr = (addr as ipaddr.IPv6).toIPv4Address();
        prefix -= 96;
    }
    return DOCUMENTATION_RANGES.find((range) => {
        const [net, len] = ipaddr.parseCIDR(range);
        return net.kind() === addr.kind() && prefix >= len && addr.match(net, len);
    });
}

/** Validate a CIDR list; returns the canonical ones. */
function checkCidrs(key: string, list: readonly string[] | undefined, c: Collector, opts: { allowAny: boolean; anyFix: string }): string[] {
    const out: string[] = [];
    for (const cidr of list ?? []) {
        if (!ipaddr.isValidCIDR(cidr)) {
            c.add(key, cidr, `is not a CIDR; write an address and a prefix length, e.g. ${OWN_ADDRESS_HINT}.`);
            continue;
        }
        const docRange = documentationRange(cidr);
        if (docRange !== undefined) {
            c.add(key, cidr, `is in ${docRange}, an address range reserved for documentation that no real host has (an example value, not yours); put ${OWN_ADDRESS_HINT}, or the network of the clients you mean.`);
            continue;
        }
        const [addr, prefix] = ipaddr.parseCIDR(cidr);
        const network =
            addr.kind() === "ipv4"
                ? ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()
                : ipaddr.IPv6.networkAddressFromCIDR(cidr).toNormalizedString();
        const canonical = `${network}/${prefix}`;
        if (prefix === 0 && !opts.allowAny) {
            c.add(key, cidr, `opens the port to the whole internet. ${opts.anyFix}`);
            continue;
        }
        if (addr.toString() !== ipaddr.parse(network).toString()) {
            c.add(key, cidr, `has host bits set; write the network address ${canonical}.`);
            continue;
        }
        out.push(canonical);
    }
    return out;
}

function portCheck(key: string, v: number | undefined, c: Collector): void {
    if (v === undefined) return;
    if (v < 1 || v > 65535) c.add(key, v, "must be a port number from 1 to 65535.");
}

function zoneLetterIndex(key: string, v: string | undefined, zoneCount: number | undefined, c: Collector): number {
    if (v === undefined) return 0;
    if (!/^[a-f]$/.test(v)) {
        c.add(key, v, "must be a zone letter from a to f (a = the first zone used).");
        return 0;
    }
    const i = v.charCodeAt(0) - 97;
    if (zoneCount !== undefined && i >= zoneCount) {
        c.add(key, v, `names zone ${i + 1} but zoneCount is ${zoneCount}; use a letter up to ${String.fromCharCode(96 + zoneCount)} or raise zoneCount.`);
    }
    return i;
}

/**
 * `base`, `base-2`, `base-3`, ...: the first host keeps the plain name, so raising a count
 * only adds hosts (AWS instances and local containers are named after their host, and a
 * renamed host would be replaced).
 */
function hostNames(base: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => (i === 0 ? base : `${base}-${i + 1}`));
}

/**
 * Turn raw config values into a typed, fully defaulted config, or throw ONE
 * {@link ConfigError} listing every problem. Unknown keys are problems too (a typo
 * in a stack file must not be silently ignored).
 */
export function resolveConfig(raw: RawConfig): GethSwarmConfig {
    const c = new Collector();
    const known = new Set(CONFIG_KEYS.map((k) => k.key));
    for (const key of Object.keys(raw)) {
        if (!known.has(key)) {
            const near = [...known].find((k) => k.toLowerCase() === key.toLowerCase());
            c.add(key, raw[key], `is not a geth-swarm setting${near ? `; did you mean ${near}?` : "; see the config reference in the README."}`);
        }
    }
    const v: Record<string, unknown> = {};
    for (const spec of CONFIG_KEYS) v[spec.key] = coerce(spec, raw[spec.key], c);
    const s = (k: string) => v[k] as string | undefined;
    const n = (k: string) => v[k] as number | undefined;
    const b = (k: string) => v[k] as boolean | undefined;
    const a = (k: string) => v[k] as string[] | undefined;

    // --- target ----------------------------------------------------------------------------
    const target = s("target") as Target | undefined;
    if (target !== undefined && !TARGETS.includes(target)) c.add("target", target, "must be `local` or `aws`.");

    // --- chain -----------------------------------------------------------------------------
    const chainId = n("chainId");
    if (chainId !== undefined) {
        if (chainId < 1) c.add("chainId", chainId, "must be a positive whole number, e.g. 4242.");
        else if (PUBLIC_CHAIN_IDS[chainId] && !b("allowPublicChainId")) {
            c.add("chainId", chainId, `is the chain id of ${PUBLIC_CHAIN_IDS[chainId]}; pick a private chain id (e.g. 4242) or set allowPublicChainId to true.`);
        }
    }
    const blockPeriod = n("blockPeriod");
    if (blockPeriod !== undefined && blockPeriod < 1) {
        c.add("blockPeriod", blockPeriod, "must be at least 1 second (a Clique period of 0 seals only when transactions arrive).");
    }
    const epoch = n("epoch");
    if (epoch !== undefined && epoch < 1) c.add("epoch", epoch, "must be at least 1 block.");
    let gasLimit = 0n;
    const gasRaw = s("gasLimit");
    if (gasRaw !== undefined) {
        if (!/^[0-9]+$/.test(gasRaw)) c.add("gasLimit", gasRaw, "must be a decimal number of gas, e.g. \"30000000\".");
        else {
            gasLimit = BigInt(gasRaw);
            if (gasLimit < 5000n || gasLimit > 0x7fffffffffffffffn) {
                c.add("gasLimit", gasRaw, "must be between 5000 (geth's minimum) and 2^63-1.");
            }
        }
    }
    const prefundAccounts: string[] = [];
    for (const addr of a("prefundAccounts") ?? []) {
        if (!isAddress(addr)) c.add("prefundAccounts", addr, "is not an Ethereum address (0x followed by 40 hex digits, with a valid checksum if mixed-case).");
        else prefundAccounts.push(getAddress(addr));
    }
    let prefundBalanceWei = 0n;
    const bal = s("prefundBalanceEth");
    if (bal !== undefined) {
        try {
            if (!/^[0-9]+(\.[0-9]+)?$/.test(bal)) throw new Error("format");
            prefundBalanceWei = parseEther(bal);
        } catch {
            c.add("prefundBalanceEth", bal, "must be a non-negative decimal amount of ether, e.g. \"1000\".");
        }
    }

    // --- images ----------------------------------------------------------------------------
    const badImages = new Set<string>();
    for (const k of ["gethImage", "toolsImage", "visualizerImage", "dindImage"]) {
        const img = s(k);
        if (img !== undefined && (img.trim() === "" || /\s/.test(img))) {
            c.add(k, img, "must be an image reference such as ethereum/client-go:v1.13.15.");
            badImages.add(k);
        }
    }
    const gethImageCheck = s("gethImageCheck");
    if (gethImageCheck !== undefined && !GETH_IMAGE_CHECKS.includes(gethImageCheck as GethImageCheck)) {
        c.add("gethImageCheck", gethImageCheck, "must be `tag` (the gethImage tag must name geth v1.10 to v1.13) or `off` (you vouch that your image seals Clique).");
    }
    const gethImage = s("gethImage");
    if (gethImage !== undefined && !badImages.has("gethImage") && gethImageCheck === "tag") {
        const problem = gethImageTagProblem(gethImage);
        if (problem) c.add("gethImage", gethImage, problem);
    }

    const dindPrivileges = s("dindPrivileges") as DindPrivileges | undefined;
    if (dindPrivileges !== undefined && !DIND_PRIVILEGES.includes(dindPrivileges)) {
        c.add("dindPrivileges", dindPrivileges, "must be `privileged` (Docker Desktop, Docker Engine) or `capabilities` (engines that refuse privileged containers).");
    }

    // --- ports -----------------------------------------------------------------------------
    const portKeys = ["rpcPort", "p2pPort", "bootnodePort", "visualizerPort", "wsPort"] as const;
    for (const k of portKeys) portCheck(k, n(k), c);
    const seen = new Map<number, string>();
    for (const k of portKeys) {
        if (k === "visualizerPort" && b("visualizer") === false) continue;
        if (k === "wsPort" && b("wsRpc") !== true) continue;
        const p = n(k);
        if (p === undefined) continue;
        const other = seen.get(p);
        if (other) c.add(k, p, `collides with ${other} (${p}); give each service its own port.`);
        else seen.set(p, k);
    }
    for (const k of ["localApiPort", "localRpcBasePort", "localWsBasePort"]) portCheck(k, n(k), c);

    // --- access ----------------------------------------------------------------------------
    const apis = a("rpcApis") ?? [];
    for (const api of apis) {
        if (!(KNOWN_RPC_APIS as readonly string[]).includes(api)) {
            c.add("rpcApis", api, `is not a geth JSON-RPC namespace; use some of ${KNOWN_RPC_APIS.join(", ")}.`);
        } else if ((UNSAFE_RPC_APIS as readonly string[]).includes(api) && !b("allowUnsafeRpcApis")) {
            c.add("rpcApis", api, "controls the node or its accounts and would be served on a published port; remove it or set allowUnsafeRpcApis to true.");
        }
    }
    if (new Set(apis).size !== apis.length) c.add("rpcApis", apis, "lists a namespace twice.");
    const rpcCidrs = checkCidrs("rpcCidrs", a("rpcCidrs"), c, {
        allowAny: b("allowPublicRpc") === true,
        anyFix: "Restrict rpcCidrs to your clients, or set allowPublicRpc to true if you really mean it.",
    });
    const adminCidrs = checkCidrs("adminCidrs", a("adminCidrs"), c, {
        allowAny: false,
        anyFix: `The Docker API and SSH must not be open to everyone; put ${OWN_ADDRESS_HINT}.`,
    });
    const p2pCidrs = checkCidrs("p2pCidrs", a("p2pCidrs"), c, {
        allowAny: b("allowOpenP2p") === true,
        anyFix: "Every geth and the bootnode would take connections and discovery traffic from anyone; list the networks of the peers you expect, or set allowOpenP2p to true if you really mean it.",
    });
    const corsDomains = a("rpcCorsDomains") ?? [];
    for (const origin of corsDomains) {
        if (origin === "*") {
            if (!b("allowAnyRpcOrigin")) c.add("rpcCorsDomains", origin, "lets any web page a user of the RPC opens call it; list your app's origins (e.g. http://localhost:3000), or set allowAnyRpcOrigin to true.");
        } else if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(origin)) {
            c.add("rpcCorsDomains", origin, "is not a web origin; write the scheme, host and port a page is served from, e.g. http://localhost:3000 (no path).");
        }
    }
    const vhosts = a("rpcVhosts") ?? [];
    for (const vhost of vhosts) {
        if (vhost !== "*" && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(vhost)) {
            c.add("rpcVhosts", vhost, "is not a host name; write a name such as localhost or rpc.example.com, or * for any.");
        }
    }
    const devAccountRaw = s("devAccount");
    if (devAccountRaw !== undefined && !["auto", "on", "off"].includes(devAccountRaw)) {
        c.add("devAccount", devAccountRaw, "must be `auto` (on for the local target, off on AWS), `on` or `off`.");
    }
    if (target === "aws" && (a("adminCidrs") ?? []).length === 0) {
        c.add("adminCidrs", [], "is empty, so nothing could reach the manager's Docker API to deploy the stacks; set your own address: `pulumi config set --path 'adminCidrs[0]' \"$(curl -s https://checkip.amazonaws.com)/32\"`.");
    }

    // --- AWS network -----------------------------------------------------------------------
    const zoneCount = n("zoneCount");
    if (zoneCount !== undefined && (zoneCount < 1 || zoneCount > 6)) c.add("zoneCount", zoneCount, "must be from 1 to 6.");
    const zones = a("availabilityZones") ?? [];
    if (zones.length > 0 && zoneCount !== undefined && zones.length !== zoneCount) {
        c.add("availabilityZones", zones, `lists ${zones.length} zones but zoneCount is ${zoneCount}; list exactly zoneCount zones or leave it empty.`);
    }
    if (new Set(zones).size !== zones.length) c.add("availabilityZones", zones, "lists a zone twice.");
    const natStrategy = s("natStrategy") as NatStrategy | undefined;
    if (natStrategy !== undefined && !NAT_STRATEGIES.includes(natStrategy)) {
        c.add("natStrategy", natStrategy, "must be `none`, `single` or `perZone`.");
    } else if (natStrategy !== undefined && natStrategy !== "none" && b("privateSubnets") === false) {
        c.add("natStrategy", natStrategy, "gives NAT to private subnets, but privateSubnets is false; set privateSubnets to true or natStrategy to none.");
    }
    const vpcCidr = s("vpcCidr");
    const subnetPrefix = n("subnetPrefixLength");
    if (subnetPrefix !== undefined && subnetPrefix !== 0 && (subnetPrefix < 16 || subnetPrefix > 28)) {
        c.add("subnetPrefixLength", subnetPrefix, "must be 0 (automatic) or from 16 to 28 (the subnet sizes AWS allows).");
    }
    if (vpcCidr !== undefined) {
        if (!ipaddr.IPv4.isValidCIDR(vpcCidr)) {
            c.add("vpcCidr", vpcCidr, "must be an IPv4 CIDR such as 10.0.0.0/16.");
        } else {
            const [, prefix] = ipaddr.IPv4.parseCIDR(vpcCidr);
            const subnets = (zoneCount ?? 3) * (b("privateSubnets") ? 2 : 1);
            const needed = prefix + Math.ceil(Math.log2(subnets));
            if (prefix < 16 || prefix > 28) c.add("vpcCidr", vpcCidr, "must have a prefix length from /16 to /28 (AWS VPC limits).");
            else if (ipaddr.IPv4.networkAddressFromCIDR(vpcCidr).toString() !== vpcCidr.split("/")[0]) {
                c.add("vpcCidr", vpcCidr, `has host bits set; write ${ipaddr.IPv4.networkAddressFromCIDR(vpcCidr).toString()}/${prefix}.`);
            } else if (needed > 28) {
                c.add("vpcCidr", vpcCidr, `is too small for ${subnets} subnets of at least /28; use a larger VPC (e.g. a /24 or larger) or fewer zones.`);
            } else if (subnetPrefix && subnetPrefix < needed) {
                c.add("subnetPrefixLength", subnetPrefix, `leaves room for fewer than ${subnets} subnets in ${vpcCidr}; use ${needed} or more, or 0 for automatic.`);
            }
        }
    }
    const rootGb = n("rootVolumeSizeGb");
    if (rootGb !== undefined && (rootGb < 8 || rootGb > 16384)) c.add("rootVolumeSizeGb", rootGb, "must be from 8 to 16384 GiB.");

    // --- hosts -----------------------------------------------------------------------------
    const managerCount = n("managerCount");
    if (managerCount !== undefined && ![1, 3, 5].includes(managerCount)) {
        c.add("managerCount", managerCount, "must be 1, 3 or 5: swarm managers keep a Raft quorum, which needs an odd count (more than 5 slows every write).");
    }
    const workerCount = n("workerCount");
    if (workerCount !== undefined && (workerCount < 0 || workerCount > 100)) c.add("workerCount", workerCount, "must be from 0 to 100.");
    const minerCount = n("minerCount");
    if (minerCount !== undefined && (minerCount < 1 || minerCount > 100)) {
        c.add("minerCount", minerCount, "must be from 1 to 100: a Clique chain needs at least one signer host.");
    }
    const signerCount = n("signerCount");
    if (signerCount !== undefined && minerCount !== undefined && signerCount !== 0 && signerCount !== minerCount) {
        c.add("signerCount", signerCount, `must equal minerCount (${minerCount}): each miner host seals with its own signer key. Set signerCount to ${minerCount} (or 0), or minerCount to ${signerCount}.`);
    }
    const genesisSigners = n("genesisSigners");
    if (genesisSigners !== undefined && minerCount !== undefined && (genesisSigners < 0 || genesisSigners > minerCount)) {
        c.add("genesisSigners", genesisSigners, `must be from 1 to minerCount (${minerCount}), or 0 for all of them: the genesis lists the signers of the first genesisSigners miner hosts.`);
    }
    for (const k of ["managerInstanceType", "workerInstanceType", "minerInstanceType"]) {
        const t = s(k);
        if (t !== undefined && !/^[a-z0-9-]+\.[a-z0-9-]+$/.test(t)) c.add(k, t, "must be an EC2 instance type such as t3.small.");
    }
    const zc = zones.length || zoneCount;
    const workerZone = zoneLetterIndex("workerZone", s("workerZone"), zc, c);
    const minerZone = zoneLetterIndex("minerZone", s("minerZone"), zc, c);
    const names: Record<string, string | undefined> = { managerName: s("managerName"), workerName: s("workerName"), minerName: s("minerName") };
    for (const [k, name] of Object.entries(names)) {
        if (name !== undefined && !HOSTNAME_RE.test(name)) {
            c.add(k, name, "must be a host name: lower-case letters, digits and '-', at most 63 characters, not starting or ending with '-'.");
        }
    }

    const hosts: HostPlan[] = [];
    if (managerCount && names.managerName && names.workerName && names.minerName) {
        const zonesUsed = zc ?? 3;
        hostNames(names.managerName, managerCount).forEach((name, i) =>
            hosts.push({ name, class: "manager", role: "manager", zoneIndex: i % zonesUsed, instanceType: s("managerInstanceType") ?? "", labels: { [LABELS.host]: name } }),
        );
        hostNames(names.workerName, workerCount ?? 0).forEach((name) =>
            hosts.push({ name, class: "worker", role: "worker", zoneIndex: workerZone, instanceType: s("workerInstanceType") ?? "", labels: { [LABELS.host]: name } }),
        );
        hostNames(names.minerName, minerCount ?? 0).forEach((name, i) =>
            hosts.push({
                name, class: "miner", role: "worker", zoneIndex: minerZone, instanceType: s("minerInstanceType") ?? "", signerIndex: i,
                labels: { [LABELS.host]: name, [LABELS.role]: "miner", [LABELS.signer]: String(i) },
            }),
        );
        const dup = hosts.map((h) => h.name).filter((x, i, all) => all.indexOf(x) !== i);
        if (dup.length > 0) {
            c.add("managerName", names.managerName, `host names collide (${[...new Set(dup)].join(", ")}); give managerName, workerName and minerName different values.`);
        }
    }

    // boot host
    let bootHost = s("bootHost") ?? "";
    if (hosts.length > 0) {
        if (bootHost === "") {
            bootHost = (hosts.find((h) => h.class === "worker") ?? hosts.find((h) => h.class === "miner"))?.name ?? "";
        } else {
            const h = hosts.find((x) => x.name === bootHost);
            if (!h) c.add("bootHost", bootHost, `is not a host; use one of ${hosts.filter((x) => x.role === "worker").map((x) => x.name).join(", ")}.`);
            else if (h.role === "manager") c.add("bootHost", bootHost, "is a manager; the bootnode runs on a worker so that managers only manage. Pick a worker.");
        }
        const bi = hosts.findIndex((h) => h.name === bootHost);
        if (bi >= 0) hosts[bi] = { ...hosts[bi], labels: { ...hosts[bi].labels, [LABELS.boot]: "true" } };
    }

    // extra labels
    for (const entry of a("hostLabels") ?? []) {
        const m = /^([^:]+):([^=]+)=(.*)$/.exec(entry);
        if (!m) {
            c.add("hostLabels", entry, "must look like `<host>:<key>=<value>`, e.g. `worker:zone=edge`.");
            continue;
        }
        const [, host, key, value] = m;
        const i = hosts.findIndex((h) => h.name === host);
        if (hosts.length > 0 && i < 0) c.add("hostLabels", entry, `names host ${host}, which is not planned; hosts are ${hosts.map((h) => h.name).join(", ")}.`);
        else if (key === LABELS.role || key.startsWith("geth-swarm.")) c.add("hostLabels", entry, `sets the reserved label ${key}; the project manages it. Use another key.`);
        else if (!LABEL_KEY_RE.test(key)) c.add("hostLabels", entry, "has an invalid label key; use letters, digits, '.', '_' or '-'.");
        else if (i >= 0) hosts[i] = { ...hosts[i], labels: { ...hosts[i].labels, [key]: value } };
    }

    const readiness = n("readinessTimeoutSeconds");
    if (readiness !== undefined && (readiness < 30 || readiness > 3600)) c.add("readinessTimeoutSeconds", readiness, "must be from 30 to 3600 seconds.");
    else if (readiness !== undefined && blockPeriod !== undefined && blockPeriod >= 1) {
        const needed = minReadinessSeconds(blockPeriod);
        if (readiness < needed) {
            c.add("blockPeriod", blockPeriod,
                `is too long for readinessTimeoutSeconds (${readiness}): pulumi up calls the chain ready only once every node's head has advanced, which can take ` +
                `2 block periods plus ${READINESS_MARGIN_SECONDS} s to start and peer (${needed} s). Raise readinessTimeoutSeconds to at least ${needed}, ` +
                `or lower blockPeriod to at most ${maxObservableBlockPeriod(readiness)}.`);
        }
    }

    const rpcBase = n("localRpcBasePort");
    if (rpcBase !== undefined && rpcBase + hosts.length > 65535) c.add("localRpcBasePort", rpcBase, "leaves no room for one port per host below 65536.");

    if (c.problems.length > 0) throw new ConfigError(c.problems);

    return {
        target: target!,
        chain: {
            chainId: chainId!, blockPeriod: blockPeriod!, epoch: epoch!, gasLimit, signerCount: minerCount!,
            genesisSignerCount: genesisSigners || minerCount!,
            prefundAccounts, prefundBalanceWei,
        },
        images: { geth: s("gethImage")!, tools: s("toolsImage")!, visualizer: s("visualizerImage")! },
        visualizer: b("visualizer")!,
        ports: { rpc: n("rpcPort")!, p2p: n("p2pPort")!, bootnode: n("bootnodePort")!, visualizer: n("visualizerPort")! },
        rpc: { apis: [...apis], cidrs: rpcCidrs, ws: { enabled: b("wsRpc")!, port: n("wsPort")! }, corsDomains: [...corsDomains], vhosts: [...vhosts] },
        devAccount: devAccountRaw === "on" || (devAccountRaw === "auto" && target === "local"),
        adminCidrs,
        p2pCidrs,
        encryptedOverlay: b("encryptedOverlay")!,
        hosts,
        bootHost,
        aws: {
            vpcCidr: vpcCidr!, zoneCount: zones.length || zoneCount!, availabilityZones: zones, subnetPrefixLength: subnetPrefix!,
            privateSubnets: b("privateSubnets")!, natStrategy: natStrategy!, rootVolumeSizeGb: rootGb!,
            amiOwner: s("amiOwner")!, amiNamePattern: s("amiNamePattern")!, sshKeyName: s("sshKeyName") || undefined,
        },
        local: { dindImage: s("dindImage")!, dindPrivileges: dindPrivileges!, preloadImages: b("preloadImages")!, apiPort: n("localApiPort")!, rpcBasePort: rpcBase!, wsBasePort: n("localWsBasePort")! },
        readinessTimeoutSeconds: readiness!,
    };
}

/** A namespace as typed, reduced to what a typo keeps: lower case, letters and digits only. */
const normaliseNamespace = (ns: string) => ns.toLowerCase().replace(/[^a-z0-9]/g, "");

/**
 * Keys of the stack config (the whole map the engine passes, `namespace:key` to value) that
 * are ours under a misspelled namespace: `gethswarm:minerCount`, `geth_swarm:minerCount`,
 * `gethSwarm:minercount`. Pulumi hands them to no one, so the setting would be silently
 * lost; each is a problem naming the key and its correct spelling.
 */
export function misspelledNamespaceProblems(all: Readonly<Record<string, unknown>>): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const [full, value] of Object.entries(all)) {
        const colon = full.indexOf(":");
        if (colon <= 0) continue;
        const ns = full.slice(0, colon);
        const key = full.slice(colon + 1);
        if (ns === PROJECT || normaliseNamespace(ns) !== normaliseNamespace(PROJECT)) continue;
        const spec = CONFIG_KEYS.find((k) => k.key.toLowerCase() === key.toLowerCase());
        if (!spec) continue;
        problems.push({
            key: full,
            value,
            message: `is not read: the namespace is ${PROJECT}, so write it as ${PROJECT}:${spec.key} (\`pulumi config rm ${full}\`, then \`pulumi config set ${PROJECT}:${spec.key} <value>\`).`,
        });
    }
    return problems;
}

/**
 * Resolve the whole stack config map as the engine passes it to the program (`namespace:key`
 * to value, e.g. `pulumi.runtime.allConfig()`): the `geth-swarm:*` keys through
 * {@link resolveConfig}, and keys of ours under a misspelled namespace reported with them in
 * ONE {@link ConfigError}. Keys of other namespaces (`aws:region`) are left alone.
 */
export function resolveStackConfig(all: Readonly<Record<string, unknown>>): GethSwarmConfig {
    const prefix = `${PROJECT}:`;
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = v;
    const misspelled = misspelledNamespaceProblems(all);
    let config: GethSwarmConfig;
    try {
        config = resolveConfig(raw);
    } catch (e) {
        if (e instanceof ConfigError && misspelled.length > 0) throw new ConfigError([...misspelled, ...e.problems]);
        throw e;
    }
    if (misspelled.length > 0) throw new ConfigError(misspelled);
    return config;
}

/** The config with every default: what a stack with no settings gets. */
export function defaultConfig(overrides: RawConfig = {}): GethSwarmConfig {
    return resolveConfig(overrides);
}
