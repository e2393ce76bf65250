// `npm run up:local` (examples/up-local.sh) on machines that lack one tool or another: it
// installs the project's dependencies first, then names the missing tool and how to get it;
// with every tool there it selects or creates the stack `local` and runs `pulumi up`.
// The tools are stand-ins on a PATH of the test's own; the script is the real one.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..", "..");
const script = path.join(root, "examples", "up-local.sh");
let dirs: string[] = [];
afterEach(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    dirs = [];
});

/** A PATH with node, the coreutils the script uses, and the given stand-ins (name -> shell body). */
function machine(tools: Record<string, string>): { env: NodeJS.ProcessEnv; calls: string; home: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-uplocal-"));
    dirs.push(dir);
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    for (const t of ["dirname", "mkdir", "chmod", "head", "base64", "cat", "touch"]) {
        const real = ["/usr/bin", "/bin"].map((d) => path.join(d, t)).find((p) => fs.existsSync(p));
        if (real) fs.symlinkSync(real, path.join(bin, t));
    }
    const calls = path.join(dir, "calls");
    for (const [name, body] of Object.entries(tools)) {
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${calls}\n${body}\n`, { mode: 0o755 });
    }
    const home = path.join(dir, "home");
    return { env: { PATH: bin, HOME: home, GETH_SWARM_HOME: path.join(home, ".geth-swarm") }, calls, home };
}

function upLocal(m: ReturnType<typeof machine>, args: string[] = []) {
    const r = spawnSync("/bin/bash", [script, ...args], { env: m.env, encoding: "utf8", timeout: 30_000 });
    const calls = fs.existsSync(m.calls) ? fs.readFileSync(m.calls, "utf8").trim().split("\n") : [];
    return { status: r.status, stderr: r.stderr, stdout: r.stdout, calls };
}

describe("npm run up:local", () => {
    it("without the Pulumi CLI: says how to install it, after the project's dependencies are in place", () => {
        const r = upLocal(machine({ docker: "exit 0" }));
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/^error: the Pulumi CLI is not installed\. Install it with `curl -fsSL https:\/\/get\.pulumi\.com \| sh`.*run `npm run up:local` again\.$/m);
        expect(r.calls).toEqual([]);
    });

    it("without Docker: says how to get it", () => {
        const r = upLocal(machine({ pulumi: "exit 0" }));
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/^error: Docker is not installed: install Docker Desktop or Docker Engine \(https:\/\/docs\.docker\.com\/get-docker\/\)/m);
    });

    it("with an engine it cannot reach: names DOCKER_HOST and the two usual fixes", () => {
        const m = machine({ pulumi: "exit 0", docker: "exit 1" });
        m.env.DOCKER_HOST = "unix:///nowhere.sock";
        const r = upLocal(m);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/cannot reach your Docker engine at DOCKER_HOST=unix:\/\/\/nowhere\.sock: start Docker .* add yourself to the docker group/);
        expect(r.calls).toEqual(["docker info"]);
    });

    it("with every tool: a local state backend, a generated 0600 passphrase, the stack local, pulumi up", () => {
        // A stand-in pulumi with one piece of state: whether the stack exists.
        const m = machine({
            pulumi: '[ "$1 $2" = "stack init" ] && touch "$HOME/stack"; [ "$1 $2" = "stack select" ] && [ ! -e "$HOME/stack" ] && exit 1; exit 0',
            docker: "exit 0",
        });
        const r = upLocal(m);
        expect(r.status, r.stderr).toBe(0);
        expect(r.calls).toEqual(["docker info", "pulumi stack select local", "pulumi stack init local", "pulumi up --yes", "pulumi stack output --json"]);
        const passphrase = path.join(m.home, ".geth-swarm", "passphrase");
        expect(fs.statSync(passphrase).mode & 0o777).toBe(0o600);
        expect(r.stdout).toMatch(/Generated a Pulumi secrets passphrase/);
        // Any pulumi sub-command goes through it the same way.
        const again = upLocal(m, ["destroy", "--yes"]);
        expect(again.status).toBe(0);
        expect(again.calls.slice(-2)).toEqual(["pulumi stack select local", "pulumi destroy --yes"]);
    });
});
