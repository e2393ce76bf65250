/**
 * A Pulumi program run under mocks in a child process by keys.test.ts: the
 * mocked random bytes are 32 x 0xff, which is >= the secp256k1 order, so the
 * key derivation must fail the program (as `pulumi up` would fail).
 */
import * as pulumi from "@pulumi/pulumi";

pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            const bytes = Buffer.alloc(32, 0xff);
            return { id: "mock", state: { ...args.inputs, hex: bytes.toString("hex"), base64: bytes.toString("base64") } };
        },
        call: (args) => args.inputs,
    },
    "geth-swarm",
    "unit",
    false,
);

const keys = require("../keys") as typeof import("../keys");
const signer = new keys.SignerIdentity("signer-0");
signer.address.apply((a) => console.log(`address ${a}`));
