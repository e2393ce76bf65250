// A git worktree of the commit checked out (HEAD), with the clone's node_modules: what a
// long bench measures. Suites and pulumi commands compile the code anew on every run, so an
// edit made in the working tree while a bench runs would otherwise change what is measured
// between (or within) runs.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"));
    // The suites' pre-scripts (test/tools/ensure-deps.cjs) run `npm ci` when package-lock.json
    // is newer than the installed tree: the fresh checkout's lock would be, and `npm ci` there
    // would empty the clone's node_modules through the link. HEAD's lock is the clone's (else
    // the installed tree is not what HEAD asks for): give it the clone's time.
    const lock = (dir: string) => path.join(dir, "package-lock.json");
    if (fs.readFileSync(lock(tree), "utf8") !== fs.readFileSync(lock(ROOT), "utf8")) {
        execFileSync("git", ["worktree", "remove", "--force", tree], { cwd: ROOT, stdio: "ignore" });
        throw new Error("package-lock.json differs from HEAD's: commit it (or check it out) and run npm ci before the bench");
    }
    const { atime, mtime } = fs.statSync(lock(ROOT));
    fs.utimesSync(lock(tree), atime, mtime);
    log(`${part}: measuring commit ${commit} in ${tree}`);
    return { tree, commit, remove: () => execFileSync("git", ["worktree", "remove", "--force", tree], { cwd: ROOT, stdio: "ignore" }) };
}
