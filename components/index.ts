/**
 * geth-swarm: Pulumi components that stand up a private Ethereum (geth, Clique) network on
 * Docker Swarm, on AWS or on one machine. This module is the package's public API; it
 * creates no resources by itself.
 */
export * from "./config";
export * from "./chain";
export * as chainKeys from "./chain/keys";
export { generateNodeKey, generateSignerKey, NodeIdentity, SignerIdentity } from "./chain/keys";
export * from "./network";
export * from "./hosts/types";
export * from "./hosts/awsSwarmHosts";
export * from "./hosts/localSwarmHosts";
export * from "./hosts/dockerTls";
export * from "./swarm";
export { SwarmFormation } from "./swarm/formResource";
export { BootnodeEnodeCheck, ChainReady, SwarmNetworkId, SwarmNodeLabels } from "./swarm/resources";
export { LocalImagePreload } from "./hosts/localImagePreload";
export * from "../stacks";
export * from "./gethSwarm";
