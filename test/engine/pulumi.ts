// The Pulumi CLI for the engine tier, and a workspace to run the project's own program with it.
//
// Which CLI: `pulumi` on PATH when the machine has one (with its own plugins, downloaded as
// usual); otherwise the offline toolchain (`shared/pulumi-toolchain` beside the clone or one
// of its parents, or $GETH_SWARM_PULUMI_TOOLCHAIN), installed into $GETH_SWARM_PULUMI_DIR (default
// /var/cache/pulumi-toolchain) by its own install.sh, with its docker, random and tls
// plugins registered in a PULUMI_HOME of the workspace.
//
// A workspace: a file:// backend, a generated passphrase and a copy of the stack's config
// file in a temp directory, so the clone's Pulumi.<stack>.yaml is never written; every
// command runs in a project directory of symlinks to the clone's files (`index.ts` through
// Pulumi.yaml's `main`) beside that copy, inside the engine's network namespace, with
// DOCKER_HOST naming the engine.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { LAB_PATH, run, which } from "../lab/exec";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** The plugin versions the offline toolchain carries (what the npm SDKs are pinned to). */
export const TOOLCHAIN_PLUGINS = { docker: "5.1.0", random: "4.21.1", tls: "5.5.1" } as const;

export interface PulumiCli {
    /** The `pulumi` binary. */
    readonly bin: string;
    readonly version: string;
    /** `offline-toolchain` or the machine's own CLI. */
    readonly source: "offline-toolchain" | "machine";
    /** Extra PATH entries (the toolchain's bin: language host and dynamic-provider launcher). */
    readonly pathDirs: string[];
    /** PULUMI_HOME for the offline toolchain (plugins registered there); undefined: the machine's own. */
    readonly home?: string;
}

/** `$GETH_SWARM_PULUMI_TOOLCHAIN`, else the first `shared/pulumi-toolchain` beside the clone or one of its parents. */
export function toolchainSource(): string {
    if (process.env.GETH_SWARM_PULUMI_TOOLCHAIN) return process.env.GETH_SWARM_PULUMI_TOOLCHAIN;
    const tried: string[] = [];
    for (let dir = path.dirname(REPO_ROOT); ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, "shared", "pulumi-toolchain");
        tried.push(candidate);
        if (fs.existsSync(path.join(candidate, "install.sh"))) return candidate;
        if (path.dirname(dir) === dir) return tried[0];
    }
}

/**
 * The Pulumi CLI to run: the machine's, or the offline toolchain installed from its folder.
 * Fails naming what to install when there is neither.
 */
export async function ensurePulumi(workDir: string, log: (m: string) => void): Promise<PulumiCli> {
    const own = which("pulumi");
    if (own && !process.env.GETH_SWARM_PULUMI_TOOLCHAIN) {
        const version = (await run(own, ["version"], { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "1" } })).stdout.trim();
        log(`using the machine's pulumi ${version} (${own})`);
        return { bin: own, version, source: "machine", pathDirs: [path.dirname(own)] };
    }
    const src = toolchainSource();
    const install = path.join(src, "install.sh");
    if (!fs.existsSync(install)) {
        throw new Error(
            `engine tier prerequisite missing: the Pulumi CLI. Install it (https://www.pulumi.com/docs/install/), ` +
                `or point GETH_SWARM_PULUMI_TOOLCHAIN at the offline toolchain folder (looked for ${install}).`,
        );
    }
    const dest = process.env.GETH_SWARM_PULUMI_DIR || "/var/cache/pulumi-toolchain";
    await run("bash", [install, dest], { timeoutMs: 300_000 });
    const bin = path.join(dest, "bin", "pulumi");
    const home = path.join(workDir, "pulumi-home");
    fs.mkdirSync(home, { recursive: true });
    const env = { ...process.env, PATH: `${path.join(dest, "bin")}:${LAB_PATH}`, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "1" };
    await run(path.join(dest, "bin", "install-plugins.sh"), [], {
        env: { ...env, PULUMI_PLUGIN_VERSIONS: Object.entries(TOOLCHAIN_PLUGINS).map(([k, v]) => `${k}=${v}`).join(" ") },
        timeoutMs: 300_000,
    });
    const version = (await run(bin, ["version"], { env })).stdout.trim();
    log(`using the offline pulumi toolchain ${version} (${dest}, from ${src})`);
    return { bin, version, source: "offline-toolchain", pathDirs: [path.join(dest, "bin")], home };
}

/** One step of a `pulumi preview --json` or `up --json` run. */
export interface PreviewStep {
    op: string;
    urn: string;
    type?: string;
    diffReasons?: string[];
    replaceReasons?: string[];
    detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }>;
    newState?: { type?: string };
    oldState?: { type?: string };
}

export interface CommandOutcome {
    code: number;
    stdout: string;
    stderr: string;
    seconds: number;
}

export interface Workspace {
    readonly dir: string;
    /** The project directory the commands run in (symlinks to the clone's files, the stack config copy). */
    readonly projectDir: string;
    readonly stack: string;
    readonly cli: PulumiCli;
    readonly env: NodeJS.ProcessEnv;
    /** The stack config file the commands use (a copy of the project's, with overrides). */
    readonly configFile: string;
    /** Sets (or with `undefined`, removes) `geth-swarm:<key>` in the workspace's config file. */
    setConfig(values: Record<string, unknown>): void;
    /**
     * Runs `pulumi <args>` for the stack inside the engine's namespace; its output goes to
     * a log file and, line by line, to `progress`. Throws with the output's tail on failure
     * unless `allowFailure`.
     */
    pulumi(args: string[], opts?: { allowFailure?: boolean; timeoutMs?: number; quiet?: boolean }): Promise<CommandOutcome>;
    /** `pulumi preview --json`: its steps (throws when the preview fails). */
    previewSteps(): Promise<{ steps: PreviewStep[]; seconds: number }>;
    /** `pulumi stack output --json [--show-secrets]`. */
    outputs(showSecrets?: boolean): Promise<Record<string, unknown>>;
    /** `pulumi stack export [--show-secrets]`: the deployment. */
    exportState(showSecrets?: boolean): Promise<{ deployment: { resources?: Array<{ urn: string; type: string; id?: string; outputs?: Record<string, unknown> }> } }>;
    remove(): void;
}

export interface WorkspaceOptions {
    cli: PulumiCli;
    /** The engine: DOCKER_HOST for the program, and the namespace the commands run in. */
    dockerHost: string;
    netnsPath: string;
    /** Stack name; its config starts as a copy of the project's Pulumi.<stack>.yaml. */
    stack: string;
    /** `geth-swarm:<key>` values added to the copy. */
    config: Record<string, unknown>;
    log: (m: string) => void;
}

/** A temp workspace for the project's program: backend, passphrase, config copy; the stack is created. */
export async function createWorkspace(o: WorkspaceOptions): Promise<Workspace> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geth-swarm-engine-"));
    const backend = path.join(dir, "state");
    fs.mkdirSync(backend);
    // The project as Pulumi sees it: its own files by symlink, but the stack config file
    // (which `pulumi stack init` and `pulumi config` write to) a copy of the workspace's.
    const project = path.join(dir, "project");
    fs.mkdirSync(project);
    for (const f of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json", "components", "stacks", "node_modules"]) {
        fs.symlinkSync(path.join(REPO_ROOT, f), path.join(project, f));
    }
    const configFile = path.join(project, `Pulumi.${o.stack}.yaml`);
    const original = path.join(REPO_ROOT, `Pulumi.${o.stack}.yaml`);
    fs.copyFileSync(original, configFile);
    // Read each time: `pulumi stack init` adds the stack's encryption salt to the file.
    const writeConfig = (values: Record<string, unknown>) => {
        const doc = (parse(fs.readFileSync(configFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
        doc.config = { ...(doc.config ?? {}) };
        for (const [k, v] of Object.entries(values)) {
            if (v === undefined) delete doc.config[`geth-swarm:${k}`];
            else doc.config[`geth-swarm:${k}`] = v;
        }
        fs.writeFileSync(configFile, stringify(doc));
    };
    writeConfig(o.config);

    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: [...o.cli.pathDirs, LAB_PATH].join(":"),
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
        // The local target's default docker provider and the image preload read it.
        DOCKER_HOST: o.dockerHost,
        // The program's files on this machine (the stacks' client TLS directories).
        GETH_SWARM_HOME: path.join(dir, "home"),
        ...(o.cli.home ? { PULUMI_HOME: o.cli.home } : {}),
    };
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    const logFile = path.join(dir, "pulumi.log");

    const pulumi: Workspace["pulumi"] = (args, opts = {}) =>
        new Promise((resolve, reject) => {
            const full = [...args, "--stack", o.stack, "--non-interactive", "--cwd", project];
            const fd = fs.openSync(logFile, "a");
            fs.writeSync(fd, `\n$ pulumi ${full.join(" ")}\n`);
            const t0 = Date.now();
            const child = spawn("nsenter", [`--net=${o.netnsPath}`, "--", o.cli.bin, ...full], { env, cwd: project, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            let partial = "";
            const progress = (chunk: string) => {
                if (opts.quiet) return;
                partial += chunk;
                const lines = partial.split("\n");
                partial = lines.pop() ?? "";
                for (const l of lines) if (l.trim()) o.log(`  | ${l}`);
            };
            child.stdout.setEncoding("utf8").on("data", (c: string) => {
                stdout += c;
                fs.writeSync(fd, c);
                progress(c);
            });
            child.stderr.setEncoding("utf8").on("data", (c: string) => {
                stderr += c;
                fs.writeSync(fd, c);
                progress(c);
            });
            const timer = setTimeout(() => child.kill("SIGINT"), opts.timeoutMs ?? 20 * 60_000);
            child.on("error", (e) => {
                clearTimeout(timer);
                fs.closeSync(fd);
                reject(e);
            });
            child.on("close", (code) => {
                clearTimeout(timer);
                fs.closeSync(fd);
                const outcome = { code: code ?? 1, stdout, stderr, seconds: (Date.now() - t0) / 1000 };
                if (outcome.code !== 0 && !opts.allowFailure) {
                    const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-60).join("\n");
                    reject(new Error(`pulumi ${args.join(" ")} failed (exit ${outcome.code}, ${outcome.seconds.toFixed(1)} s); log ${logFile}\n${tail}`));
                    return;
                }
                resolve(outcome);
            });
        });

    const ws: Workspace = {
        dir,
        projectDir: project,
        stack: o.stack,
        cli: o.cli,
        env,
        configFile,
        setConfig: writeConfig,
        pulumi,
        async previewSteps() {
            const r = await pulumi(["preview", "--json"], { quiet: true });
            const parsed = JSON.parse(r.stdout) as { steps?: PreviewStep[] };
            return { steps: parsed.steps ?? [], seconds: r.seconds };
        },
        async outputs(showSecrets = false) {
            const r = await pulumi(["stack", "output", "--json", ...(showSecrets ? ["--show-secrets"] : [])], { quiet: true });
            return JSON.parse(r.stdout) as Record<string, unknown>;
        },
        async exportState(showSecrets = false) {
            const r = await pulumi(["stack", "export", ...(showSecrets ? ["--show-secrets"] : [])], { quiet: true });
            return JSON.parse(r.stdout);
        },
        remove() {
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    await pulumi(["stack", "init"], { quiet: true });
    return ws;
}
