/**
 * Talking to a running swarm: plain async functions over the Docker Engine API
 * (dockerode) and JSON-RPC (ethers). No Pulumi here: `pulumi up` uses them through the
 * dynamic resources of `./dynamic`, the lab harness calls them directly.
 */
export type { DockerApi, DockerNetworkApi, SwarmNode, SwarmTask } from "./api";
export { connectDocker, dockerOptions, formSwarm, SwarmFormationError, SWARM_PORT, withSwarmPort } from "./form";
export type { FormManager, FormNode, FormSwarmOptions, SwarmEngine, SwarmFormationResult } from "./form";
export { pollUntil, formatDuration } from "./poll";
export type { PollOptions } from "./poll";
export { applyNodeLabels, listSwarmNodes, nodeLabelDrift, swarmMembershipDrift, SwarmNodesNotReadyError } from "./labels";
export type { ApplyNodeLabelsOptions, HostLabels, NodeLabelResult, OwnedLabels } from "./labels";
export {
    BootnodeEnodeMismatchError, BootnodeNoAnswerError, demuxDockerLogs, enodeNodeId, enodesInLogs, parseDockerTime,
    readBootnodeEnode, verifyBootnodeEnode,
} from "./bootnode";
export type { BootnodeCheck, BootnodeOptions } from "./bootnode";
export { ChainNotReadyError, waitForChain } from "./chain";
export type { ChainNodeState, WaitForChainOptions } from "./chain";
export { SwarmNetworkNotFoundError, swarmNetworkId } from "./networks";
export { RolloutError, waitForRollout } from "./rollout";
export type { RolloutApi, RolloutOptions } from "./rollout";
export type { SwarmNetworkIdOptions } from "./networks";
