import { DockerNetworkApi } from "./api";
import { LastSeen, describeAnswer, errorMessage, formatDuration, pollUntil } from "./poll";

export interface SwarmNetworkIdOptions {
    /** How long to wait for the manager to answer with the network (its API up, the swarm formed). */
    readonly timeoutMs: number;
    /** How errors name the manager (e.g. its Docker endpoint `tcp://203.0.113.7:2376`). Default `the manager`. */
    readonly manager?: string;
    /** First pause between polls. Default 250 ms (backoff x1.6 up to 5 s). */
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
}

/** Thrown when the manager does not answer with the swarm network in time; names the manager, the network and what was seen. */
export class SwarmNetworkNotFoundError extends Error {
    constructor(readonly manager: string, readonly network: string, readonly seen: string, timeoutMs: number) {
        const message = `${manager}: no swarm network ${network} within ${formatDuration(timeoutMs)}; last seen: ${seen}.`;
        super(message);
        // Set explicitly: in Pulumi's serialised dynamic provider, super() does not set it.
        this.message = message;
        this.name = "SwarmNetworkNotFoundError";
    }
}

/** Network names and IDs as Docker accepts them: nothing that would leave the URL path. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * The swarm-scoped ID of the network `name` (a name or an ID), as a swarm manager's Docker
 * API reports it: `GET /networks/<name>?scope=swarm`. Waits (bounded, polling with backoff)
 * while the manager does not answer, answers an error, or has no such swarm network yet
 * (the swarm not formed yet; also what a worker or an engine outside a swarm answers).
 *
 * This is the ID a swarm service's spec stores for the network it was given, whether by
 * name or by ID: for a predefined network such as `host`, the ID of the swarm's own
 * predefined network, which differs from the ID the engine's local `host` network has
 * (`GET /networks/host`, `docker network inspect host`, `@pulumi/docker`'s `getNetwork`).
 * Each swarm has its own; every manager of a swarm reports the same one.
 *
 * @throws SwarmNetworkNotFoundError when no such swarm network is reported in time, naming
 *   the manager and what it answered last.
 */
export async function swarmNetworkId(docker: DockerNetworkApi, name: string, opts: SwarmNetworkIdOptions): Promise<string> {
    const manager = opts.manager ?? "the manager";
    if (!NETWORK_NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not a Docker network name or ID.`);
    const request = `GET /networks/${name}?scope=swarm`;
    const seen = new LastSeen("no answer yet");
    const id = await pollUntil(
        async ({ bound }) => {
            let answer: unknown;
            try {
                answer = await bound(docker.getNetwork(name).inspect({ scope: "swarm" }), request);
            } catch (e) {
                // A request cut off by the deadline does not hide what an earlier attempt saw (LastSeen).
                const error = errorMessage(e).trim();
                seen.set(
                    / 404\)|no such network|not found/i.test(error)
                        ? `${request} failed: ${error} (a worker, or an engine not in a swarm, has no swarm networks: is it a swarm manager?)`
                        : `${request} failed: ${error}`,
                    e,
                );
                return undefined;
            }
            const n = answer as { Id?: unknown; Name?: unknown; Scope?: unknown } | null;
            if (Buffer.isBuffer(answer) || !n || typeof n !== "object" || typeof n.Id !== "string" || n.Id === "" || typeof n.Name !== "string") {
                seen.set(`${request} answered ${describeAnswer(answer)}`);
                return undefined;
            }
            if (n.Name !== name && n.Id !== name) {
                seen.set(`${request} answered the network ${n.Name} (${n.Id})`);
                return undefined;
            }
            if (n.Scope !== "swarm") {
                // An engine that ignores the scope answers with its local network, whose ID no service spec holds.
                seen.set(`${request} answered a network of scope ${JSON.stringify(n.Scope ?? null)} (${n.Id}), not the swarm's`);
                return undefined;
            }
            return n.Id;
        },
        opts,
    );
    if (id === undefined) throw new SwarmNetworkNotFoundError(manager, name, String(seen), opts.timeoutMs);
    return id;
}
