/**
 * Pulumi-generated chain keys. This is the only file of `components/chain`
 * that creates resources; the rest is pure.
 *
 * Keys are 32 random bytes from `random.RandomBytes` (a cryptographic RNG; the
 * value lives only in Pulumi state, encrypted as a secret). The private key is
 * returned as a Pulumi secret; the public values derived from it (node ID,
 * signer address) are computed inside the Output chain and then explicitly
 * marked not secret, so `pulumi preview` can show the enode URL and the signer
 * list without ever revealing the key.
 *
 * A 32-byte random value is not a valid secp256k1 private key when it is 0 or
 * >= the curve order n, which happens with probability about 2^-128. The
 * derivation then throws a ChainInputError inside the Output chain and the
 * deployment fails; replace the random resource
 * (`pulumi up --replace <urn of the RandomBytes>`) to draw a new key.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { formatEnode, DEFAULT_ENODE_PORT } from "./enode";
import { normalizePrivateKey, publicKeyFromPrivateKey, signerAddress } from "./secp256k1";

/** Number of random bytes in a secp256k1 private key. */
export const KEY_BYTES = 32;

function randomKey(resourceName: string, keepers: pulumi.Input<Record<string, pulumi.Input<string>>> | undefined, opts?: pulumi.CustomResourceOptions): pulumi.Output<string> {
    const bytes = new random.RandomBytes(resourceName, { length: KEY_BYTES, ...(keepers === undefined ? {} : { keepers }) }, opts);
    // Validated (and throws for an invalid scalar) inside the chain; kept secret.
    return pulumi.secret(bytes.hex.apply((hex) => normalizePrivateKey(hex, `random.RandomBytes "${resourceName}".hex`)));
}

/**
 * Generates a node key (geth `--nodekey`, `bootnode -nodekey`) with a
 * `random.RandomBytes` resource named `name`.
 *
 * @returns the key as 64 lower-case hex digits, a Pulumi secret.
 */
export function generateNodeKey(name: string, opts?: pulumi.CustomResourceOptions): pulumi.Output<string> {
    return randomKey(name, undefined, opts);
}

/**
 * Generates a signer (account) key for a Clique signer with a
 * `random.RandomBytes` resource named `name`.
 *
 * @returns the key as 64 lower-case hex digits, a Pulumi secret.
 */
export function generateSignerKey(name: string, opts?: pulumi.CustomResourceOptions): pulumi.Output<string> {
    return randomKey(name, undefined, opts);
}

/**
 * Node ID (128 hex digits, the public key in an enode URL) of a node key
 * Output. Derived inside the Output chain; the result is not secret.
 */
export function enodeIdOf(nodeKey: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.unsecret(pulumi.output(nodeKey).apply((k) => publicKeyFromPrivateKey(k, "nodeKey")));
}

/**
 * EIP-55 address of a signer key Output. Derived inside the Output chain; the
 * result is not secret.
 */
export function addressOf(signerKey: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.unsecret(pulumi.output(signerKey).apply((k) => signerAddress(k)));
}

/** Arguments of {@link NodeIdentity} and {@link SignerIdentity}. */
export interface IdentityArgs {
    /**
     * Arbitrary values that, when changed, make Pulumi draw a new key
     * (passed to `random.RandomBytes` as `keepers`). Omit to keep the key forever.
     */
    keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A p2p node identity (for a bootnode or geth node): a random node key and the
 * node ID derived from it. Creates one child `random.RandomBytes` named
 * `<name>-nodekey`.
 */
export class NodeIdentity extends pulumi.ComponentResource {
    /** The node key: 64 lower-case hex digits, a Pulumi secret. Feed it to the node as a Docker secret file. */
    readonly privateKey: pulumi.Output<string>;
    /** The node ID: uncompressed secp256k1 public key, 128 lower-case hex digits without `04`. Not secret. */
    readonly enodeId: pulumi.Output<string>;

    constructor(name: string, args: IdentityArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("geth-swarm:chain:NodeIdentity", name, {}, opts);
        this.privateKey = randomKey(`${name}-nodekey`, args.keepers, { parent: this });
        this.enodeId = enodeIdOf(this.privateKey);
        this.registerOutputs({ enodeId: this.enodeId });
    }

    /**
     * The enode URL of this node at `host:port` (default port 30301, the
     * bootnode's discovery port). Not secret. See `enodeFromNodeKey` for the
     * accepted hosts and ports.
     */
    enode(host: pulumi.Input<string>, port: pulumi.Input<number> = DEFAULT_ENODE_PORT): pulumi.Output<string> {
        return pulumi.all([this.enodeId, host, port]).apply(([id, h, p]) => formatEnode({ id, host: h, port: p }));
    }
}

/**
 * A Clique signer identity: a random account key and its address. Creates one
 * child `random.RandomBytes` named `<name>-key`.
 */
export class SignerIdentity extends pulumi.ComponentResource {
    /** The signer's account private key: 64 lower-case hex digits, a Pulumi secret. */
    readonly privateKey: pulumi.Output<string>;
    /** The signer's EIP-55 checksummed address, as listed in the genesis extra-data. Not secret. */
    readonly address: pulumi.Output<string>;

    constructor(name: string, args: IdentityArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("geth-swarm:chain:SignerIdentity", name, {}, opts);
        this.privateKey = randomKey(`${name}-key`, args.keepers, { parent: this });
        this.address = addressOf(this.privateKey);
        this.registerOutputs({ address: this.address });
    }
}
