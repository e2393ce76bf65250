// Builds the lab's geth images locally, without a registry and without a docker daemon:
//
//   1. `go install` geth and bootnode (static, CGO_ENABLED=0) from the Go module proxy,
//   2. a minimal root filesystem: busybox-static with its applet links, /etc/passwd and
//      /etc/group, /tmp, /root, geth (and bootnode) in /usr/local/bin,
//   3. a `docker save`-format tarball holding two images that behave like the official ones:
//        ethereum/client-go:<v>           ENTRYPOINT ["geth"], geth only
//        ethereum/client-go:alltools-<v>  no entrypoint, CMD ["/bin/sh"], geth + bootnode
//      The alltools image is the geth image plus one layer with bootnode, so the tarball
//      carries the large layer once. `docker load -i` of the tarball gives both tags; this
//      is what `docker import --change 'ENTRYPOINT ["geth"]'` would produce, but it needs no
//      engine, and identical inputs give identical image IDs.
//
// Everything is cached outside the repository clone, keyed by geth version (the tarball also
// by a recipe number below), so a warm run builds nothing:
//
//   $GETH_SWARM_LAB_CACHE (default /var/cache/geth-swarm-lab)/
//     go/mod, go/build                        Go module and build caches
//     geth-<v>/bin/{geth,bootnode}            static binaries
//     geth-<v>/images-r<recipe>.tar (+ .json) the image tarball and its description
//
// Standalone: `npx tsx test/lab/images.ts [version]` builds (or finds) and prints the description.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LAB_ENV, run, runLogged, which } from "./exec";

export const DEFAULT_GETH_VERSION = "v1.13.15";
/** Bump when the rootfs or image configuration below changes: invalidates cached tarballs. */
const RECIPE = 1;

export const IMAGE_REPO = "ethereum/client-go";
export const gethImageTag = (version = DEFAULT_GETH_VERSION) => `${IMAGE_REPO}:${version}`;
export const alltoolsImageTag = (version = DEFAULT_GETH_VERSION) => `${IMAGE_REPO}:alltools-${version}`;

export function labCacheDir(): string {
    return process.env.GETH_SWARM_LAB_CACHE || "/var/cache/geth-swarm-lab";
}

export interface LabImages {
    gethVersion: string;
    /** The docker-save tarball with both images; `docker load -i` it into an engine. */
    tarball: string;
    /** ethereum/client-go:<version> */
    geth: string;
    /** ethereum/client-go:alltools-<version> */
    alltools: string;
    /** Image IDs (sha256:...) by tag. */
    imageIds: Record<string, string>;
    /** What this call had to do, in seconds (0 when cached). */
    timings: { goBuildSeconds: number; imageBuildSeconds: number; totalSeconds: number };
    /** True when nothing had to be built. */
    cached: boolean;
}

interface CachedDescription {
    gethVersion: string;
    recipe: number;
    geth: string;
    alltools: string;
    imageIds: Record<string, string>;
    built: { goBuildSeconds: number; imageBuildSeconds: number; goVersion: string; at: string };
}

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const EPOCH = "2024-04-16T00:00:00Z"; // geth v1.13.15's release date: a fixed "created" keeps image IDs stable

/** Finds or builds the lab images for `version`. Logs of the builds go to <cache>/geth-<v>/build.log. */
export async function ensureImages(version = DEFAULT_GETH_VERSION, log: (m: string) => void = defaultLog): Promise<LabImages> {
    const t0 = Date.now();
    const cache = labCacheDir();
    const vdir = path.join(cache, `geth-${version}`);
    const tarball = path.join(vdir, `images-r${RECIPE}.tar`);
    const descFile = `${tarball}.json`;
    if (fs.existsSync(tarball) && fs.existsSync(descFile)) {
        const d = JSON.parse(fs.readFileSync(descFile, "utf8")) as CachedDescription;
        return {
            gethVersion: version,
            tarball,
            geth: d.geth,
            alltools: d.alltools,
            imageIds: d.imageIds,
            timings: { goBuildSeconds: 0, imageBuildSeconds: 0, totalSeconds: (Date.now() - t0) / 1000 },
            cached: true,
        };
    }
    fs.mkdirSync(vdir, { recursive: true });
    const buildLog = path.join(vdir, "build.log");

    const { seconds: goBuildSeconds, goVersion } = await ensureBinaries(version, vdir, buildLog, log);

    const t1 = Date.now();
    log(`building images ${gethImageTag(version)} and ${alltoolsImageTag(version)}`);
    const work = fs.mkdtempSync(path.join(vdir, "tmp-images-"));
    try {
        const ids = await buildTarball(version, path.join(vdir, "bin"), work, tarball);
        const imageBuildSeconds = (Date.now() - t1) / 1000;
        const desc: CachedDescription = {
            gethVersion: version,
            recipe: RECIPE,
            geth: gethImageTag(version),
            alltools: alltoolsImageTag(version),
            imageIds: ids,
            built: { goBuildSeconds, imageBuildSeconds, goVersion, at: new Date().toISOString() },
        };
        const tmpDesc = path.join(work, "desc.json");
        fs.writeFileSync(tmpDesc, JSON.stringify(desc, null, 2) + "\n");
        fs.renameSync(tmpDesc, descFile);
        log(`images built in ${imageBuildSeconds.toFixed(1)} s: ${tarball}`);
        return {
            gethVersion: version,
            tarball,
            geth: desc.geth,
            alltools: desc.alltools,
            imageIds: ids,
            timings: { goBuildSeconds, imageBuildSeconds, totalSeconds: (Date.now() - t0) / 1000 },
            cached: false,
        };
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

function defaultLog(m: string) {
    process.stderr.write(`[lab images] ${m}\n`);
}

async function ensureBinaries(version: string, vdir: string, buildLog: string, log: (m: string) => void) {
    const bin = path.join(vdir, "bin");
    const go = which("go");
    if (fs.existsSync(path.join(bin, "geth")) && fs.existsSync(path.join(bin, "bootnode"))) {
        return { seconds: 0, goVersion: go ? (await run(go, ["env", "GOVERSION"])).stdout.trim() : "unknown" };
    }
    if (!go) {
        throw new Error("lab prerequisite missing: `go` not found (PATH or /usr/local/go/bin); it builds geth " + version + " for the lab images. Install Go >= 1.21.");
    }
    const goVersion = (await run(go, ["env", "GOVERSION"])).stdout.trim();
    const cache = labCacheDir();
    const tmpBin = fs.mkdtempSync(path.join(vdir, "tmp-bin-"));
    const env: NodeJS.ProcessEnv = {
        ...LAB_ENV,
        GOMODCACHE: path.join(cache, "go", "mod"),
        GOCACHE: path.join(cache, "go", "build"),
        GOBIN: tmpBin,
        GOFLAGS: "-buildvcs=false",
        // Static binaries: the images have no libc. geth v1.13.15 builds and runs without cgo
        // (pure-Go secp256k1 and BLS fallbacks).
        CGO_ENABLED: "0",
        GOTOOLCHAIN: "local",
    };
    const t = Date.now();
    log(`go install geth and bootnode ${version} (${goVersion}, CGO_ENABLED=0); log: ${buildLog}`);
    try {
        // -checklinkname=0: new Go toolchains refuse a go:linkname in an old dependency of go-ethereum.
        await runLogged(
            go,
            [
                "install",
                "-trimpath",
                "-ldflags=-checklinkname=0 -s -w",
                `github.com/ethereum/go-ethereum/cmd/geth@${version}`,
                `github.com/ethereum/go-ethereum/cmd/bootnode@${version}`,
            ],
            buildLog,
            { env, cwd: os.tmpdir() },
        );
        fs.rmSync(bin, { recursive: true, force: true });
        fs.renameSync(tmpBin, bin);
    } finally {
        fs.rmSync(tmpBin, { recursive: true, force: true });
    }
    const seconds = (Date.now() - t) / 1000;
    log(`geth and bootnode built in ${seconds.toFixed(1)} s`);
    return { seconds, goVersion };
}

const sha256File = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function tarDir(dir: string, out: string) {
    // Reproducible: sorted names, fixed mtime and ownership.
    await run("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C", dir, "-cf", out, "."]);
}

async function buildTarball(version: string, bin: string, work: string, tarball: string): Promise<Record<string, string>> {
    const busybox = which("busybox");
    if (!busybox) throw new Error("lab prerequisite missing: `busybox` (Debian package busybox-static); run .ci/lab-prereqs.sh");
    const bbType = (await run("file", ["-b", busybox], { allowFailure: true })).stdout;
    if (bbType && /dynamically linked/.test(bbType)) {
        throw new Error(`${busybox} is dynamically linked; the images need busybox-static`);
    }

    // Layer 1: busybox + geth.
    const root = path.join(work, "rootfs");
    for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "etc", "root", "tmp", "var/tmp", "proc", "sys", "dev"]) {
        fs.mkdirSync(path.join(root, d), { recursive: true });
    }
    fs.chmodSync(path.join(root, "tmp"), 0o1777);
    fs.chmodSync(path.join(root, "var/tmp"), 0o1777);
    fs.chmodSync(path.join(root, "root"), 0o700);
    fs.copyFileSync(busybox, path.join(root, "bin/busybox"));
    fs.chmodSync(path.join(root, "bin/busybox"), 0o755);
    // Applet links at their usual places (/bin/sh, /bin/hostname, /usr/bin/awk, /usr/bin/wget, ...).
    await run("chroot", [root, "/bin/busybox", "--install", "-s"]);
    if (!fs.existsSync(path.join(root, "bin/sh"))) throw new Error("busybox --install did not create /bin/sh");
    fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n");
    fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
    fs.writeFileSync(path.join(root, "etc/nsswitch.conf"), "hosts: files dns\n");
    fs.copyFileSync(path.join(bin, "geth"), path.join(root, "usr/local/bin/geth"));
    fs.chmodSync(path.join(root, "usr/local/bin/geth"), 0o755);

    // Layer 2 (alltools only): bootnode.
    const extra = path.join(work, "alltools");
    fs.mkdirSync(path.join(extra, "usr/local/bin"), { recursive: true });
    fs.copyFileSync(path.join(bin, "bootnode"), path.join(extra, "usr/local/bin/bootnode"));
    fs.chmodSync(path.join(extra, "usr/local/bin/bootnode"), 0o755);

    const out = path.join(work, "out");
    fs.mkdirSync(out);
    const layers: string[] = [];
    for (const [i, dir] of [root, extra].entries()) {
        const tmp = path.join(work, `layer${i}.tar`);
        await tarDir(dir, tmp);
        const digest = sha256File(tmp);
        fs.mkdirSync(path.join(out, digest));
        fs.renameSync(tmp, path.join(out, digest, "layer.tar"));
        layers.push(digest);
    }

    const exposed = { "8545/tcp": {}, "8546/tcp": {}, "30303/tcp": {}, "30303/udp": {} };
    const mkConfig = (nLayers: number, cfg: Record<string, unknown>, createdBy: string) =>
        JSON.stringify({
            architecture: "amd64",
            os: "linux",
            created: EPOCH,
            config: { Env: [PATH_ENV], ExposedPorts: exposed, ...cfg },
            rootfs: { type: "layers", diff_ids: layers.slice(0, nLayers).map((d) => `sha256:${d}`) },
            history: layers.slice(0, nLayers).map((_, i) => ({
                created: EPOCH,
                created_by: i === 0 ? `geth-swarm lab: busybox-static rootfs + geth ${version}` : `geth-swarm lab: ${createdBy}`,
            })),
        });
    const images = [
        { tag: gethImageTag(version), config: mkConfig(1, { Entrypoint: ["geth"] }, "") },
        { tag: alltoolsImageTag(version), config: mkConfig(2, { Cmd: ["/bin/sh"] }, `bootnode ${version}`) },
    ];
    const manifest = images.map((img) => {
        const id = sha256(img.config);
        fs.writeFileSync(path.join(out, `${id}.json`), img.config);
        return { Config: `${id}.json`, RepoTags: [img.tag], Layers: layers.slice(0, JSON.parse(img.config).rootfs.diff_ids.length).map((d) => `${d}/layer.tar`) };
    });
    fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify(manifest));
    const tmpTar = path.join(work, "images.tar");
    await tarDir(out, tmpTar);
    fs.renameSync(tmpTar, tarball);
    return Object.fromEntries(manifest.map((m) => [m.RepoTags[0], `sha256:${m.Config.replace(/\.json$/, "")}`]));
}

if (require.main === module) {
    ensureImages(process.argv[2] || DEFAULT_GETH_VERSION)
        .then((r) => {
            process.stdout.write(JSON.stringify(r, null, 2) + "\n");
        })
        .catch((e) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        });
}
