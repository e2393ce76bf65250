/**
 * Runs the Pulumi program (`index.ts`) under mocks for ONE stack config, given as JSON in
 * argv[2] (`{"geth-swarm:chainId": "1", ...}`), and prints what happened as one JSON line:
 * the error the program's import threw (name, message, problems) and every resource the
 * mocks saw registered.
 *
 *   npx tsx test/unit/program.badconfig.run.ts '{"geth-swarm:managerCount":"2"}'
 */
import * as path from "node:path";
import { installProgramMocks, settle } from "./programMocks";

const ROOT = path.resolve(__dirname, "..", "..");

interface Run {
    error?: { name: string; message: string; problems?: unknown };
    resources: { type: string; name: string }[];
}

/** Loads the program afresh (the project's modules, not the SDKs') with `config`, under new mocks. */
async function runOne(config: Record<string, string>): Promise<Run> {
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(ROOT) && !id.includes(`${path.sep}node_modules${path.sep}`) && id !== __filename && !id.endsWith("programMocks.ts")) delete require.cache[id];
    }
    const resources = installProgramMocks("badconfig", config);
    let error: Run["error"];
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("../../index");
    } catch (e) {
        const err = e as Error & { problems?: unknown };
        error = { name: err.name, message: err.message, problems: err.problems };
    }
    // Anything the program had started would reach the mocks by now.
    await settle();
    return { error, resources: resources.map((r) => ({ type: r.type, name: r.name })) };
}

/**
 * argv[2]: one config, or a list of them (run one after the other in this process; a config
 * that registers resources must be the last: Pulumi's runtime state is global). Prints the
 * runs as one JSON line (a list when given a list).
 */
async function main(): Promise<void> {
    const arg = JSON.parse(process.argv[2] ?? "{}") as Record<string, string> | Record<string, string>[];
    const runs: Run[] = [];
    for (const config of Array.isArray(arg) ? arg : [arg]) runs.push(await runOne(config));
    process.stdout.write(JSON.stringify(Array.isArray(arg) ? runs : runs[0]) + "\n");
}

main().then(
    () => process.exit(0),
    (e) => {
        process.stderr.write(`${(e as Error).stack ?? e}\n`);
        process.exit(2);
    },
);
