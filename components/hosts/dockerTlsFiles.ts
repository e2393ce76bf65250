/**
 * The client TLS files of a `docker.Provider` for a TLS-protected Docker API.
 *
 * Why files: given its TLS material inline (`caMaterial`, `certMaterial`, `keyMaterial`),
 * `@pulumi/docker` (5.x) builds its client with the configured host and then applies the
 * environment over it (`client.FromEnv`), so with `DOCKER_HOST` set (as users of the local
 * target have it, and most Docker Desktop, colima or remote-engine users do) the provider
 * talks to that engine instead of the one it was given, and fails to configure. With
 * `certPath` it applies the environment first and the given host last. So the program
 * writes the material to a directory of its own, as the Docker CLI keeps it
 * (`ca.pem`, `cert.pem`, `key.pem`; the directory 0700, the key 0600), and passes that
 * directory.
 *
 * The files are written while the program runs (`pulumi preview` and `pulumi up`), before
 * the provider is registered; `pulumi refresh` and `pulumi destroy` (which do not run the
 * program) use the files of the last run on this machine, and on another machine need
 * `--run-program`. A {@link DockerTlsFilesCleanup} removes the directory when the stack is
 * destroyed, after every resource that used the provider.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { runOnChangeProvider } from "../swarm/dynamic";
import type { DockerEndpoint } from "./types";

/** Where the program keeps files on this machine: `$GETH_SWARM_HOME`, default `~/.geth-swarm`. */
export function gethSwarmHome(): string {
    return process.env.GETH_SWARM_HOME || path.join(os.homedir(), ".geth-swarm");
}

/** The client TLS directory of one provider: `<home>/docker-tls/<project>/<stack>/<name>`. */
export function dockerTlsDir(name: string, project = pulumi.getProject(), stack = pulumi.getStack()): string {
    return path.join(gethSwarmHome(), "docker-tls", project, stack, name);
}

/**
 * Writes `ca.pem`, `cert.pem` and `key.pem` of `ep` into `dir` (created 0700; each file
 * written to a temp name and renamed, the key 0600). Throws when `ep` carries no TLS material.
 */
export function writeDockerTlsFiles(dir: string, ep: DockerEndpoint): void {
    if (!ep.caPem || !ep.certPem || !ep.keyPem) throw new Error(`the Docker API ${ep.host} has no TLS material (CA, client certificate and key) to write to ${dir}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    const files: Array<[string, string, number]> = [
        ["ca.pem", ep.caPem, 0o644],
        ["cert.pem", ep.certPem, 0o644],
        ["key.pem", ep.keyPem, 0o600],
    ];
    for (const [file, content, mode] of files) {
        const target = path.join(dir, file);
        const tmp = `${target}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, content, { mode });
        fs.chmodSync(tmp, mode);
        fs.renameSync(tmp, target);
    }
}

/**
 * The `certPath` of a provider for `endpoint`: resolves to `dir` once the files are written
 * (so a provider given it is configured only after), to undefined for an API without TLS
 * material, and stays unknown while the material is.
 */
export function dockerCertPath(dir: string, endpoint: pulumi.Output<DockerEndpoint>): pulumi.Output<string | undefined> {
    return pulumi.unsecret(
        endpoint.apply((ep) => {
            if (!ep.caPem && !ep.certPem && !ep.keyPem) return undefined;
            writeDockerTlsFiles(dir, ep);
            return dir;
        }),
    );
}

interface CleanupInputs {
    dir: string;
}

/** The dynamic provider of {@link DockerTlsFilesCleanup}. Exported for tests. */
export const dockerTlsFilesCleanupProvider = runOnChangeProvider<CleanupInputs, {}>({
    fingerprint: (i) => i.dir,
    id: (i) => i.dir,
    replaceOn: (olds, news) => (olds.dir !== news.dir ? ["dir"] : []),
    // The program writes the files (dockerCertPath); this resource only removes them.
    run: async () => ({}),
    async remove(state) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const nodeFs = require("fs") as typeof fs;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const nodePath = require("path") as typeof path;
        nodeFs.rmSync(state.dir, { recursive: true, force: true });
        // And <stack>, <project>, docker-tls when nothing else is left in them.
        let parent = state.dir;
        for (let i = 0; i < 3; i++) {
            parent = nodePath.dirname(parent);
            try {
                nodeFs.rmdirSync(parent);
            } catch {
                break;
            }
        }
    },
});

/**
 * Removes a client TLS directory ({@link dockerCertPath}) when it is deleted. Make the
 * provider that reads the directory depend on it, so it is deleted after that provider's
 * resources.
 */
export class DockerTlsFilesCleanup extends pulumi.dynamic.Resource {
    declare public readonly dir: pulumi.Output<string>;

    constructor(name: string, args: { dir: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(dockerTlsFilesCleanupProvider, name, { dir: args.dir }, opts, "geth-swarm", "DockerTlsFilesCleanup");
    }
}
