// `npm run export-compose -- --out <dir> --boot-host-ip <ip> [--stack local] [--config-file <file>]`
//
// Writes the boot and nodes stacks of a stack's config (Pulumi.<stack>.yaml) as compose
// bundles for `docker stack deploy`, with freshly generated keys as secret files, a
// deploy.sh (node labels, secrets, both stacks) and network.json (chain id, enode, addresses).
// See stacks/export.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT, resolveConfig } from "../components/config";
import { composeExport, newExportKeys, writeComposeExport } from "../stacks/export";

interface Args {
    out: string;
    bootHostIp: string;
    configFile: string;
}

function usage(problem: string): never {
    process.stderr.write(
        `export-compose: ${problem}\n` +
            "usage: npm run export-compose -- --out <dir> --boot-host-ip <ip> [--stack <name>] [--config-file <Pulumi.<stack>.yaml>]\n" +
            "  --boot-host-ip  the address the other hosts reach the boot host at (its private IP)\n",
    );
    process.exit(2);
}

function parseArgs(argv: string[]): Args {
    let out: string | undefined;
    let bootHostIp: string | undefined;
    let stack = "local";
    let configFile: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const value = () => argv[++i] ?? usage(`${argv[i - 1]} needs a value`);
        switch (argv[i]) {
            case "--out": out = value(); break;
            case "--boot-host-ip": bootHostIp = value(); break;
            case "--stack": stack = value(); break;
            case "--config-file": configFile = value(); break;
            default: usage(`unknown argument ${argv[i]}`);
        }
    }
    if (!out) usage("--out is required: the directory to write (it must not exist, or be empty)");
    if (!bootHostIp || !/^\d{1,3}(\.\d{1,3}){3}$/.test(bootHostIp)) usage("--boot-host-ip is required: an IPv4 address such as 10.0.1.12");
    return { out, bootHostIp, configFile: configFile ?? path.resolve(__dirname, "..", `Pulumi.${stack}.yaml`) };
}

function main(): void {
    const args = parseArgs(process.argv.slice(2));
    if (!fs.existsSync(args.configFile)) usage(`no stack config ${args.configFile}`);
    const doc = (parse(fs.readFileSync(args.configFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc.config ?? {})) {
        if (!k.startsWith(`${PROJECT}:`)) continue;
        if (v && typeof v === "object" && !Array.isArray(v)) usage(`${k} in ${args.configFile} is a secret or an object; the export reads plain settings only`);
        raw[k.slice(PROJECT.length + 1)] = v;
    }
    const config = resolveConfig(raw);
    if (fs.existsSync(args.out) && fs.readdirSync(args.out).length > 0) usage(`${args.out} is not empty: the export writes new keys and will not mix them with others`);
    const exported = composeExport(config, newExportKeys(config), args.bootHostIp);
    writeComposeExport(args.out, exported);
    process.stdout.write(
        `Wrote ${Object.keys(exported.files).length} files to ${args.out} (keys: ${exported.secretFiles.length} files, mode 0600, in secrets/).\n` +
            `Bootnode: ${exported.enode}\n` +
            `Deploy, with the docker CLI talking to a manager of your swarm: sh ${path.join(args.out, "deploy.sh")}\n`,
    );
}

try {
    main();
} catch (e) {
    process.stderr.write(`export-compose: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
}
