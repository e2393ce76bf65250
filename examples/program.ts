/**
 * A Pulumi program that uses geth-swarm as a library, the way another project would:
 * a local network with three signers (so losing one signer host does not halt the chain)
 * and a funded account of its own.
 *
 *   import { GethSwarm, resolveConfig } from "geth-swarm";
 */
import * as pulumi from "@pulumi/pulumi";
import { GethSwarm, resolveConfig } from "geth-swarm";

const settings = new pulumi.Config("chain");

const config = resolveConfig({
    target: "local",
    chainId: 31_415,
    blockPeriod: 2,
    minerCount: 3,
    workerCount: 1,
    prefundAccounts: [settings.get("faucet") ?? "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"],
    visualizer: false,
    encryptedOverlay: false,
});

const chain = new GethSwarm("devnet", { config });

export const rpc = chain.rpcEndpoints;
export const enode = chain.enode;
export const signers = chain.signerAddresses;
