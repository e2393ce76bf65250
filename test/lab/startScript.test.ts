/**
 * The nodes stack's start script with the real geth v1.13.15 binary that the lab builds
 * (or $GETH_BIN): the peer watchdog reads geth's real `net.peerCount` answer and stops a
 * geth that stays alone. geth runs in a network namespace of its own with only a loopback
 * interface, so its discovery (to a bootnode address with nothing behind it) cannot leave
 * the namespace. As in the images, `su` is busybox's, and the script adds the unprivileged
 * user to an `/etc/passwd` of the test's own (bind-mounted over the real one in a mount
 * namespace, so the machine's is never written). Runs as root (`unshare -n -m`). A missing
 * binary is a failure, never a skip.
 */
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enodeFromNodeKey, signerAddress } from "../../components/chain";
import { resolveConfig } from "../../components/config";
import { GETH_UID, PEERLESS_FILE, renderGenesis, renderStartScript } from "../../stacks";
import { which } from "./exec";
import { DEFAULT_GETH_VERSION, ensureImages, labCacheDir } from "./images";

let GETH = process.env.GETH_BIN ?? "";
beforeAll(async () => {
    if (!GETH) {
        await ensureImages();
        GETH = join(labCacheDir(), `geth-${DEFAULT_GETH_VERSION}`, "bin", "geth");
    }
    if (!existsSync(GETH)) throw new Error(`no geth binary at ${GETH}: the lab image build did not produce it`);
}, 30 * 60_000);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * Runs `start.sh node ...` under dash in fresh network and mount namespaces, with `dir/passwd`
 * and `dir/group` over `/etc/passwd` and `/etc/group` and busybox as `su`; resolves when it
 * exits or after `ms`.
 */
function runNode(dir: string, args: string[], ms: number): Promise<{ status: number | null; signal: NodeJS.Signals | null; output: string; seconds: number }> {
    const t = Date.now();
    const busybox = which("busybox");
    if (!busybox) throw new Error("lab prerequisite missing: `busybox` (Debian package busybox-static), the images' su; run .ci/lab-prereqs.sh");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(busybox, join(bin, "su"));
    // A copy geth's user can run (the build cache's bin directory is root's alone).
    copyFileSync(GETH, join(bin, "geth"));
    chmodSync(join(bin, "geth"), 0o755);
    copyFileSync("/etc/passwd", join(dir, "passwd"));
    copyFileSync("/etc/group", join(dir, "group"));
    const prelude = `mount --bind "${dir}/passwd" /etc/passwd && mount --bind "${dir}/group" /etc/group && ip link set lo up && exec dash "$@"`;
    return new Promise((resolve, reject) => {
        const child = spawn("unshare", ["-n", "-m", "sh", "-c", prelude, "sh", join(dir, "start.sh"), "node", ...args], {
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), ms);
        child.on("error", reject);
        child.on("close", (status, signal) => {
            clearTimeout(timer);
            resolve({ status, signal, output, seconds: (Date.now() - t) / 1000 });
        });
    });
}

describe("start script with the real geth", () => {
    it("geth runs as the unprivileged user, and the peer watchdog stops it when it has no peer for the limit, and counts the restart", async () => {
        const dir = mkdtempSync(join(tmpdir(), "gs-ss-"));
        dirs.push(dir);
        // geth's user must reach its datadir inside the test's directory.
        chmodSync(dir, 0o755);
        const cfg = join(dir, "cfg"), data = join(dir, "data");
        mkdirSync(cfg);
        const config = resolveConfig({});
        writeFileSync(join(cfg, "genesis.json"), renderGenesis(config, [signerAddress("01".padStart(64, "0"))]));
        writeFileSync(join(dir, "start.sh"), renderStartScript({ configDir: cfg, dataDir: data, secretsDir: join(dir, "secrets"), peerCheckSeconds: 1, peerlessLimitSeconds: 5 }));
        // A bootnode address on the namespace's loopback with nothing listening: geth stays alone.
        const enode = enodeFromNodeKey("02".padStart(64, "0"), "127.0.0.1", 30399);
        const r = await runNode(dir, ["--networkid", String(config.chain.chainId), "--port", "30398", "--bootnodes", enode, "--ipcpath", join(data, "geth.ipc")], 120_000);
        const context = `exit ${String(r.status)} (signal ${String(r.signal)}) after ${r.seconds} s:\n${r.output.slice(-4000)}`;
        expect(r.output, context).toContain("advertises 127.0.0.1 (its route to the bootnode 127.0.0.1)");
        expect(r.output, context).toContain("peer watchdog: geth is stopped after 5 s with no peer (peerless restarts in a row: 0)");
        expect(r.output, context).toMatch(/no peer for \d+ s \(limit 5 s\): stopping geth, so that the swarm restarts it and it bootstraps its discovery again \(peerless restart 1 in a row\)/);
        // geth shut down on the SIGTERM (its own log says so) and exited 0, as on a host's shutdown.
        expect(r.output, context).toMatch(/Got interrupt, shutting down/);
        expect(r.signal, context).toBeNull();
        expect(r.status, context).toBe(0);
        expect(readFileSync(join(data, PEERLESS_FILE), "utf8").trim()).toBe("1");
        // geth ran as the unprivileged user: what it created after the handover is that user's.
        expect(readFileSync(join(dir, "passwd"), "utf8"), "the user the script added").toContain(`\ngethswarm:x:${GETH_UID}:${GETH_UID}:`);
        for (const made of ["geth/nodekey", "geth/nodes"]) expect(statSync(join(data, made)).uid, made).toBe(GETH_UID);
        expect(existsSync("/etc/passwd") && readFileSync("/etc/passwd", "utf8").includes("gethswarm"), "the machine's /etc/passwd was written").toBe(false);
    }, 180_000);
});
