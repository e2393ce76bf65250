/**
 * One pattern for the project's dynamic resources ({@link runOnChangeProvider}): a function
 * that does the work during `pulumi up` (create and update, never `pulumi preview`), a
 * fingerprint of the inputs whose change makes it run again, and an `observe` that
 * `pulumi refresh` calls to see whether what the work established still holds.
 *
 * The state of such a resource is its inputs, the work's outputs and the fingerprint. When
 * `observe` finds drift (a node that left the swarm, a label removed by hand, a chain that
 * stopped advancing), the refreshed fingerprint says so, the next preview shows an update of
 * the resource, and the next `pulumi up` runs the work again.
 *
 * While the work runs, it reports what it waits for on the resource's row of `pulumi up`'s
 * display ({@link Progress}).
 *
 * Providers are serialised into Pulumi's dynamic-provider process with what they capture:
 * the spec's functions must load their modules with `require` at run time.
 */
import * as pulumi from "@pulumi/pulumi";

/** Reports what a running step waits for (an ephemeral line on the resource's row of `pulumi up`). */
export type Progress = (message: string) => void;

/** The inputs every such resource carries besides its own: where its progress lines go. */
export interface ProgressInputs {
    /** The resource's own URN (the engine attaches the progress lines to that row). */
    progressUrn?: string;
}

/** What {@link RunOnChangeSpec.observe} found. */
export interface Observation<O> {
    /** Outputs as they are now (merged over the state's). Default: unchanged. */
    readonly outs?: Partial<O>;
    /** Why the work no longer holds; undefined when it does. */
    readonly drift?: string;
}

export interface RunOnChangeSpec<I extends object, O extends object> {
    /** Does the work (create, update) and returns its outputs. */
    readonly run: (inputs: I, progress: Progress) => Promise<O>;
    /** The part of the inputs whose change runs the work again. Must carry no key material. */
    readonly fingerprint: (inputs: I) => string;
    /** The resource's ID after create. */
    readonly id: (inputs: I, outs: O) => string;
    /** Input keys whose change replaces the resource instead of updating it. Default: none. */
    readonly replaceOn?: (olds: Partial<I>, news: I) => string[];
    /**
     * What `pulumi refresh` sees. Default: the state as it is (nothing observable drifts).
     * It must not throw for an unreachable target: that is drift.
     */
    readonly observe?: (state: I & O) => Promise<Observation<O>>;
    /** What `pulumi destroy` does. Default: nothing (what the work set up goes away with the hosts). */
    readonly remove?: (state: I & O) => Promise<void>;
}

/** The state of a {@link runOnChangeProvider} resource. */
export type RunOnChangeState<I, O> = I & O & ProgressInputs & { fingerprint: string };

/** The fingerprint a refresh records when the work no longer holds. */
export const DRIFT_PREFIX = "drift: ";

/**
 * Progress lines for the resource `urn`: an ephemeral engine log on its row, at most one
 * line every 5 s unless the line changes. Inside Pulumi's dynamic-provider process only
 * (its first argument is the engine's address); elsewhere, and without a URN, silent.
 */
export function engineProgress(urn: string | undefined): Progress {
    const addr = process.argv[2];
    if (!urn || !addr || !/^[A-Za-z0-9.-]+:\d+$/.test(addr)) return () => {};
    let send: (message: string) => void;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const grpc = require("@grpc/grpc-js");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const engproto = require("@pulumi/pulumi/proto/engine_pb");
        const client = new engrpc.EngineClient(addr, grpc.credentials.createInsecure());
        send = (message) => {
            const req = new engproto.LogRequest();
            req.setSeverity(engproto.LogSeverity.INFO);
            req.setMessage(message);
            req.setUrn(urn);
            req.setEphemeral(true);
            client.log(req, () => {});
        };
    } catch {
        return () => {};
    }
    let last = "";
    let lastAt = 0;
    return (message) => {
        const now = Date.now();
        if (message === last && now - lastAt < 5_000) return;
        last = message;
        lastAt = now;
        try {
            send(message);
        } catch {
            // progress is best effort
        }
    };
}

/** The dynamic provider of a resource that runs `spec.run` when its fingerprint changes (see the module comment). */
export function runOnChangeProvider<I extends object, O extends object>(
    spec: RunOnChangeSpec<I, O>,
): pulumi.dynamic.ResourceProvider<I & ProgressInputs, RunOnChangeState<I, O>> {
    const work = async (inputs: I & ProgressInputs) => {
        const outs = await spec.run(inputs, engineProgress(inputs.progressUrn));
        return { outs, state: { ...inputs, ...outs, fingerprint: spec.fingerprint(inputs) } as RunOnChangeState<I, O> };
    };
    return {
        async diff(_id: string, olds: RunOnChangeState<I, O>, news: I & ProgressInputs): Promise<pulumi.dynamic.DiffResult> {
            const replaces = spec.replaceOn ? spec.replaceOn(olds, news) : [];
            return { changes: replaces.length > 0 || olds.fingerprint !== spec.fingerprint(news), replaces, deleteBeforeReplace: false };
        },
        async create(inputs: I & ProgressInputs): Promise<pulumi.dynamic.CreateResult<RunOnChangeState<I, O>>> {
            const { outs, state } = await work(inputs);
            return { id: spec.id(inputs, outs), outs: state };
        },
        async update(_id: string, _olds: RunOnChangeState<I, O>, news: I & ProgressInputs): Promise<pulumi.dynamic.UpdateResult<RunOnChangeState<I, O>>> {
            return { outs: (await work(news)).state };
        },
        async read(id: string, props?: RunOnChangeState<I, O>): Promise<pulumi.dynamic.ReadResult<RunOnChangeState<I, O>>> {
            if (!props || !spec.observe) return { id, props };
            const seen = await spec.observe(props);
            const fingerprint = seen.drift ? `${DRIFT_PREFIX}${seen.drift}` : props.fingerprint;
            return { id, props: { ...props, ...(seen.outs ?? {}), fingerprint } };
        },
        async delete(_id: string, props: RunOnChangeState<I, O>): Promise<void> {
            if (spec.remove) await spec.remove(props);
        },
    };
}

/**
 * The URN a dynamic resource of this project gets (`pulumi-nodejs:dynamic/geth-swarm:<type>`
 * named `name` under `opts.parent`), for its {@link ProgressInputs.progressUrn}.
 *
 * Computed from the parent's URN string as `pulumi.createUrn` does, but as an Output that
 * depends on no resource: an input that depends on the parent component would make the
 * resource wait for every child of that component, itself included.
 */
export function dynamicResourceUrn(type: string, name: string, opts: pulumi.CustomResourceOptions | undefined): pulumi.Output<string> {
    const token = `pulumi-nodejs:dynamic/geth-swarm:${type}`;
    const parent = opts?.parent;
    if (!parent) return pulumi.output(`urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${token}::${name}`);
    const urn = new Promise<string>((resolve) => {
        parent.urn.apply((parentUrn) => {
            resolve(`${parentUrn.substring(0, parentUrn.lastIndexOf("::"))}$${token}::${name}`);
            return parentUrn;
        });
    });
    return pulumi.output(urn);
}
