/**
 * `LocalImagePreload`: copies images from your Docker engine into each local swarm host,
 * for machines without registry access (`geth-swarm:preloadImages`). It streams
 * `docker save` from the source engine into each host's `docker load` through the Engine
 * API (dockerode `getImage(name).get()` → `loadImage(stream)`); nothing touches the disk.
 * An image a host already has (same image id) is skipped, so re-runs are cheap.
 *
 * Runs during `pulumi up` (create/update), never during preview. `pulumi refresh` checks
 * that every host still has every image; when one does not, the next `pulumi up` copies again.
 */
import * as pulumi from "@pulumi/pulumi";
import type Dockerode from "dockerode";
import { dynamicResourceUrn, runOnChangeProvider } from "../swarm/dynamic";
import { connectDocker } from "../swarm/form";
import type { DockerEndpoint } from "./types";

export interface LocalImagePreloadTarget {
    /** Host name (for errors and the result). */
    readonly name: pulumi.Input<string>;
    /** The host's Docker API (TLS material: pass it as a secret). */
    readonly endpoint: pulumi.Input<DockerEndpoint>;
}

export interface LocalImagePreloadArgs {
    /** Image references to copy, e.g. `ethereum/client-go:v1.13.15`. They must exist in the source engine. No default. */
    readonly images: pulumi.Input<pulumi.Input<string>[]>;
    /** The engines to copy them into. No default. */
    readonly targets: pulumi.Input<pulumi.Input<LocalImagePreloadTarget>[]>;
    /** The engine the images come from. Default: your engine as `DOCKER_HOST` (or the default socket) says. */
    readonly source?: pulumi.Input<DockerEndpoint>;
    /** Values whose change copies again (e.g. the host containers' ids). Default: none. */
    readonly triggers?: pulumi.Input<pulumi.Input<string>[]>;
    /** Deadline of the whole copy, in seconds. Default 1800. */
    readonly timeoutSeconds?: pulumi.Input<number>;
}

interface PlainInputs {
    images: string[];
    targets: { name: string; endpoint: DockerEndpoint }[];
    source?: DockerEndpoint;
    triggers?: string[];
    timeoutSeconds?: number;
}
interface Outs {
    /** Image id of every copied image, by reference. */
    imageIds: Record<string, string>;
}

/** The part of the inputs whose change copies again. Carries no key material. */
export function preloadFingerprint(i: { images: string[]; targets: { name: string; endpoint: DockerEndpoint }[]; triggers?: string[] }): string {
    return JSON.stringify({ images: i.images, targets: i.targets.map((t) => [t.name, t.endpoint.host]), triggers: i.triggers ?? [] });
}

/** Minimal engine surface used by {@link copyImages}; dockerode fits. */
export interface ImageEngine {
    getImage(name: string): { inspect(): Promise<unknown>; get(): Promise<NodeJS.ReadableStream> };
    loadImage(stream: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream>;
}

function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
    let text = "";
    for await (const chunk of s as AsyncIterable<Buffer | string>) text += chunk.toString();
    return text;
}

/**
 * Copies `images` from `source` into every target, skipping images a target already has
 * with the same id. Errors name the image and the host. Returns image ids by reference.
 */
export async function copyImages(
    source: ImageEngine,
    targets: readonly { name: string; engine: ImageEngine }[],
    images: readonly string[],
    timeoutMs: number,
    onProgress: (message: string) => void = () => {},
): Promise<Record<string, string>> {
    const work = async (): Promise<Record<string, string>> => {
        const ids: Record<string, string> = {};
        for (const image of images) {
            try {
                ids[image] = String(((await source.getImage(image).inspect()) as { Id?: string }).Id ?? "");
            } catch (e) {
                throw new Error(
                    `image ${image} is not in your Docker engine (${message(e)}); pull or load it there first ` +
                        `(\`docker pull ${image}\`), or set geth-swarm:preloadImages to false.`,
                );
            }
        }
        await Promise.all(
            targets.map(async (t) => {
                for (const image of images) {
                    const has = await t.engine.getImage(image).inspect().then(
                        (i) => (i as { Id?: string }).Id === ids[image],
                        () => false,
                    );
                    if (has) continue;
                    onProgress(`copying ${image} into ${t.name}`);
                    try {
                        const out = await readAll(await t.engine.loadImage(await source.getImage(image).get()));
                        const failed = out
                            .split("\n")
                            .map((l) => l.trim())
                            .filter(Boolean)
                            .map((l) => {
                                try {
                                    return (JSON.parse(l) as { error?: string }).error;
                                } catch {
                                    return undefined;
                                }
                            })
                            .find(Boolean);
                        if (failed) throw new Error(failed);
                        const now = ((await t.engine.getImage(image).inspect()) as { Id?: string }).Id;
                        if (now !== ids[image]) throw new Error(`after loading, ${t.name} has image id ${now ?? "none"}, not ${ids[image]}`);
                    } catch (e) {
                        throw new Error(`copying image ${image} into host ${t.name} failed: ${message(e)}`);
                    }
                }
            }),
        );
        return ids;
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`copying ${images.join(", ")} into ${targets.map((t) => t.name).join(", ")} took longer than ${timeoutMs} ms`)), timeoutMs);
    });
    try {
        return await Promise.race([work(), deadline]);
    } finally {
        clearTimeout(timer);
    }
}

/** Which of `images` a target lacks, or has with another id than `ids` says. */
async function missingImages(engine: ImageEngine, ids: Record<string, string>): Promise<string[]> {
    const missing: string[] = [];
    for (const [image, id] of Object.entries(ids)) {
        const has = await engine.getImage(image).inspect().then(
            (x) => (x as { Id?: string }).Id === id,
            () => false,
        );
        if (!has) missing.push(image);
    }
    return missing;
}

/** The dynamic provider. Exported for tests; programs use {@link LocalImagePreload}. */
export const localImagePreloadProvider = runOnChangeProvider<PlainInputs, Outs>({
    fingerprint: preloadFingerprint,
    id: (i) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createHash } = require("crypto") as typeof import("crypto");
        return `preload-${createHash("sha256").update(preloadFingerprint(i)).digest("hex").slice(0, 16)}`;
    },
    async run(i, progress) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const Docker = require("dockerode") as typeof Dockerode;
        const source = i.source ? connectDocker(i.source) : new Docker();
        const targets = i.targets.map((t) => ({ name: t.name, engine: connectDocker(t.endpoint) as unknown as ImageEngine }));
        return { imageIds: await copyImages(source as unknown as ImageEngine, targets, i.images, (i.timeoutSeconds ?? 1800) * 1000, progress) };
    },
    async observe(state) {
        if (!state.imageIds || !state.targets) return {};
        const drift: string[] = [];
        for (const t of state.targets) {
            try {
                const missing = await missingImages(connectDocker(t.endpoint, { timeoutMs: 30_000 }) as unknown as ImageEngine, state.imageIds);
                if (missing.length > 0) drift.push(`${t.name} lacks ${missing.join(", ")}`);
            } catch (e) {
                drift.push(`${t.name}: ${message(e)}`);
            }
        }
        return drift.length > 0 ? { drift: `images: ${drift.join("; ")}` } : {};
    },
    // The images go away with the hosts' data volumes.
});

/** Copies images from your engine into each local swarm host during `pulumi up`. */
export class LocalImagePreload extends pulumi.dynamic.Resource {
    /** Image id of every copied image, by reference. */
    declare public readonly imageIds: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: LocalImagePreloadArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            localImagePreloadProvider,
            name,
            {
                images: args.images,
                targets: args.targets,
                source: args.source,
                triggers: args.triggers,
                timeoutSeconds: args.timeoutSeconds,
                progressUrn: dynamicResourceUrn("LocalImagePreload", name, opts),
                imageIds: undefined,
                fingerprint: undefined,
            },
            // The targets' endpoints carry the client TLS key.
            { ...opts, additionalSecretOutputs: ["targets", "source"] },
            "geth-swarm",
            "LocalImagePreload",
        );
    }
}
