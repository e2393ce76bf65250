/**
 * The one table of program config keys. `Pulumi.yaml`'s `config:` block and the
 * README's config reference are checked against it by tests, so the three cannot drift.
 *
 * Every key lives in the project namespace (`geth-swarm:<key>`).
 */

/** The project name, which is also the config namespace. */
export const PROJECT = "geth-swarm";

export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

export interface ConfigKeySpec {
    /** Key name without the namespace. */
    readonly key: string;
    readonly type: ConfigKeyType;
    /** Default used when the key is not set (also written to `Pulumi.yaml`). */
    readonly default: string | number | boolean | readonly string[];
    readonly description: string;
    /** For `array` keys: the element type. */
    readonly items?: "string";
    /** Which target the key matters for; `both` when it applies everywhere. */
    readonly target: "both" | "aws" | "local";
}

export const CONFIG_KEYS: readonly ConfigKeySpec[] = [
    // --- general -------------------------------------------------------------------------
    { key: "target", type: "string", default: "local", target: "both",
      description: "Where the swarm hosts live: `local` (docker-in-docker hosts on your Docker engine) or `aws` (EC2 hosts in a new VPC)." },

    // --- chain ---------------------------------------------------------------------------
    { key: "chainId", type: "integer", default: 4242, target: "both",
      description: "Chain id and network id of the private chain. Public chain ids (1, 5, 11155111, ...) are refused unless `allowPublicChainId` is true." },
    { key: "allowPublicChainId", type: "boolean", default: false, target: "both",
      description: "Allow a chain id that a public network uses. Transactions signed for one chain replay on the other: leave false." },
    { key: "blockPeriod", type: "integer", default: 5, target: "both",
      description: "Clique block period in seconds (>= 1)." },
    { key: "epoch", type: "integer", default: 30000, target: "both",
      description: "Clique epoch length in blocks (checkpoint and vote reset interval)." },
    { key: "gasLimit", type: "string", default: "30000000", target: "both",
      description: "Block gas limit of the genesis block, in gas, as a decimal string." },
    { key: "signerCount", type: "integer", default: 0, target: "both",
      description: "Number of Clique signers; each miner host signs with its own key, so it must equal `minerCount`. 0 means `minerCount`." },
    { key: "genesisSigners", type: "integer", default: 0, target: "both",
      description: "Signers written into the genesis block: those of the first `genesisSigners` miner hosts. The running signers vote the others in (`clique.propose`, on every start of a signer). 0 means `minerCount`. Before raising `minerCount` on a running chain, set this to the signer count the chain started with: a running chain's genesis cannot change." },
    { key: "prefundAccounts", type: "array", items: "string", default: [], target: "both",
      description: "Addresses funded in the genesis block with `prefundBalanceEth` each." },
    { key: "prefundBalanceEth", type: "string", default: "1000000", target: "both",
      description: "Balance, in ether (decimal string), of every `prefundAccounts` address at genesis." },

    // --- images --------------------------------------------------------------------------
    { key: "gethImage", type: "string", default: "ethereum/client-go:v1.13.15", target: "both",
      description: "Image of the geth nodes and signers (entrypoint `geth`, with `/bin/sh`). v1.13.15 is the last geth that seals Clique." },
    { key: "toolsImage", type: "string", default: "ethereum/client-go:alltools-v1.13.15", target: "both",
      description: "Image that provides the `bootnode` program." },
    { key: "visualizer", type: "boolean", default: true, target: "both",
      description: "Run the swarm visualizer on a manager (port `visualizerPort`, admin CIDRs only on AWS)." },
    { key: "visualizerImage", type: "string", default: "dockersamples/visualizer:stable", target: "both",
      description: "Image of the swarm visualizer." },

    // --- ports ---------------------------------------------------------------------------
    { key: "rpcPort", type: "integer", default: 8545, target: "both",
      description: "JSON-RPC (HTTP) port of the geth nodes, bound on the node hosts' own addresses (host network); signer hosts serve no RPC." },
    { key: "p2pPort", type: "integer", default: 30303, target: "both",
      description: "devp2p port of every geth (TCP and UDP), bound on each host's own address (host network)." },
    { key: "bootnodePort", type: "integer", default: 30301, target: "both",
      description: "Discovery port of the bootnode (UDP), bound on the boot host's private address (host network)." },
    { key: "visualizerPort", type: "integer", default: 8080, target: "both",
      description: "Port of the swarm visualizer, published in host mode on the manager." },

    // --- access --------------------------------------------------------------------------
    { key: "rpcApis", type: "array", items: "string", default: ["eth", "net", "web3"], target: "both",
      description: "JSON-RPC namespaces served on `rpcPort`. `admin`, `personal`, `debug` and `miner` need `allowUnsafeRpcApis`." },
    { key: "allowUnsafeRpcApis", type: "boolean", default: false, target: "both",
      description: "Allow `admin`, `personal`, `debug` or `miner` in `rpcApis` (they control the node; never expose them to the internet)." },
    { key: "rpcCidrs", type: "array", items: "string", default: [], target: "aws",
      description: "CIDRs allowed to reach JSON-RPC, besides the VPC and `adminCidrs`. `0.0.0.0/0` needs `allowPublicRpc`." },
    { key: "allowPublicRpc", type: "boolean", default: false, target: "aws",
      description: "Allow `0.0.0.0/0` or `::/0` in `rpcCidrs`." },
    { key: "adminCidrs", type: "array", items: "string", default: [], target: "aws",
      description: "Operator CIDRs allowed to reach the Docker API (2376, TLS), SSH (22) and the visualizer. Required on AWS, e.g. your address as `203.0.113.7/32`." },
    { key: "p2pCidrs", type: "array", items: "string", default: [], target: "aws",
      description: "CIDRs of outside peers allowed to reach the p2p ports (geth and bootnode)." },
    { key: "encryptedOverlay", type: "boolean", default: true, target: "both",
      description: "Encrypt the stacks' overlay network (IPsec ESP between hosts; the AWS firewall then opens IP protocol 50 between hosts)." },

    // --- hosts ---------------------------------------------------------------------------
    { key: "managerCount", type: "integer", default: 1, target: "both",
      description: "Swarm managers: 1, 3 or 5 (Raft needs an odd count). Spread over the zones." },
    { key: "managerName", type: "string", default: "manager", target: "both",
      description: "Host name of the manager: the first is `<name>`, the next `<name>-2`, `<name>-3`, ... (so raising the count only adds hosts)." },
    { key: "managerInstanceType", type: "string", default: "t3.small", target: "aws",
      description: "EC2 instance type of the managers." },
    { key: "workerCount", type: "integer", default: 1, target: "both",
      description: "Plain workers: each runs a geth node with JSON-RPC." },
    { key: "workerName", type: "string", default: "worker", target: "both",
      description: "Host name of the plain workers: the first is `<name>`, the next `<name>-2`, `<name>-3`, ... (so raising the count only adds hosts)." },
    { key: "workerInstanceType", type: "string", default: "t3.small", target: "aws",
      description: "EC2 instance type of the plain workers." },
    { key: "workerZone", type: "string", default: "a", target: "aws",
      description: "Zone letter of the plain workers (`a` is the first zone used, `b` the second, ...)." },
    { key: "minerCount", type: "integer", default: 1, target: "both",
      description: "Miner workers (labelled `role=miner`): each runs a Clique signer with its own key, p2p only." },
    { key: "minerName", type: "string", default: "miner-worker", target: "both",
      description: "Host name of the miner workers: the first is `<name>`, the next `<name>-2`, `<name>-3`, ... (so raising the count only adds hosts)." },
    { key: "minerInstanceType", type: "string", default: "t3.medium", target: "aws",
      description: "EC2 instance type of the miner workers." },
    { key: "minerZone", type: "string", default: "b", target: "aws",
      description: "Zone letter of the miner workers." },
    { key: "bootHost", type: "string", default: "", target: "both",
      description: "Host that runs the bootnode (must not be a manager). Empty means the first plain worker, else the first miner worker." },
    { key: "hostLabels", type: "array", items: "string", default: [], target: "both",
      description: "Extra swarm node labels as `<host>:<key>=<value>`. Keys `role` and `geth-swarm.*` are reserved." },
    { key: "rootVolumeSizeGb", type: "integer", default: 30, target: "aws",
      description: "Size of each host's encrypted gp3 root volume in GiB (8..16384)." },
    { key: "amiOwner", type: "string", default: "099720109477", target: "aws",
      description: "Owner of the host AMI (default: Canonical)." },
    { key: "amiNamePattern", type: "string", default: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*", target: "aws",
      description: "Name pattern of the host AMI; the newest match is used." },
    { key: "sshKeyName", type: "string", default: "", target: "aws",
      description: "Name of an existing EC2 key pair for SSH (empty: no key pair; use SSM Session Manager)." },

    // --- AWS network ---------------------------------------------------------------------
    { key: "vpcCidr", type: "string", default: "10.0.0.0/16", target: "aws",
      description: "CIDR of the VPC; it must hold one subnet per zone (two with private subnets)." },
    { key: "zoneCount", type: "integer", default: 3, target: "aws",
      description: "Number of availability zones (1..6) that get a subnet." },
    { key: "availabilityZones", type: "array", items: "string", default: [], target: "aws",
      description: "Zone names to use (e.g. `eu-west-1a`); empty: the region's first `zoneCount` zones." },
    { key: "subnetPrefixLength", type: "integer", default: 0, target: "aws",
      description: "Prefix length of each subnet (16..28); 0 means the largest subnets that fit." },
    { key: "privateSubnets", type: "boolean", default: false, target: "aws",
      description: "Also create one private subnet per zone." },
    { key: "natStrategy", type: "string", default: "none", target: "aws",
      description: "NAT for the private subnets: `none`, `single` (one gateway) or `perZone`." },

    // --- local target --------------------------------------------------------------------
    { key: "dindImage", type: "string", default: "docker:27.5.1-dind", target: "local",
      description: "Image of the docker-in-docker hosts of the local target." },
    { key: "dindPrivileges", type: "string", default: "privileged", target: "local",
      description: "How the local hosts get the rights their Docker engine needs: `privileged` (privileged containers; Docker Desktop, Docker Engine) or `capabilities` (every capability but CAP_SYS_RESOURCE, no seccomp filter, the machine's cgroup tree mounted read-write, each host's containers under the cgroup `/geth-swarm-dind/<container>`; for engines that refuse privileged containers)." },
    { key: "preloadImages", type: "boolean", default: false, target: "local",
      description: "Copy the stack images from your Docker engine into every local host (for machines without registry access)." },
    { key: "localApiPort", type: "integer", default: 12375, target: "local",
      description: "Port on 127.0.0.1 where the local manager's Docker API is published." },
    { key: "localRpcBasePort", type: "integer", default: 18545, target: "local",
      description: "First port on 127.0.0.1 for the local nodes' JSON-RPC; node host i gets base + i." },

    // --- readiness -----------------------------------------------------------------------
    { key: "readinessTimeoutSeconds", type: "integer", default: 600, target: "both",
      description: "How long `pulumi up` waits for hosts to join, the bootnode to answer and the chain to advance before failing." },
];

/** Look up a key's spec by name. */
export function keySpec(key: string): ConfigKeySpec | undefined {
    return CONFIG_KEYS.find((k) => k.key === key);
}
