import { SigningKey, computeAddress } from "ethers";
import { ChainInputError } from "./errors";

/** Order n of the secp256k1 group; a private key is a scalar in [1, n-1]. */
export const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * Normalises a secp256k1 private key given as hex: accepts an optional `0x`/`0X`
 * prefix and surrounding whitespace (e.g. the trailing newline of a key file),
 * and returns the key as 64 lower-case hex digits without prefix.
 *
 * Throws {@link ChainInputError} if the value is not 32 bytes of hex, or is not
 * a valid scalar (0, or >= the group order n). The key is never echoed in the
 * error message.
 *
 * @param keyHex the private key.
 * @param argument the argument name used in error messages.
 */
export function normalizePrivateKey(keyHex: string, argument = "privateKeyHex"): string {
    if (typeof keyHex !== "string") {
        throw new ChainInputError(
            argument,
            `${argument} must be a string of 64 hex digits (32 bytes, optional 0x prefix), got ${typeof keyHex}.`,
        );
    }
    let hex = keyHex.trim();
    if (hex.startsWith("0x") || hex.startsWith("0X")) hex = hex.slice(2);
    if (hex.length === 0) {
        throw new ChainInputError(
            argument,
            `${argument} is empty: expected 64 hex digits (32 bytes, optional 0x prefix). Pass the generated key, not an unset value.`,
        );
    }
    const bad = hex.search(/[^0-9a-fA-F]/);
    if (bad >= 0) {
        throw new ChainInputError(
            argument,
            `${argument} is not hex: character at position ${bad} (after any 0x prefix) is not 0-9/a-f. ` +
                `Pass the key as 64 hex digits (32 bytes, optional 0x prefix), not base64 or a file path.`,
        );
    }
    if (hex.length !== 64) {
        throw new ChainInputError(
            argument,
            `${argument} must be 32 bytes (64 hex digits), got ${hex.length} hex digits. ` +
                `Pass the full 64-hex-digit secp256k1 private key (optional 0x prefix).`,
        );
    }
    const scalar = BigInt("0x" + hex);
    if (scalar === 0n) {
        throw new ChainInputError(
            argument,
            `${argument} is zero, which is not a valid secp256k1 private key. Generate a new random 32-byte key.`,
        );
    }
    if (scalar >= SECP256K1_ORDER) {
        throw new ChainInputError(
            argument,
            `${argument} is not a valid secp256k1 private key: it is >= the curve order n. Generate a new random 32-byte key.`,
        );
    }
    return hex.toLowerCase();
}

/**
 * Uncompressed secp256k1 public key of a private key, as 128 lower-case hex
 * digits (X || Y, without the `04` prefix and without `0x`). This is the node
 * ID that appears in an enode URL.
 */
export function publicKeyFromPrivateKey(privateKeyHex: string, argument = "privateKeyHex"): string {
    const key = normalizePrivateKey(privateKeyHex, argument);
    const pub = SigningKey.computePublicKey("0x" + key, false); // 0x04 || X || Y
    return pub.slice(4).toLowerCase();
}

/** Node ID (128 hex digits) of a geth/bootnode node key; alias of {@link publicKeyFromPrivateKey}. */
export function nodeIdFromNodeKey(nodeKeyHex: string): string {
    return publicKeyFromPrivateKey(nodeKeyHex, "nodeKeyHex");
}

/** EIP-55 checksummed Ethereum address of a secp256k1 private key (e.g. a Clique signer's account key). */
export function signerAddress(privateKeyHex: string): string {
    const key = normalizePrivateKey(privateKeyHex, "privateKeyHex");
    return computeAddress("0x" + key);
}
