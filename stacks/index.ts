/**
 * The two swarm stacks (boot, nodes): one plain-data spec model, rendered as
 * `@pulumi/docker` resources (`BootStack`, `NodesStack`) or as compose files
 * (`renderCompose`, `composeBundle`) from the same data.
 */
export * from "./spec";
export * from "./files";
export { BOOTNODE_KEY_SECRET, BOOT_NETWORK_KEY, DOCKER_SOCKET, VISUALIZER_CONTAINER_PORT, bootNetworkName, bootStackSpec } from "./boot";
export type { BootStackInput } from "./boot";
export { NODES_CONFIGS, nodesStackSpec, renderGenesis } from "./nodes";
export type { NodesHost, NodesSigner, NodesStackInput } from "./nodes";
export { COMPOSE_CONFIG_DIR, COMPOSE_FILE, COMPOSE_VERSION, composeBundle, composeDocument, renderCompose, secretsToCreate, writeComposeBundle } from "./compose";
export type { ComposeBundle, SecretToCreate } from "./compose";
export { composeExport, newExportKeys, secretValue, writeComposeExport } from "./export";
export type { ComposeExport, ExportKeys } from "./export";
export { labelList, renderStackResources, serviceArgs } from "./resources";
export type { StackResources, StackResourcesArgs } from "./resources";
export { BootStack } from "./bootStack";
export type { BootStackArgs } from "./bootStack";
export { NodesStack, SIGNER_PASSWORD_LENGTH } from "./nodesStack";
export { GenesisPin, genesisChangeProblem, genesisFacts, genesisHash, genesisPinProvider } from "./genesisPin";
export type { GenesisFacts, GenesisPinArgs } from "./genesisPin";
export type { NodesStackArgs } from "./nodesStack";
