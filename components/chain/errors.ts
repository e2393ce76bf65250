/**
 * Error thrown by the chain helpers for input that cannot describe a valid
 * key, enode URL or genesis. The message names the argument, says what is
 * wrong with it and how to fix it. Messages never contain private key material.
 */
export class ChainInputError extends Error {
    /** Name of the argument (or option path, e.g. `opts.signers[2]`) that was rejected. */
    readonly argument: string;

    constructor(argument: string, message: string) {
        super(message);
        this.name = "ChainInputError";
        this.argument = argument;
        Object.setPrototypeOf(this, new.target.prototype);
    }
}
