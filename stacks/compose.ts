/**
 * Compose rendering of a {@link StackSpec}: a version "3.8" file that
 * `docker stack deploy -c <file> <stack>` (Docker 20.10+) turns into the same services,
 * networks, volumes, secrets and configs as the `@pulumi/docker` rendering.
 *
 * - Configs are `file:` entries (`configs/<file>` beside the compose file) with their full
 *   `name:`, so `docker stack deploy` creates them, labelled with the stack.
 * - Secrets are `external: true` with their full `name:`: their values never appear in
 *   the compose file or beside it. {@link secretsToCreate} says which must exist first
 *   (create each with `docker secret create --label com.docker.stack.namespace=<stack>
 *   <name> -`, the value on stdin).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Document, Scalar, visit } from "yaml";
import { FileRefSpec, NETWORK_ENCRYPTED_LABEL, RESTART_DELAY, SecretSource, STACK_NAMESPACE_LABEL, StackSpec } from "./spec";

/** Compose file format version rendered. */
export const COMPOSE_VERSION = "3.8";
/** Directory, relative to the compose file, that holds the config files. */
export const COMPOSE_CONFIG_DIR = "configs";

/** A secret that must exist before `docker stack deploy` of a rendered compose file. */
export interface SecretToCreate {
    /** Key in the stack (also the file name under `/run/secrets/`). */
    readonly key: string;
    /** Name to create it under. */
    readonly name: string;
    readonly source: SecretSource;
    readonly description: string;
    /** Labels to give it so `docker stack` counts it as part of the stack. */
    readonly labels: Readonly<Record<string, string>>;
}

/** The secrets a compose rendering references as external, in spec order. */
export function secretsToCreate(spec: StackSpec): SecretToCreate[] {
    return spec.secrets.map((s) => ({
        key: s.key,
        name: s.name,
        source: s.source,
        description: s.description,
        labels: { [STACK_NAMESPACE_LABEL]: spec.stack },
    }));
}

/** The compose document of a spec, as a plain object (what {@link renderCompose} writes). */
export function composeDocument(spec: StackSpec): Record<string, unknown> {
    const services: Record<string, unknown> = {};
    for (const s of spec.services) {
        const svc: Record<string, unknown> = { image: s.image };
        if (s.entrypoint) svc.entrypoint = [...s.entrypoint];
        if (s.args.length > 0) svc.command = [...s.args];
        if (s.hostname !== undefined) svc.hostname = s.hostname;
        if (s.ports.length > 0) {
            svc.ports = s.ports.map((p) => ({ target: p.target, published: p.published, protocol: p.protocol, mode: p.mode }));
        }
        svc.networks = s.networks.map((key) => key);
        if (s.mounts.length > 0) {
            svc.volumes = s.mounts.map((m) =>
                m.type === "volume"
                    ? { type: "volume", source: m.volume, target: m.target }
                    : { type: "bind", source: m.source, target: m.target, read_only: m.readOnly },
            );
        }
        if (s.user !== undefined) svc.user = s.user;
        const fileRef = (r: FileRefSpec) => ({
            source: r.ref,
            target: r.target,
            ...(r.uid !== undefined || r.gid !== undefined ? { uid: String(r.uid ?? 0), gid: String(r.gid ?? 0) } : {}),
            mode: r.mode,
        });
        if (s.secrets.length > 0) svc.secrets = s.secrets.map(fileRef);
        if (s.configs.length > 0) svc.configs = s.configs.map(fileRef);
        const deploy: Record<string, unknown> = {};
        if (s.mode.kind === "global") deploy.mode = "global";
        else {
            deploy.mode = "replicated";
            deploy.replicas = s.mode.replicas;
        }
        deploy.endpoint_mode = s.endpointMode;
        if (s.constraints.length > 0) deploy.placement = { constraints: [...s.constraints] };
        deploy.restart_policy = { condition: s.restartCondition, delay: RESTART_DELAY };
        if (Object.keys(s.labels).length > 0) deploy.labels = { ...s.labels };
        svc.deploy = deploy;
        services[s.key] = svc;
    }
    const doc: Record<string, unknown> = { version: COMPOSE_VERSION, services };
    if (spec.networks.length > 0) {
        const networks: Record<string, unknown> = {};
        for (const n of spec.networks) {
            if (n.external) networks[n.key] = { external: true, name: n.name };
            else {
                const net: Record<string, unknown> = { driver: n.driver, attachable: n.attachable };
                if (n.encrypted) net.driver_opts = { encrypted: "" };
                // docker stack deploy adds the namespace label itself.
                net.labels = { [NETWORK_ENCRYPTED_LABEL]: String(n.encrypted) };
                networks[n.key] = net;
            }
        }
        doc.networks = networks;
    }
    if (spec.volumes.length > 0) {
        doc.volumes = Object.fromEntries(spec.volumes.map((v) => [v.key, {}]));
    }
    if (spec.secrets.length > 0) {
        doc.secrets = Object.fromEntries(spec.secrets.map((s) => [s.key, { external: true, name: s.name }]));
    }
    if (spec.configs.length > 0) {
        doc.configs = Object.fromEntries(
            spec.configs.map((c) => [c.key, { file: `./${COMPOSE_CONFIG_DIR}/${c.fileName}`, name: c.name }]),
        );
    }
    return doc;
}

/**
 * The compose file of a spec (YAML text). Holds no secret values. Strings of numbers joined by
 * colons (`user: "10001:10001"`) are quoted: a YAML 1.1 reader would take them for base-60 numbers.
 */
export function renderCompose(spec: StackSpec): string {
    const doc = new Document(composeDocument(spec));
    visit(doc, {
        Scalar(_key, node: Scalar) {
            if (typeof node.value === "string" && /^[0-9]+(:[0-9]+)+$/.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
        },
    });
    return doc.toString({ lineWidth: 0 });
}

/** A compose file and the config files it names, as paths relative to one directory. */
export interface ComposeBundle {
    /** `docker-compose.yml` and `configs/<file>` for every config. */
    readonly files: Readonly<Record<string, string>>;
    /** Secrets to create before deploying. */
    readonly secrets: readonly SecretToCreate[];
}

/** The compose file name inside a bundle. */
export const COMPOSE_FILE = "docker-compose.yml";

/** The compose file of a spec with its config files. */
export function composeBundle(spec: StackSpec): ComposeBundle {
    const files: Record<string, string> = { [COMPOSE_FILE]: renderCompose(spec) };
    for (const c of spec.configs) files[`${COMPOSE_CONFIG_DIR}/${c.fileName}`] = c.content;
    return { files, secrets: secretsToCreate(spec) };
}

/**
 * Write {@link composeBundle} into `dir` (created if needed); returns the path of the
 * compose file, ready for `docker stack deploy -c <path> <stack>` once the secrets exist.
 */
export function writeComposeBundle(spec: StackSpec, dir: string): string {
    const bundle = composeBundle(spec);
    for (const [rel, content] of Object.entries(bundle.files)) {
        const path = join(dir, rel);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, content);
    }
    return join(dir, COMPOSE_FILE);
}
