/**
 * The geth-swarm Pulumi program (`Pulumi.yaml` names this file as `main`): reads and
 * validates the stack's config, then stands up the whole network for its target.
 *
 *   pulumi stack select local && pulumi up   # docker-in-docker hosts on your engine
 *   pulumi stack select dev && pulumi up     # EC2 hosts in a new VPC (AWS)
 */
import { GethSwarm, loadConfig } from "./components";

// Fails here, before any resource exists, with one error listing every config problem.
const config = loadConfig();

const net = new GethSwarm("geth", { config });

/** Enode URL of the bootnode (derived from its key; checked against the running bootnode). */
export const enode = net.enode;
/** JSON-RPC endpoints of the node hosts. */
export const rpcEndpoints = net.rpcEndpoints;
/** WebSocket JSON-RPC endpoints of the node hosts (with `wsRpc`). */
export const wsEndpoints = net.wsEndpoints;
/** The development account funded in the genesis (with `devAccount`): `{ address, privateKey }`, a secret. */
export const devAccount = net.devAccount;
/** The chain id, for wallets. */
export const chainId = config.chain.chainId;
/** The swarm visualizer, with `visualizer` on (off by default; reachable from adminCidrs on AWS, 127.0.0.1 locally). */
export const visualizerUrl = net.visualizerUrl;
/** The manager's Docker API (TLS). */
export const managerApi = net.managerApi;
/** Its client TLS material, a secret: `npm run docker-context` writes a Docker context from it. */
export const managerTls = net.managerTls;
/** Clique signer addresses. */
export const signerAddresses = net.signerAddresses;
/** Swarm stack names (`docker stack ls`). */
export const stackNames = net.stackNames;
/** The target the stack was built for. */
export const target = config.target;
