import { expect } from "vitest";

/**
 * What a dynamic provider's serialised closure may hold: under 40 kB, the module the work
 * needs loaded by name at run time, and of Pulumi only the engine log client that carries
 * the progress lines (no SDK runtime, which the dynamic-provider process has already).
 */
export function expectSmallProviderClosure(text: string, runtimeModule: string): void {
    expect(text.length).toBeLessThan(40_000);
    expect(text).toContain(`require("${runtimeModule}")`);
    const pulumiRequires = [...text.matchAll(/require\("(@pulumi\/[^"]+)"\)/g)].map((m) => m[1]);
    expect([...new Set(pulumiRequires)].sort()).toEqual(["@pulumi/pulumi/proto/engine_grpc_pb", "@pulumi/pulumi/proto/engine_pb"]);
}
