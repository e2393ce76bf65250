/**
 * Chain identities and genesis for a Clique network: pure functions, no Pulumi
 * resources. The Pulumi key generation lives in `./keys` and is deliberately
 * not re-exported here, so importing this module creates nothing.
 */
export { ChainInputError } from "./errors";
export { SECP256K1_ORDER, normalizePrivateKey, publicKeyFromPrivateKey, nodeIdFromNodeKey, signerAddress } from "./secp256k1";
export { DEFAULT_ENODE_PORT, checkHost, enodeFromNodeKey, formatEnode, parseEnode } from "./enode";
export type { HostKind, ParsedEnode } from "./enode";
export {
    CLIQUE_EXTRA_SEAL,
    CLIQUE_EXTRA_VANITY,
    DEFAULT_CLIQUE_EPOCH,
    DEFAULT_GAS_LIMIT,
    MIN_GAS_LIMIT,
    buildCliqueGenesis,
    cliqueExtraData,
    genesisToJson,
} from "./genesis";
export type { CliqueChainConfig, CliqueGenesis, CliqueGenesisOptions, IntegerInput } from "./genesis";
