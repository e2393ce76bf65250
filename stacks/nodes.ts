import { buildCliqueGenesis, genesisToJson } from "../components/chain/genesis";
import { GethSwarmConfig, HostClass, LABELS } from "../components/config/types";
import {
    CONFIG_DIR, DATA_DIR, GENESIS_PATH, GETH_UID, SIGNERS_PATH, START_SCRIPT_PATH,
    contentDigest, renderSignersFile, renderStartScript, signerKeyFile, signerPasswordFile, stallLimitSeconds,
} from "./files";
import { ConfigSpec, FileRefSpec, HOST_NETWORK_KEY, NODES_STACK, SecretSpec, ServiceSpec, StackSpec, hostNetworkSpec, scoped } from "./spec";

/** A host of the swarm as the nodes stack needs it (its swarm node hostname and class). */
export interface NodesHost {
    readonly name: string;
    readonly class: HostClass;
    /** For miner hosts: index of the signer key the host seals with. */
    readonly signerIndex?: number;
}

/** A Clique signer: its address and digests of its secrets (never the secrets). */
export interface NodesSigner {
    /** The signer's address (0x + 40 hex). */
    readonly address: string;
    /** {@link contentDigest} of the signer's private key (hex). */
    readonly keyDigest: string;
    /** {@link contentDigest} of the signer's keystore password. */
    readonly passwordDigest: string;
}

/** Everything {@link nodesStackSpec} needs: plain values only. */
export interface NodesStackInput {
    readonly config: GethSwarmConfig;
    /** Enode URL of the bootnode (`BootStack.enode`). */
    readonly enode: string;
    /** Every planned host of the swarm (the miner hosts name their signer). */
    readonly hosts: readonly NodesHost[];
    /**
     * Signer `i` is the one miner hosts with `signerIndex === i` seal with. The first
     * `config.chain.genesisSignerCount` are listed in the genesis; the running signers vote
     * the others in.
     */
    readonly signers: readonly NodesSigner[];
    /** Address of the development account funded in the genesis (with `config.devAccount`). */
    readonly devAccount?: string;
    /** Stack name. Default `nodes`. */
    readonly stack?: string;
}

/** Keys of the nodes stack's configs. */
export const NODES_CONFIGS = { start: "start", genesis: "genesis", signers: "signers" } as const;

/**
 * Future (not yet executable) transactions each geth keeps per account, and in all
 * (geth's defaults: 64 and 1024). Transactions reach a signer over p2p in any order; a
 * burst from one account arrives with gaps, and with the default 64 the signer dropped
 * the rest of the burst while it waited for a gap to fill. The node that took them over
 * RPC keeps them pending and never sends them again, so they stayed unmined for good
 * (measured: 122 of a 2000-transfer burst). With these limits a burst of up to 2048
 * transfers from one account is kept whole.
 */
export const TXPOOL_ACCOUNT_QUEUE = 2048;
export const TXPOOL_GLOBAL_QUEUE = 8192;

/** Flags that both geth services get (before the role-specific ones). */
function commonGethArgs(config: GethSwarmConfig, enode: string): string[] {
    return [
        "--networkid", String(config.chain.chainId),
        "--syncmode", "full",
        "--port", String(config.ports.p2p),
        "--bootnodes", enode,
        "--txpool.accountqueue", String(TXPOOL_ACCOUNT_QUEUE),
        "--txpool.globalqueue", String(TXPOOL_GLOBAL_QUEUE),
    ];
}

/**
 * Browser access and WebSocket flags of the RPC node: CORS origins (HTTP, and the
 * WebSocket origins), virtual hosts when not geth's default (`localhost`), and WebSocket
 * JSON-RPC with the HTTP namespaces when enabled. Nothing for the defaults.
 */
export function rpcAccessArgs(config: GethSwarmConfig): string[] {
    const { corsDomains, vhosts, ws, apis } = config.rpc;
    const args: string[] = [];
    if (corsDomains.length > 0) args.push("--http.corsdomain", corsDomains.join(","));
    if (vhosts.join(",") !== "localhost") args.push("--http.vhosts", vhosts.join(","));
    if (ws.enabled) {
        args.push("--ws", "--ws.addr", "0.0.0.0", "--ws.port", String(ws.port), "--ws.api", apis.join(","));
        if (corsDomains.length > 0) args.push("--ws.origins", corsDomains.join(","));
    }
    return args;
}

/**
 * The `genesis.json` of the chain: Clique with the given signers; the config's prefunded
 * accounts and the development account (when given), each with `prefundBalanceWei`.
 */
export function renderGenesis(config: GethSwarmConfig, signerAddresses: readonly string[], devAccount?: string): string {
    const alloc: Record<string, bigint> = {};
    for (const a of [...config.chain.prefundAccounts, ...(devAccount ? [devAccount] : [])]) alloc[a] = config.chain.prefundBalanceWei;
    return genesisToJson(
        buildCliqueGenesis({
            chainId: config.chain.chainId,
            periodSeconds: config.chain.blockPeriod,
            epoch: config.chain.epoch,
            gasLimit: config.chain.gasLimit,
            signers: [...signerAddresses],
            alloc,
        }),
    );
}

/**
 * The nodes stack:
 * - `node`: geth, `mode: global` on every host not labelled `role=miner`; p2p
 *   (`ports.p2p` tcp+udp) and JSON-RPC (`ports.rpc` tcp, namespaces `rpc.apis`) on the
 *   host's own interfaces;
 * - `miner`: geth as a Clique signer, `mode: global` on hosts labelled `role=miner`; p2p
 *   only, no HTTP RPC at all.
 *
 * Both run on the swarm's `host` network with no published ports: geth binds the host's
 * own interfaces, so a peer on any host, the boot host included, reaches it at
 * `<host private IP>:<ports.p2p>` and is seen at its own address. (Behind published ports,
 * a node on the boot host sent discovery to its own host's address, Docker's DNAT skipped
 * it and `docker-proxy` relayed it: the bootnode saw the node as the `docker_gwbridge`
 * gateway and answered from an address geth had not sent to, so that node got its first
 * peer late or never.) geth advertises `--nat extip:<ip>`, where the start script takes
 * `<ip>` from the host's route to the bootnode: no per-host list, so hosts that join later
 * change nothing in the stack and restart nothing. One geth runs per host (and the
 * bootnode on its own port), so the ports never collide. On the local target each such host is a
 * docker-in-docker container: RPC listens on that container's address, from which
 * `LocalSwarmHosts` publishes it to 127.0.0.1.
 *
 * Both run the start script (a swarm config, see {@link renderStartScript}) with the genesis (and, for `miner`, the `signers` config) mounted under
 * `/geth-swarm/`, and keep their chain in a named volume at `/data`. They find each other through the bootnode only
 * (`--bootnodes`); the stack does not use the boot stack's overlay network.
 *
 * A geth with no peer for a minute is stopped by the start script's watchdog, and the
 * swarm starts it again (`restartCondition: any`), so it bootstraps its discovery anew;
 * see {@link renderStartScript}.
 *
 * The genesis lists the first `config.chain.genesisSignerCount` signers only. Every
 * signer proposes the others of the `signers` config on start, so miner hosts added to a
 * running chain (with `genesisSigners` pinned to the chain's first signer count, which
 * keeps the genesis unchanged) are voted in by the running signers. Adding a miner host
 * changes the `signers` config, so the running `miner` tasks restart once, one at a
 * time, to make their proposals; `node` tasks are untouched.
 *
 * Every signer key and password secret is mounted into the one `miner` service, so every
 * miner task can read every signer's key; the script picks the one of its host. This
 * was accepted because one global service is what places exactly one signer per miner
 * host as hosts come and go; per-signer services would each need their own placement
 * constraint on `geth-swarm.signer=<i>` and a host relabelled by hand would then run two.
 * The miner hosts are the project's own workers, equally trusted, and the secrets are
 * still only on miner hosts (swarm sends a secret only to nodes that run a task using it).
 */
export function nodesStackSpec(input: NodesStackInput): StackSpec {
    const { config } = input;
    const stack = input.stack ?? NODES_STACK;
    const signerCount = input.signers.length;
    const genesisSigners = config.chain.genesisSignerCount;
    if (genesisSigners < 1 || genesisSigners > signerCount) {
        throw new Error(`nodes stack: the genesis lists ${genesisSigners} signer(s), but there are ${signerCount}.`);
    }

    const miners = input.hosts.filter((h) => h.class === "miner");
    const hostSigners = miners.map((h) => {
        const index = h.signerIndex;
        if (index === undefined || index < 0 || index >= signerCount) {
            throw new Error(`nodes stack: miner host ${h.name} has signer index ${String(index)}, but there are ${signerCount} signer(s).`);
        }
        return { host: h.name, index, address: input.signers[index].address };
    });

    const files: { key: string; fileName: string; content: string }[] = [
        { key: NODES_CONFIGS.start, fileName: "start.sh", content: renderStartScript({ stallLimitSeconds: stallLimitSeconds(config.chain.blockPeriod) }) },
        { key: NODES_CONFIGS.genesis, fileName: "genesis.json", content: renderGenesis(config, input.signers.slice(0, genesisSigners).map((s) => s.address), input.devAccount) },
        { key: NODES_CONFIGS.signers, fileName: "signers", content: renderSignersFile(hostSigners) },
    ];
    const configs: ConfigSpec[] = files.map((f) => ({ ...f, name: `${scoped(stack, f.key)}-${contentDigest(f.content)}` }));

    const secrets: SecretSpec[] = [];
    input.signers.forEach((s, i) => {
        secrets.push({
            key: signerKeyFile(i),
            name: `${scoped(stack, signerKeyFile(i))}-${s.keyDigest}`,
            source: { kind: "signerKey", index: i },
            description: `private key of signer ${i} (${s.address}): 64 hex digits, no 0x`,
        });
        secrets.push({
            key: signerPasswordFile(i),
            name: `${scoped(stack, signerPasswordFile(i))}-${s.passwordDigest}`,
            source: { kind: "signerPassword", index: i },
            description: `keystore password of signer ${i} (${s.address})`,
        });
    });

    const configRefs = (keys: string[]): FileRefSpec[] =>
        keys.map((k) => ({
            ref: k,
            target: { start: START_SCRIPT_PATH, genesis: GENESIS_PATH, signers: SIGNERS_PATH }[k] ?? `${CONFIG_DIR}/${k}`,
            mode: 0o444,
        }));
    const entrypoint = ["/bin/sh", START_SCRIPT_PATH];

    const node: ServiceSpec = {
        key: "node",
        name: scoped(stack, "node"),
        image: config.images.geth,
        entrypoint,
        args: [
            "node",
            ...commonGethArgs(config, input.enode),
            "--http",
            "--http.addr", "0.0.0.0",
            "--http.port", String(config.ports.rpc),
            "--http.api", config.rpc.apis.join(","),
            ...rpcAccessArgs(config),
        ],
        mode: { kind: "global" },
        constraints: [`node.labels.${LABELS.role} != miner`],
        restartCondition: "any",
        endpointMode: "dnsrr",
        ports: [],
        networks: [HOST_NETWORK_KEY],
        mounts: [{ type: "volume", volume: "node-data", target: DATA_DIR }],
        secrets: [],
        configs: configRefs([NODES_CONFIGS.start, NODES_CONFIGS.genesis]),
        labels: {},
    };
    const miner: ServiceSpec = {
        key: "miner",
        name: scoped(stack, "miner"),
        image: config.images.geth,
        entrypoint,
        // The signer aims every block's gas limit at the configured one (geth's own target is 30M,
        // so without this a larger genesis gas limit would shrink back block by block).
        args: ["miner", ...commonGethArgs(config, input.enode), "--miner.gaslimit", config.chain.gasLimit.toString()],
        mode: { kind: "global" },
        constraints: [`node.labels.${LABELS.role} == miner`],
        restartCondition: "any",
        endpointMode: "dnsrr",
        ports: [],
        networks: [HOST_NETWORK_KEY],
        mounts: [{ type: "volume", volume: "miner-data", target: DATA_DIR }],
        // The raw key is root's (the start script imports it); geth, unprivileged, reads the password.
        secrets: secrets.map((s) =>
            s.source.kind === "signerPassword" ? { ref: s.key, target: s.key, mode: 0o400, uid: GETH_UID, gid: GETH_UID } : { ref: s.key, target: s.key, mode: 0o400 },
        ),
        configs: configRefs([NODES_CONFIGS.start, NODES_CONFIGS.genesis, NODES_CONFIGS.signers]),
        labels: {},
    };

    return {
        stack,
        services: [node, miner],
        networks: [hostNetworkSpec()],
        volumes: [
            { key: "node-data", name: scoped(stack, "node-data") },
            { key: "miner-data", name: scoped(stack, "miner-data") },
        ],
        secrets,
        configs,
    };
}
