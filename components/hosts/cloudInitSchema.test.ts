import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { CloudInitParams, renderCloudInit } from "./cloudInit";
import { JOINING, LEADER } from "./cloudInit.fixtures";

/**
 * The rendered user-data checked by cloud-init's own schema (`cloud-init schema -c FILE`):
 * offline, as any user, no cloud-init state needed. `.ci/run` installs cloud-init; without
 * it these tests fail and say how to get it.
 */

// As AwsSwarmHosts renders them: the miner is a worker at bootstrap (its label comes later).
const hosts: [string, CloudInitParams][] = [
    ["leader", LEADER],
    ["joining manager", { ...JOINING, hostname: "manager-2", role: "manager" }],
    ["worker", { ...JOINING, hostname: "worker", role: "worker" }],
    ["miner", { ...JOINING, hostname: "miner", role: "worker", joinAttempts: 60 }],
];

const INSTALL_HINT = "cloud-init is not installed: apt-get install -y cloud-init (its `cloud-init schema` validates the user-data)";
const cloudInit = spawnSync("cloud-init", ["--version"], { encoding: "utf8" });
const hasCloudInit = cloudInit.status === 0;
const work = mkdtempSync(join(tmpdir(), "geth-swarm-cloud-init-"));

/** `cloud-init schema --config-file` on the user-data; asynchronous, so the cases run side by side. */
function validate(name: string, userData: string): Promise<{ status: number | null; output: string; file: string }> {
    const file = join(work, `${name.replace(/\W+/g, "-")}.yaml`);
    writeFileSync(file, userData);
    return new Promise((resolve) => {
        execFile("cloud-init", ["schema", "--config-file", file], { encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
            const status = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
            resolve({ status, output: `${stdout ?? ""}${stderr ?? ""}`.trim(), file });
        });
    });
}

/**
 * Top-level keys the installed cloud-init's schema knows. cloud-init rejects unknown
 * top-level keys itself only from 23.4 on (Debian 12 has 22.4.2), so the test checks them.
 */
function knownTopLevelKeys(): Set<string> {
    // `cloud-init --version` prints "<path of the cloud-init script> <version>"; its #! line names its Python.
    const script = cloudInit.stdout.trim().split(/\s+/)[0];
    const python = readFileSync(script, "utf8").split("\n")[0].replace(/^#!\s*/, "").split(/\s+/);
    const code = [
        "import json",
        "from cloudinit.config.schema import get_schema",
        "s = get_schema()",
        "keys = set(s.get('properties', {}))",
        "for name, d in s.get('$defs', {}).items():",
        "    if name.startswith('cc_'): keys |= set(d.get('properties') or {})",
        "print(json.dumps(sorted(keys)))",
    ].join("\n");
    const r = spawnSync(python[0], [...python.slice(1), "-c", code], { encoding: "utf8", timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    return new Set(JSON.parse(r.stdout) as string[]);
}

// A case may wait for the CPU behind every other case's cloud-init process (they run side by
// side): its bound is the process's own (60 s) and then some.
describe.concurrent("the user-data, checked by cloud-init's own schema", { timeout: 90_000 }, () => {
    it.each(hosts)("the %s's user-data is a valid cloud-config", async (name, p) => {
        expect(hasCloudInit, INSTALL_HINT).toBe(true);
        const r = await validate(name, renderCloudInit(p));
        expect(r.output, r.file).toBe(`Valid cloud-config: ${r.file}`);
        expect(r.status).toBe(0);
    });

    // cloud-init reads YAML 1.1 (PyYAML): unquoted, these names would be booleans or a number.
    it.each(["no", "yes", "on", "off", "0b101"])("the user-data of a host named %j is valid: the name stays a string", async (hostname) => {
        expect(hasCloudInit, INSTALL_HINT).toBe(true);
        const r = await validate(`host ${hostname}`, renderCloudInit({ ...hosts[2][1], hostname }));
        expect(r.output, r.file).toBe(`Valid cloud-config: ${r.file}`);
        expect(r.status).toBe(0);
    });

    it("uses only top-level keys the installed cloud-init knows (create_hostname_file is newer than 22.4.2)", () => {
        expect(hasCloudInit, INSTALL_HINT).toBe(true);
        const known = knownTopLevelKeys();
        expect(known.has("write_files") && known.has("runcmd"), [...known].join(" ")).toBe(true);
        for (const [, p] of hosts) {
            const unknown = Object.keys(parse(renderCloudInit(p))).filter((k) => !known.has(k));
            expect(unknown.filter((k) => k !== "create_hostname_file")).toEqual([]);
        }
    });

    // The validator is not a no-op: the same documents, broken, are refused.
    it.each([
        ["runcmd as a string", (d: Record<string, unknown>) => ({ ...d, runcmd: "/usr/local/sbin/geth-swarm-bootstrap" })],
        ["octal permissions as a number", (d: Record<string, unknown>) => ({ ...d, write_files: [{ ...(d.write_files as object[])[0], permissions: 600 }] })],
        ["a misspelt write_files key", (d: Record<string, unknown>) => ({ ...d, write_files: [{ ...(d.write_files as object[])[0], contents: "x" }] })],
        ["preserve_hostname as a string", (d: Record<string, unknown>) => ({ ...d, preserve_hostname: "no" })],
    ] as const)("refuses the leader's user-data with %s", async (name, breakIt) => {
        expect(hasCloudInit, INSTALL_HINT).toBe(true);
        const broken = "#cloud-config\n" + stringify(breakIt(parse(renderCloudInit(hosts[0][1]))), { version: "1.1", lineWidth: 0 });
        const r = await validate(`broken ${name}`, broken);
        expect(r.output).toMatch(/schema errors/);
        expect(r.status).not.toBe(0);
    });
});
