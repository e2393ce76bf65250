import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
    CONFIG_KEYS, ConfigError, configReferenceMarkdown, PROJECT, pulumiConfigSchema, REFERENCE_BEGIN, REFERENCE_END, resolveConfig,
} from "../../components/config";

const root = path.resolve(__dirname, "..", "..");
const read = (f: string) => fs.readFileSync(path.join(root, f), "utf8");

describe("Pulumi.yaml", () => {
    const project = parse(read("Pulumi.yaml"));

    it("is the geth-swarm nodejs/TypeScript project", () => {
        expect(project.name).toBe(PROJECT);
        expect(project.runtime).toEqual({ name: "nodejs", options: { typescript: true, packagemanager: "npm" } });
    });

    it("names the program explicitly, because package.json's main is the library", () => {
        // Without `main`, the Pulumi runtime would run package.json's main (the library) and create nothing.
        expect(project.main).toBe("index.ts");
        expect(fs.existsSync(path.join(root, project.main))).toBe(true);
        const pkg = JSON.parse(read("package.json"));
        expect(pkg.main).toBe("dist/components/index.js");
    });

    it("declares every config key with its type, description and default, from the one key table", () => {
        expect(project.config).toEqual(pulumiConfigSchema());
        for (const [key, entry] of Object.entries(project.config as Record<string, Record<string, unknown>>)) {
            expect(["string", "integer", "boolean", "array"], key).toContain(entry.type);
            expect(typeof entry.description, key).toBe("string");
            expect(entry, key).toHaveProperty("default");
        }
    });
});

describe.each(["Pulumi.dev.yaml", "Pulumi.local.yaml"])("%s", (file) => {
    const stack = parse(read(file)) as { config: Record<string, unknown> };
    const ours = Object.entries(stack.config).filter(([k]) => k.startsWith(`${PROJECT}:`));

    it("uses only keys the config layer knows, in the project namespace, with the declared type", () => {
        for (const k of Object.keys(stack.config)) {
            expect(k.startsWith(`${PROJECT}:`) || k === "aws:region", `unexpected key ${k}`).toBe(true);
        }
        for (const [k, v] of ours) {
            const spec = CONFIG_KEYS.find((s) => s.key === k.slice(PROJECT.length + 1));
            expect(spec, `unknown key ${k}`).toBeDefined();
            const actual = Array.isArray(v) ? "array" : typeof v === "number" && Number.isInteger(v) ? "integer" : typeof v;
            expect(actual, k).toBe(spec!.type);
        }
    });

    it("resolves without a config error (Pulumi.dev.yaml once its placeholder operator address is replaced)", () => {
        const raw: Record<string, unknown> = Object.fromEntries(ours.map(([k, v]) => [k.slice(PROJECT.length + 1), v]));
        // Pulumi.dev.yaml's adminCidrs is a documentation address the user must replace: a real-looking one here.
        if (file === "Pulumi.dev.yaml") raw.adminCidrs = ["81.2.69.142/32"];
        const c = resolveConfig(raw);
        expect(c.target).toBe(file === "Pulumi.dev.yaml" ? "aws" : "local");
        expect(c.hosts.map((h) => h.name)).toEqual(["manager", "worker", "miner-worker"]);
    });
});

describe("Pulumi.dev.yaml's placeholder operator address", () => {
    it("is refused as it stands, with the key and how to find your own address", () => {
        const stack = parse(read("Pulumi.dev.yaml")) as { config: Record<string, unknown> };
        expect(stack.config[`${PROJECT}:adminCidrs`]).toEqual(["203.0.113.7/32"]);
        const raw = Object.fromEntries(Object.entries(stack.config).filter(([k]) => k.startsWith(`${PROJECT}:`)).map(([k, v]) => [k.slice(PROJECT.length + 1), v]));
        let err: unknown;
        try {
            resolveConfig(raw);
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(ConfigError);
        const e = err as ConfigError;
        expect(e.problems.map((p) => p.key)).toEqual(["adminCidrs"]);
        expect(e.message).toMatch(/geth-swarm:adminCidrs = "203\.0\.113\.7\/32": is in 203\.0\.113\.0\/24, an address range reserved for documentation.*your own public address.*curl -s https:\/\/checkip\.amazonaws\.com/);
        // The file tells the user the same.
        expect(read("Pulumi.dev.yaml")).toContain("curl -s https://checkip.amazonaws.com");
    });
});

describe("README", () => {
    it("carries the config reference generated from the key table (run `npm run sync-config`)", () => {
        const text = read("README.md");
        const start = text.indexOf(REFERENCE_BEGIN);
        const end = text.indexOf(REFERENCE_END);
        expect(start).toBeGreaterThan(-1);
        expect(text.slice(start + REFERENCE_BEGIN.length, end).trim()).toBe(configReferenceMarkdown());
    });
});

describe("the package's public API (components/index.ts, built to package.json's main)", () => {
    it("exports the components and the chain functions under their documented names", async () => {
        const api = await import("../../components");
        for (const name of [
            "GethSwarm", "SwarmVpc", "SwarmFirewall", "AwsSwarmHosts", "LocalSwarmHosts", "BootStack", "NodesStack",
            "enodeFromNodeKey", "parseEnode", "signerAddress", "buildCliqueGenesis", "resolveConfig", "loadConfig",
            "applyNodeLabels", "waitForChain", "formSwarm", "bootStackSpec", "nodesStackSpec", "renderCompose",
        ]) {
            expect(typeof (api as Record<string, unknown>)[name], name).toBe("function");
        }
    });
});

/**
 * What `npm run build` (`tsc -p tsconfig.build.json`) emits, read from its config without
 * compiling: the config's root files and every project file they import, however
 * indirectly (a root file importing a test helper ships it), each to the out dir as
 * JavaScript and, with `declaration` on, a declaration file; a source map beside each when
 * `sourceMap` or `declarationMap` is on. Compiling would parse the SDKs' declarations too
 * (over 3,000 files) for the same list. Paths are relative to the out dir.
 */
function buildEmits(dir = root): string[] {
    const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d: ts.Diagnostic) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n")); } };
    const config = ts.getParsedCommandLineOfConfigFile(path.join(dir, "tsconfig.build.json"), {}, host)!;
    expect(config.errors).toEqual([]);
    const { options } = config;
    const sources = new Set<string>();
    const queue = [...config.fileNames];
    while (queue.length > 0) {
        const file = path.resolve(queue.pop()!);
        if (sources.has(file)) continue;
        sources.add(file);
        if (file.endsWith(".json")) continue;
        for (const imported of ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles) {
            const resolved = ts.resolveModuleName(imported.fileName, file, options, ts.sys).resolvedModule;
            if (resolved && !resolved.isExternalLibraryImport && !resolved.resolvedFileName.endsWith(".d.ts")) queue.push(resolved.resolvedFileName);
        }
    }
    return [...sources].flatMap((file) => {
        const out = path.relative(path.resolve(dir, options.rootDir!), file);
        if (out.endsWith(".json")) return [out];
        const base = out.replace(/\.ts$/, "");
        return [
            `${base}.js`,
            ...(options.sourceMap ? [`${base}.js.map`] : []),
            ...(options.declaration ? [`${base}.d.ts`] : []),
            ...(options.declaration && options.declarationMap ? [`${base}.d.ts.map`] : []),
        ];
    });
}

describe("the npm package", () => {
    it("ships the library's JavaScript and declarations, a LICENSE, and no test code, test data or source maps", () => {
        const emitted = buildEmits();
        expect(emitted).toContain("components/index.js");
        expect(emitted).toContain("components/index.d.ts");
        expect(emitted).toContain("stacks/index.js");
        expect(emitted.filter((f) => !/^(components|stacks)\/.+\.(js|d\.ts)$/.test(f))).toEqual([]);
        expect(emitted.filter((f) => /\.map$|\.test\.|\.fixtures\.|testdata\//.test(f))).toEqual([]);
        const pkg = JSON.parse(read("package.json"));
        expect(pkg.files).toEqual(["dist/components", "dist/stacks"]);
        expect(pkg.license).toBe("Apache-2.0");
        expect(read("LICENSE")).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    });

    it("would ship a test helper that library code imports (the emitted list follows imports)", () => {
        // The walk above on a throwaway project: a root file importing test code pulls it in.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gs-emits-"));
        try {
            fs.mkdirSync(path.join(dir, "components"));
            fs.mkdirSync(path.join(dir, "test"));
            fs.writeFileSync(path.join(dir, "tsconfig.build.json"), JSON.stringify({ compilerOptions: { outDir: "dist", rootDir: ".", declaration: true, module: "commonjs" }, include: ["components/**/*.ts"], exclude: ["test/**"] }));
            fs.writeFileSync(path.join(dir, "components", "index.ts"), 'export { helper } from "../test/helper";\n');
            fs.writeFileSync(path.join(dir, "test", "helper.ts"), "export const helper = 1;\n");
            expect(buildEmits(dir).sort()).toEqual(["components/index.d.ts", "components/index.js", "test/helper.d.ts", "test/helper.js"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("README", () => {
    const readme = read("README.md");
    const ignored = read(".gitignore").split("\n").map((l) => l.trim()).filter(Boolean);

    it("names only files that exist (or that the suites write and .gitignore keeps out)", () => {
        // Paths in backticks (`test/lab/README.md`, `Pulumi.local.yaml`, `index.ts`); globs and generic names aside.
        const named = [...readme.matchAll(/`([\w./-]+\.(?:ts|md|sh|yaml|yml|json|png|svg))`/g)].map((m) => m[1]);
        expect(named.length).toBeGreaterThan(5);
        const generic = (f: string) => /[*<]/.test(f) || f.startsWith("~") || ["genesis.json", "network.json", "deploy.sh"].includes(f);
        const missing = [...new Set(named)].filter((f) => !generic(f) && !fs.existsSync(path.join(root, f)) && !ignored.includes(f));
        expect(missing).toEqual([]);
    });

    it("documents every output the program exports, and names no output it does not", () => {
        const program = read("index.ts");
        const exported = [...program.matchAll(/^export const (\w+) =/gm)].map((m) => m[1]);
        expect(exported.length).toBeGreaterThan(8);
        for (const name of exported) expect(readme, `output ${name}`).toContain(`\`${name}\``);
        // Outputs the README lists after "Outputs:" exist.
        const listed = [...readme.matchAll(/^Outputs: ([^\n]+(?:\n(?!\n)[^\n]+)*)/gm)].flatMap((m) => [...m[1].matchAll(/`(\w+)`/g)].map((x) => x[1]));
        expect(listed.length).toBeGreaterThan(3);
        expect(listed.filter((n) => !exported.includes(n))).toEqual([]);
    });

    it("gives every npm script it runs", () => {
        const scripts = Object.keys(JSON.parse(read("package.json")).scripts);
        const run = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
        expect(run.filter((s) => !scripts.includes(s))).toEqual([]);
    });
});
