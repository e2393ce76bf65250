import { Readable } from "node:stream";
import { expectWithin, measure } from "../swarm/timing.fixtures";
import { describe, expect, it } from "vitest";
import { copyImages, ImageEngine, localImagePreloadProvider, preloadFingerprint } from "./localImagePreload";

/** An in-memory engine: images by reference → id; `save` streams the id, `load` installs it. */
class FakeImages implements ImageEngine {
    loads: string[] = [];
    constructor(
        readonly images: Map<string, string>,
        readonly opts: { loadError?: string; loadAs?: string; hang?: boolean } = {},
    ) {}
    getImage(name: string) {
        return {
            inspect: async () => {
                const id = this.images.get(name);
                if (!id) throw new Error(`(HTTP code 404) no such image - No such image: ${name}`);
                return { Id: id };
            },
            get: async () => Readable.from([JSON.stringify({ name, id: this.images.get(name) })]) as NodeJS.ReadableStream,
        };
    }
    async loadImage(stream: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> {
        if (this.opts.hang) return new Promise(() => undefined);
        let text = "";
        for await (const c of stream as AsyncIterable<Buffer | string>) text += c.toString();
        const { name, id } = JSON.parse(text) as { name: string; id: string };
        this.loads.push(name);
        if (this.opts.loadError) return Readable.from([`{"errorDetail":{"message":"${this.opts.loadError}"},"error":"${this.opts.loadError}"}\n`]);
        this.images.set(name, this.opts.loadAs ?? id);
        return Readable.from([`{"stream":"Loaded image: ${name}\\n"}\n`]);
    }
}

const GETH = "ethereum/client-go:v1.13.15";
const TOOLS = "ethereum/client-go:alltools-v1.13.15";
const source = () => new FakeImages(new Map([[GETH, "sha256:geth"], [TOOLS, "sha256:tools"]]));

describe("copyImages", () => {
    it("streams each image into every host that lacks it, and skips what a host already has", async () => {
        const a = new FakeImages(new Map());
        const b = new FakeImages(new Map([[GETH, "sha256:geth"]]));
        const ids = await copyImages(source(), [{ name: "manager", engine: a }, { name: "worker", engine: b }], [GETH, TOOLS], 5_000);
        expect(ids).toEqual({ [GETH]: "sha256:geth", [TOOLS]: "sha256:tools" });
        expect(a.loads).toEqual([GETH, TOOLS]);
        expect(b.loads).toEqual([TOOLS]);
        // A second run copies nothing.
        await copyImages(source(), [{ name: "manager", engine: a }, { name: "worker", engine: b }], [GETH, TOOLS], 5_000);
        expect(a.loads).toHaveLength(2);
        expect(b.loads).toHaveLength(1);
    });

    it("replaces an older image under the same reference", async () => {
        const a = new FakeImages(new Map([[GETH, "sha256:old"]]));
        await copyImages(source(), [{ name: "manager", engine: a }], [GETH], 5_000);
        expect(a.images.get(GETH)).toBe("sha256:geth");
    });

    it("names the image and the fix when your engine does not have it", async () => {
        await expect(copyImages(source(), [{ name: "manager", engine: new FakeImages(new Map()) }], ["dockersamples/visualizer:stable"], 5_000)).rejects.toThrow(
            /image dockersamples\/visualizer:stable is not in your Docker engine .*docker pull dockersamples\/visualizer:stable.*preloadImages to false/,
        );
    });

    it("names the image and the host when a load fails or loads something else", async () => {
        await expect(copyImages(source(), [{ name: "worker", engine: new FakeImages(new Map(), { loadError: "no space left on device" }) }], [GETH], 5_000)).rejects.toThrow(
            /copying image ethereum\/client-go:v1.13.15 into host worker failed: no space left on device/,
        );
        await expect(copyImages(source(), [{ name: "worker", engine: new FakeImages(new Map(), { loadAs: "sha256:other" }) }], [GETH], 5_000)).rejects.toThrow(
            /into host worker failed: after loading, worker has image id sha256:other, not sha256:geth/,
        );
    });

    it("never hangs: a host that does not answer fails at the deadline", async () => {
        const m = await measure(() => copyImages(source(), [{ name: "miner-worker", engine: new FakeImages(new Map(), { hang: true }) }], [GETH], 200));
        expect(String(m.error)).toMatch(/copying ethereum\/client-go:v1.13.15 into miner-worker took longer than 200 ms/);
        expectWithin(m, 200, 800);
    });
});

describe("LocalImagePreload provider", () => {
    const inputs = {
        images: [GETH],
        targets: [{ name: "manager", endpoint: { host: "tcp://127.0.0.1:12375", caPem: "CA", certPem: "CERT", keyPem: "KEY-PEM" } }],
        triggers: ["c1"],
    };
    it("stores a fingerprint without key material, and copies again when images, hosts or triggers change", async () => {
        const fp = preloadFingerprint(inputs);
        expect(fp).not.toContain("KEY-PEM");
        const olds = { ...inputs, imageIds: { [GETH]: "sha256:geth" }, fingerprint: fp };
        expect((await localImagePreloadProvider.diff!("id", olds, inputs)).changes).toBe(false);
        expect((await localImagePreloadProvider.diff!("id", olds, { ...inputs, images: [GETH, TOOLS] })).changes).toBe(true);
        expect((await localImagePreloadProvider.diff!("id", olds, { ...inputs, triggers: ["c2"] })).changes).toBe(true);
    });
});
