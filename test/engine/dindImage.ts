// The image of the local target's docker-in-docker hosts for the engine tier, built here
// without a registry: a Debian bookworm root filesystem from `debootstrap` with docker.io
// (engine 20.10), iptables and iproute2, imported with `dockerd` as its command (what the
// official docker:dind image runs when its first argument is `dockerd`).
//
// The root filesystem is cached as a tarball outside the clone, next to the lab images
// ($GETH_SWARM_LAB_CACHE, default /var/cache/geth-swarm-lab): a warm run builds nothing.
//
// Standalone: `npx tsx test/engine/dindImage.ts` builds (or finds) it and prints its path.
import * as fs from "node:fs";
import * as path from "node:path";
import { runLogged, which } from "../lab/exec";
import { labCacheDir } from "../lab/images";

/** Tag the engine tier gives the imported image (the stack's `geth-swarm:dindImage`). */
export const DIND_IMAGE_TAG = "geth-swarm-lab/dind:bookworm";
/** Bump when the package list or the trimming below changes: invalidates the cached tarball. */
const RECIPE = 1;
const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";
const PACKAGES = ["docker.io", "iptables", "iproute2", "ca-certificates", "procps"];

export interface DindRootfs {
    /** A tar of the root filesystem; `docker import` it. */
    tarball: string;
    /** `docker import --change` instructions that make it a dind host image. */
    changes: string[];
    /** Seconds this call spent building (0 when cached). */
    buildSeconds: number;
}

/** Finds or builds the cached root filesystem tarball of the dind host image. */
export async function ensureDindRootfs(log: (m: string) => void = (m) => process.stderr.write(`[engine image] ${m}\n`)): Promise<DindRootfs> {
    const dir = path.join(labCacheDir(), `dind-${SUITE}`);
    const tarball = path.join(dir, `rootfs-r${RECIPE}.tar`);
    const changes = ['CMD ["dockerd"]', "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];
    if (fs.existsSync(tarball)) return { tarball, changes, buildSeconds: 0 };
    const debootstrap = which("debootstrap");
    if (!debootstrap) throw new Error("engine tier prerequisite missing: `debootstrap` (Debian package debootstrap); run `bash .ci/lab-prereqs.sh` as root");

    fs.mkdirSync(dir, { recursive: true });
    const work = fs.mkdtempSync(path.join(dir, "tmp-"));
    const buildLog = path.join(dir, "build.log");
    const t0 = Date.now();
    try {
        const root = path.join(work, "rootfs");
        log(`debootstrap ${SUITE} with ${PACKAGES.join(", ")} (about 2 min, once); log: ${buildLog}`);
        await runLogged(debootstrap, ["--variant=minbase", `--include=${PACKAGES.join(",")}`, SUITE, root, MIRROR], buildLog);
        // What an engine never reads: documentation, manuals, translations, package caches.
        for (const d of ["usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists"]) {
            fs.rmSync(path.join(root, d), { recursive: true, force: true });
        }
        const tmp = path.join(work, "rootfs.tar");
        await runLogged("tar", ["--numeric-owner", "-C", root, "-cf", tmp, "."], buildLog);
        fs.renameSync(tmp, tarball);
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
    const buildSeconds = (Date.now() - t0) / 1000;
    log(`dind host root filesystem built in ${buildSeconds.toFixed(0)} s: ${tarball}`);
    return { tarball, changes, buildSeconds };
}

if (require.main === module) {
    ensureDindRootfs()
        .then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`))
        .catch((e) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        });
}
