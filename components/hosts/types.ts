import * as pulumi from "@pulumi/pulumi";
import { HostClass } from "../config/types";

/**
 * How to reach a Docker Engine API. `host` is what the Docker CLI and `@pulumi/docker`
 * take: `unix:///path/docker.sock` or `tcp://address:port`. With TLS, all three PEMs are set.
 */
export interface DockerEndpoint {
    /** `unix:///var/run/docker.sock`, `tcp://203.0.113.7:2376`, `tcp://127.0.0.1:12375`. */
    readonly host: string;
    /** CA certificate that signed the engine's server certificate (PEM). Absent without TLS. */
    readonly caPem?: string;
    /** Client certificate (PEM). Absent without TLS. */
    readonly certPem?: string;
    /** Client private key (PEM): a secret. Absent without TLS. */
    readonly keyPem?: string;
}

/** One host of the swarm, as the stacks need to know it. */
export interface SwarmHostInfo {
    /** Name from the host plan; also the swarm node hostname. */
    readonly name: string;
    readonly class: HostClass;
    readonly role: "manager" | "worker";
    /** Address the other hosts reach this host at (the swarm advertise address, the p2p address). */
    readonly privateIp: pulumi.Output<string>;
    /** Address the operator reaches this host at (AWS: public IP; local: 127.0.0.1). */
    readonly publicIp: pulumi.Output<string>;
    /** Zone name (AWS) or `local`. */
    readonly zone: pulumi.Output<string>;
    /** Swarm node labels the host must carry. */
    readonly labels: Readonly<Record<string, string>>;
    /** For miner hosts: index of the signer key this host seals with. */
    readonly signerIndex?: number;
    /** JSON-RPC URL the operator uses for this host's geth node, if the host serves RPC from outside. */
    readonly rpcUrl: pulumi.Output<string>;
    /** WebSocket JSON-RPC URL of the host's geth node, when the hosts publish one (`ws://...`). */
    readonly wsUrl?: pulumi.Output<string>;
}

/**
 * What every hosts component returns (`AwsSwarmHosts`, `LocalSwarmHosts`): a swarm that
 * has been (or is being) formed, the manager's Docker API, and the hosts.
 * `BootStack` and `NodesStack` take this and know nothing of where the hosts live.
 */
export interface SwarmHosts {
    /** The manager's Docker API (TLS material secret). */
    readonly manager: pulumi.Output<DockerEndpoint>;
    /** Every host, managers first. */
    readonly hosts: readonly SwarmHostInfo[];
    /** Resources that must exist before anything talks to the swarm (the hosts themselves). */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}
