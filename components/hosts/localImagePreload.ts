/**
 * `LocalImagePreload`: copies images from your Docker engine into each local swarm host,
 * for machines without registry access (`geth-swarm:preloadImages`). It streams
 * `docker save` from the source engine into each host's `docker load` through the Engine
 * API (dockerode `getImage(name).get()` → `loadImage(stream)`); nothing touches the disk.
 * An image a host already has (same image id) is skipped, so re-runs are cheap.
 *
 * Runs during `pulumi up` (create/update), never during preview.
 */
import * as pulumi from "@pulumi/pulumi";
import type Dockerode from "dockerode";
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
    /** Images, target names and API hosts, triggers: no key material. */
    fingerprint: string;
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

async function run(i: PlainInputs): Promise<Outs> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Docker = require("dockerode") as typeof Dockerode;
    const source = i.source ? connectDocker(i.source) : new Docker();
    const targets = i.targets.map((t) => ({ name: t.name, engine: connectDocker(t.endpoint) as unknown as ImageEngine }));
    const imageIds = await copyImages(source as unknown as ImageEngine, targets, i.images, (i.timeoutSeconds ?? 1800) * 1000);
    return { imageIds, fingerprint: preloadFingerprint(i) };
}

/** The dynamic provider. Exported for tests; programs use {@link LocalImagePreload}. */
export const localImagePreloadProvider: pulumi.dynamic.ResourceProvider<PlainInputs, Outs> = {
    async diff(_id: string, olds: Outs, news: PlainInputs): Promise<pulumi.dynamic.DiffResult> {
        return { changes: olds.fingerprint !== preloadFingerprint(news), replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: PlainInputs): Promise<pulumi.dynamic.CreateResult<Outs>> {
        const outs = await run(inputs);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createHash } = require("crypto") as typeof import("crypto");
        return { id: `preload-${createHash("sha256").update(outs.fingerprint).digest("hex").slice(0, 16)}`, outs };
    },
    async update(_id: string, _olds: Outs, news: PlainInputs): Promise<pulumi.dynamic.UpdateResult<Outs>> {
        return { outs: await run(news) };
    },
    async delete(): Promise<void> {
        // The images go away with the hosts' data volumes.
    },
};

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
                imageIds: undefined,
                fingerprint: undefined,
            },
            opts,
            "geth-swarm",
            "LocalImagePreload",
        );
    }
}
