// The Docker engine the engine tier runs the local target on: a lab host of its own (network
// namespace `gsl-engine` with only a loopback, own hostname, own dockerd with its own data
// root, exec root, socket, pidfile and cgroup parent; see test/lab/hosts.ts), so the
// program's 127.0.0.1 ports, bridges and iptables rules stay inside that namespace and
// nothing of the machine's is touched. `pulumi` and every probe of the 127.0.0.1 endpoints
// run inside the namespace (`nsenter --net`); the engine's socket is a file, reachable from
// anywhere on the machine.
//
// The lab's lock and cleanup cover it: it takes the lab lock (one lab or engine tier per
// machine), and `cleanupLab` removes whatever a killed run left (processes, mounts, the
// namespace, directories, cgroups).
import * as fs from "node:fs";
import Docker from "dockerode";
import { DIND_CGROUP_PARENT } from "../../components/hosts/localSwarmHosts";
import { acquireLab, cgroupDirs, cleanupLab, releaseLab, stopDaemons } from "../lab/cleanup";
import { LAB_PATH, run, RunOptions, RunResult } from "../lab/exec";
import { checkPrerequisites, dockerCli, startIsolatedHost } from "../lab/hosts";
import { ensureImages, LabImages } from "../lab/images";
import { hostSocket, netnsPath } from "../lab/paths";
import { DIND_IMAGE_TAG, ensureDindRootfs } from "./dindImage";

/** The lab host name of the engine (netns `gsl-engine`). */
export const ENGINE_HOST = "engine";

export interface EngineTimings {
    lockWaitSeconds: number;
    imagesSeconds: number;
    cleanupSeconds: number;
    daemonSeconds: number;
    loadSeconds: number;
}

export interface Engine {
    /** `unix:///run/geth-swarm-lab/hosts/engine/docker.sock`: the engine as `DOCKER_HOST` names it. */
    readonly dockerHost: string;
    readonly socketPath: string;
    /** The network namespace the engine's containers publish their 127.0.0.1 ports in. */
    readonly netnsPath: string;
    readonly docker: Docker;
    /** The geth images (as the stack config names them) and the dind host image tag. */
    readonly images: { geth: string; tools: string; dind: string; lab: LabImages };
    readonly timings: EngineTimings;
    /** The docker CLI against the engine. */
    cli(args: string[], opts?: RunOptions): Promise<RunResult>;
    /** A program run inside the engine's network namespace (reaches its 127.0.0.1 ports). */
    inNetns(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
    /** Stops the engine and removes every trace of it; releases the lab lock. Idempotent. */
    stop(): Promise<void>;
}

/**
 * Directories the engines of `capabilities`-mode hosts leave in the machine's cgroup tree
 * (`/sys/fs/cgroup[/<controller>]/geth-swarm-dind/...`), deepest first.
 */
export function dindCgroupDirs(): string[] {
    return cgroupDirs(DIND_CGROUP_PARENT);
}

/** Removes the empty ones of {@link dindCgroupDirs} (a killed run's); busy ones stay. */
function removeEmptyDindCgroups(): void {
    for (const d of dindCgroupDirs()) {
        try {
            fs.rmdirSync(d);
        } catch {
            // not empty: in use by someone's running host
        }
    }
}

/**
 * Starts the engine: takes the lab lock, removes leftovers, starts dockerd in its own
 * namespace, loads the geth images and the dind host image into it. On failure everything
 * is removed again before the error is thrown.
 */
export async function startEngine(log: (m: string) => void = (m) => process.stderr.write(`[engine] ${m}\n`)): Promise<Engine> {
    checkPrerequisites();
    const lap = (t: number) => (Date.now() - t) / 1000;
    let t = Date.now();
    await acquireLab(undefined, log);
    const lockWaitSeconds = lap(t);
    try {
        t = Date.now();
        const [lab, rootfs] = await Promise.all([ensureImages(undefined, log), ensureDindRootfs(log)]);
        const imagesSeconds = lap(t);

        t = Date.now();
        await cleanupLab({ log: (m) => log(`leftovers of an earlier run: ${m}`), graceMs: 5_000 });
        removeEmptyDindCgroups();
        const cleanupSeconds = lap(t);

        t = Date.now();
        const docker = await startIsolatedHost(ENGINE_HOST);
        const daemonSeconds = lap(t);

        const socketPath = hostSocket(ENGINE_HOST);
        const cli = (args: string[], opts: RunOptions = {}) => run(dockerCli(), ["-H", `unix://${socketPath}`, ...args], { timeoutMs: 300_000, ...opts });
        t = Date.now();
        await Promise.all([
            cli(["load", "-q", "-i", lab.tarball]),
            cli(["import", ...rootfs.changes.flatMap((c) => ["--change", c]), rootfs.tarball, DIND_IMAGE_TAG]),
        ]);
        const loadSeconds = lap(t);
        log(`engine up: ${socketPath} in ${netnsPath(ENGINE_HOST)}; images ${lab.geth}, ${lab.alltools}, ${DIND_IMAGE_TAG} (loaded in ${loadSeconds.toFixed(1)} s)`);

        let stopped = false;
        return {
            dockerHost: `unix://${socketPath}`,
            socketPath,
            netnsPath: netnsPath(ENGINE_HOST),
            docker,
            images: { geth: lab.geth, tools: lab.alltools, dind: DIND_IMAGE_TAG, lab },
            timings: { lockWaitSeconds, imagesSeconds, cleanupSeconds, daemonSeconds, loadSeconds },
            cli,
            inNetns: (cmd, args, opts = {}) => run("nsenter", [`--net=${netnsPath(ENGINE_HOST)}`, "--", cmd, ...args], { env: { ...process.env, PATH: LAB_PATH }, ...opts }),
            async stop() {
                if (stopped) return;
                stopped = true;
                try {
                    await stopDaemons(30_000);
                    await cleanupLab({ graceMs: 5_000 });
                    removeEmptyDindCgroups();
                } finally {
                    releaseLab();
                }
            },
        };
    } catch (e) {
        log(`engine setup failed, cleaning up: ${e instanceof Error ? e.message : String(e)}`);
        try {
            await cleanupLab({ log, graceMs: 5_000 });
            removeEmptyDindCgroups();
        } finally {
            releaseLab();
        }
        throw e;
    }
}
