// A git worktree of the commit checked out (HEAD), with a copy of the clone's node_modules: what a
// long bench measures. Suites and pulumi commands compile the code anew on every run, so an
// edit made in the working tree while a bench runs would otherwise change what is measured
// between (or within) runs.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toolchainSource } from "../engine/pulumi";
import { which } from "../lab/exec";

const ROOT = path.join(__dirname, "..", "..");

export interface HeadWorktree {
    readonly tree: string;
    /** Short hash of the commit measured. */
    readonly commit: string;
    readonly remove: () => void;
}

export function checkoutHead(part: string, log: (m: string) => void): HeadWorktree {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), `geth-swarm-bench-${commit}-`));
    execFileSync("git", ["worktree", "add", "--detach", tree, "HEAD"], { cwd: ROOT, stdio: "ignore" });
    // A copy of the clone's installed tree (a few seconds), not a link: an `npm ci` in the
    // clone while the bench runs must not pull the modules from under it. HEAD's lock must be
    // the clone's (else the installed tree is not what HEAD asks for), and it gets the clone's
    // time: the suites' pre-scripts (test/tools/ensure-deps.cjs) run `npm ci` when
    // package-lock.json is newer than the installed tree, as a fresh checkout's would be.
    const lock = (dir: string) => path.join(dir, "package-lock.json");
    const remove = () => execFileSync("git", ["worktree", "remove", "--force", tree], { cwd: ROOT, stdio: "ignore" });
    if (fs.readFileSync(lock(tree), "utf8") !== fs.readFileSync(lock(ROOT), "utf8")) {
        remove();
        throw new Error("package-lock.json differs from HEAD's: commit it (or check it out) and run npm ci before the bench");
    }
    execFileSync("cp", ["-a", path.join(ROOT, "node_modules"), path.join(tree, "node_modules")]);
    const { atime, mtime } = fs.statSync(lock(ROOT));
    fs.utimesSync(lock(tree), atime, mtime);
    log(`${part}: measuring commit ${commit} in ${tree}`);
    return { tree, commit, remove };
}

/**
 * The environment of a suite run in the worktree: colourless output, and, as the worktree is
 * elsewhere, the offline Pulumi toolchain found beside this clone (unless the machine has
 * `pulumi` or `GETH_SWARM_PULUMI_TOOLCHAIN` already names one).
 */
export function worktreeEnv(): NodeJS.ProcessEnv {
    const toolchain = process.env.GETH_SWARM_PULUMI_TOOLCHAIN ?? (which("pulumi") ? undefined : toolchainSource());
    return { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...(toolchain ? { GETH_SWARM_PULUMI_TOOLCHAIN: toolchain } : {}) };
}
