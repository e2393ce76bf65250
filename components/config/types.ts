/** Where the swarm hosts live. */
export type Target = "local" | "aws";

/** NAT for private subnets: none, one gateway for all zones, or one per zone. */
export type NatStrategy = "none" | "single" | "perZone";

/**
 * How a local docker-in-docker host gets the rights its own Docker engine needs:
 * `privileged` (a privileged container), or `capabilities` (every capability but
 * CAP_SYS_RESOURCE, seccomp unconfined, the machine's cgroup tree mounted read-write; for
 * engines whose capability bounding set refuses privileged containers).
 */
export type DindPrivileges = "privileged" | "capabilities";

/** The class of a swarm host, which decides what runs on it. */
export type HostClass = "manager" | "worker" | "miner";

/** A planned swarm host: the same plan drives AWS instances, local containers and the lab. */
export interface HostPlan {
    /** Unique host name, also the swarm node hostname (`manager`, `worker`, `miner-worker-2`: the first of a class has the plain name). */
    readonly name: string;
    readonly class: HostClass;
    /** Swarm role: managers are `manager`, everything else `worker`. */
    readonly role: "manager" | "worker";
    /** Index of the zone (0 = first zone used) the host goes in. */
    readonly zoneIndex: number;
    /** EC2 instance type (ignored by the local target). */
    readonly instanceType: string;
    /** Swarm node labels applied once the host has joined. */
    readonly labels: Readonly<Record<string, string>>;
    /** For miner hosts: index of the signer key this host seals with. */
    readonly signerIndex?: number;
}

/** Fully validated, fully defaulted program config. */
export interface GethSwarmConfig {
    readonly target: Target;
    readonly chain: {
        readonly chainId: number;
        readonly blockPeriod: number;
        readonly epoch: number;
        readonly gasLimit: bigint;
        /** Signer keys, one per miner host (`minerCount`). */
        readonly signerCount: number;
        /**
         * Signers listed in the genesis block: signer keys `0 .. genesisSignerCount-1`. The
         * running signers vote the rest in. From 1 to `signerCount`.
         */
        readonly genesisSignerCount: number;
        readonly prefundAccounts: readonly string[];
        readonly prefundBalanceWei: bigint;
    };
    readonly images: {
        readonly geth: string;
        readonly tools: string;
        readonly visualizer: string;
    };
    readonly visualizer: boolean;
    readonly ports: {
        readonly rpc: number;
        readonly p2p: number;
        readonly bootnode: number;
        readonly visualizer: number;
    };
    readonly rpc: {
        readonly apis: readonly string[];
        /** Extra CIDRs (besides the VPC and admin CIDRs) allowed to reach RPC. */
        readonly cidrs: readonly string[];
        /** WebSocket JSON-RPC beside HTTP: off, or on at `port`. */
        readonly ws: { readonly enabled: boolean; readonly port: number };
        /** Web origins allowed to call the RPC from a browser (CORS, WebSocket origins). Empty: none. */
        readonly corsDomains: readonly string[];
        /** Host header names the HTTP RPC accepts (IP addresses always are). */
        readonly vhosts: readonly string[];
    };
    /** A development account funded in the genesis, its key generated and exported as a secret. */
    readonly devAccount: boolean;
    readonly adminCidrs: readonly string[];
    readonly p2pCidrs: readonly string[];
    readonly encryptedOverlay: boolean;
    /** Every host, managers first, then workers, then miners. */
    readonly hosts: readonly HostPlan[];
    /** Name of the host that runs the bootnode. */
    readonly bootHost: string;
    readonly aws: {
        readonly vpcCidr: string;
        readonly zoneCount: number;
        readonly availabilityZones: readonly string[];
        /** 0 = largest subnets that fit. */
        readonly subnetPrefixLength: number;
        readonly privateSubnets: boolean;
        readonly natStrategy: NatStrategy;
        readonly rootVolumeSizeGb: number;
        readonly amiOwner: string;
        readonly amiNamePattern: string;
        readonly sshKeyName?: string;
    };
    readonly local: {
        readonly dindImage: string;
        readonly dindPrivileges: DindPrivileges;
        readonly preloadImages: boolean;
        readonly apiPort: number;
        readonly rpcBasePort: number;
        /** First 127.0.0.1 port of the WebSocket RPC (used with `rpc.ws.enabled`). */
        readonly wsBasePort: number;
    };
    readonly readinessTimeoutSeconds: number;
}

/** Node label keys the project sets itself. */
export const LABELS = {
    /** `role=miner` marks Clique signer hosts (the reference scenario's label). */
    role: "role",
    /** `geth-swarm.boot=true` marks the host that runs the bootnode. */
    boot: "geth-swarm.boot",
    /** `geth-swarm.host=<name>` names the host as the plan knows it. */
    host: "geth-swarm.host",
    /** `geth-swarm.signer=<i>` names the signer key a miner host seals with. */
    signer: "geth-swarm.signer",
} as const;
