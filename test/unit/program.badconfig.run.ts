/**
 * Runs the Pulumi program (`index.ts`) under mocks for ONE stack config, given as JSON in
 * argv[2] (`{"geth-swarm:chainId": "1", ...}`), and prints what happened as one JSON line:
 * the error the program's import threw (name, message, problems) and every resource the
 * mocks saw registered. One process per config: Pulumi's runtime state is global.
 *
 *   npx tsx test/unit/program.badconfig.run.ts '{"geth-swarm:managerCount":"2"}'
 */
import { installProgramMocks, settle } from "./programMocks";

async function main(): Promise<void> {
    const config = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
    const resources = installProgramMocks("badconfig", config);
    let error: { name: string; message: string; problems?: unknown } | undefined;
    try {
        await import("../../index");
    } catch (e) {
        const err = e as Error & { problems?: unknown };
        error = { name: err.name, message: err.message, problems: err.problems };
    }
    // Anything the program had started would reach the mocks by now.
    await settle();
    process.stdout.write(JSON.stringify({ error, resources: resources.map((r) => ({ type: r.type, name: r.name })) }) + "\n");
}

main().then(
    () => process.exit(0),
    (e) => {
        process.stderr.write(`${(e as Error).stack ?? e}\n`);
        process.exit(2);
    },
);
