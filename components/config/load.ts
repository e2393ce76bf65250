import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "./keys";
import { RawConfig, resolveStackConfig } from "./resolve";
import { GethSwarmConfig } from "./types";

/**
 * The raw `geth-swarm:*` values of the running stack, keys without the namespace.
 * Values are strings as Pulumi stores them; {@link resolveConfig} parses them.
 */
export function rawStackConfig(): RawConfig {
    const prefix = `${PROJECT}:`;
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(pulumi.runtime.allConfig())) {
        if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = v;
    }
    return raw;
}

/**
 * Read and validate the running stack's config. Throws a `ConfigError` listing every
 * problem before any resource is created, keys of ours under a misspelled namespace
 * (`gethswarm:minerCount`) among them.
 */
export function loadConfig(): GethSwarmConfig {
    return resolveStackConfig(pulumi.runtime.allConfig());
}
