import type { SwarmTask } from "./api";
import { LastSeen, describeAnswer, errorMessage, formatDuration, pollUntil } from "./poll";

/** What {@link waitForRollout} calls; `Dockerode` satisfies it. */
export interface RolloutApi {
    getService(id: string): { inspect(options?: {}): Promise<unknown> };
    listTasks(options?: {}): Promise<unknown[]>;
}

export interface RolloutOptions {
    /** How long to wait for every service to settle. */
    readonly timeoutMs: number;
    readonly initialDelayMs?: number;
    readonly maxDelayMs?: number;
    /** Told what is still rolling out, after each poll that found something. Default: nothing. */
    readonly onProgress?: (message: string) => void;
}

/** Thrown when a service's update does not finish in time, or ends paused or rolled back. */
export class RolloutError extends Error {
    constructor(message: string) {
        super(message);
        // Set explicitly: in Pulumi's serialised dynamic provider, super() does not set it.
        this.message = message;
        this.name = "RolloutError";
    }
}

interface ServiceAnswer {
    UpdateStatus?: { State?: string; Message?: string };
}

/**
 * Update states after which the service will not get to its new spec by itself. An array:
 * Pulumi's closure serialisation of the dynamic providers does not carry a Set.
 */
const STUCK: readonly string[] = ["paused", "rollback_started", "rollback_paused", "rollback_completed"];

/**
 * Waits (bounded, polling with backoff) until every service has settled on its current
 * spec: no update in progress (a rolling update replaces a global service's tasks one host
 * at a time, so its old tasks still answer meanwhile), and every task that should run is
 * running. A service whose update paused or rolled back fails at once, with the swarm's
 * message.
 *
 * @throws RolloutError naming the services and what was seen.
 */
export async function waitForRollout(docker: RolloutApi, services: readonly string[], opts: RolloutOptions): Promise<void> {
    const seen = new LastSeen("nothing yet");
    const settled = await pollUntil(async ({ bound }) => {
        const pending: string[] = [];
        for (const name of services) {
            let svc: ServiceAnswer;
            let tasks: SwarmTask[];
            try {
                svc = (await bound(docker.getService(name).inspect(), `GET /services/${name}`)) as ServiceAnswer;
                const answer: unknown = await bound(docker.listTasks({ filters: { service: [name], "desired-state": ["running"] } }), "GET /tasks");
                if (!Array.isArray(answer)) throw new Error(`GET /tasks answered ${describeAnswer(answer)}`);
                tasks = answer as SwarmTask[];
            } catch (e) {
                seen.set(`${name}: ${errorMessage(e)}`, e);
                return undefined;
            }
            const state = svc?.UpdateStatus?.State;
            if (state && STUCK.includes(state)) {
                throw new RolloutError(`the update of ${name} ended ${state.replace("_", " ")}: ${svc.UpdateStatus?.Message ?? "no message"}; see \`docker service ps ${name}\`.`);
            }
            const starting = tasks.filter((t) => t.Status?.State !== "running");
            if (state === "updating") pending.push(`${name} updating (${svc.UpdateStatus?.Message ?? "in progress"})`);
            else if (starting.length > 0) pending.push(`${name}: ${starting.length} of ${tasks.length} tasks not running yet (${starting.map((t) => t.Status?.State ?? "?").join(", ")})`);
        }
        if (pending.length === 0) return true;
        seen.set(pending.join("; "));
        opts.onProgress?.(`waiting for the services to roll out: ${pending.join("; ")}`);
        return undefined;
    }, opts);
    if (!settled) throw new RolloutError(`services not rolled out after ${formatDuration(opts.timeoutMs)}: ${String(seen)}.`);
}
