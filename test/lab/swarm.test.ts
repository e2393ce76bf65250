// Smoke test of the lab harness itself: a real 3-host swarm on this machine, the locally
// built geth images, host-mode published ports (TCP and UDP) reachable on each host's own
// address, and a teardown that leaves nothing behind. Runs as root: `npm run test:lab`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SwarmNetworkNotFoundError, swarmNetworkId } from "../../components/swarm/networks";
import { swarmNetworkIdProvider } from "../../components/swarm/resources";
import { describeLeftovers, isEmpty, labOwner, listLeftovers } from "./cleanup";
import { run } from "./exec";
import { Lab, startLab, waitFor } from "./hosts";
import { BOOTNODE_ENODE_LINE, discv4Ping, httpGet, nodeIdOf } from "./probes";
import { BRIDGE, IPTABLES_COMMENT, NETNS_PREFIX } from "./paths";

const BOOTNODE_KEY = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

let lab: Lab | undefined;
afterAll(async () => {
    await lab?.teardown();
});

async function assertNothingLeft() {
    const left = await listLeftovers();
    expect(isEmpty(left), describeLeftovers(left)).toBe(true);
    // The same, the way a person would look.
    const netns = (await run("ip", ["netns", "list"])).stdout;
    expect(netns.split("\n").filter((l) => l.startsWith(NETNS_PREFIX))).toEqual([]);
    expect((await run("ip", ["link", "show", BRIDGE], { allowFailure: true })).code).not.toBe(0);
    expect((await run("iptables", ["-w", "-S"])).stdout).not.toContain(IPTABLES_COMMENT);
    const ps = (await run("ps", ["-eo", "pid,args"])).stdout;
    expect(ps.split("\n").filter((l) => /dockerd|containerd/.test(l) && l.includes("geth-swarm-lab"))).toEqual([]);
    expect(fs.readFileSync("/proc/self/mountinfo", "utf8")).not.toContain("geth-swarm-lab");
}

async function readyNodes(l: Lab) {
    const out = (await l.docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}}"])).stdout;
    return out.trim().split("\n").sort();
}

const smokeCompose = (geth: string, alltools: string) => `version: "3.8"
services:
  probe:
    image: ${geth}
    entrypoint: ["sh", "-c"]
    command:
      - "mkdir -p /tmp/www && { echo host=$$NODE_HOSTNAME; geth version; } > /tmp/www/index.html && exec httpd -f -p 8545 -h /tmp/www"
    environment:
      NODE_HOSTNAME: "{{.Node.Hostname}}"
    ports:
      - { target: 8545, published: 8545, protocol: tcp, mode: host }
    stop_grace_period: 1s
    deploy:
      mode: global
  bootnode:
    image: ${alltools}
    command: ["bootnode", "-nodekey", "/run/secrets/bootnode_key", "-addr", ":30301"]
    secrets: [bootnode_key]
    stop_grace_period: 1s
    ports:
      - { target: 30301, published: 30301, protocol: udp, mode: host }
    deploy:
      placement:
        constraints: ["node.hostname == worker"]
secrets:
  bootnode_key:
    file: ./bootnode.key
`;

describe("lab harness", () => {
    it("rejects bad host counts before touching the machine", async () => {
        await expect(startLab({ hostCount: 10 })).rejects.toThrow(/hostCount must be 1\.\.9/);
        await expect(startLab({ hosts: [{ name: "worker", role: "worker" }] })).rejects.toThrow(/first lab host must be a manager/);
    });

    let firstNodeIds: string[] = [];

    it("stands up 3 hosts that form a swarm with 3 Ready nodes named after the hosts", async () => {
        lab = await startLab({ hostCount: 3 });
        console.log(`lab setup timings (s): ${JSON.stringify(lab.timings)}; images ${lab.images.cached ? "cached" : "built"}: ${JSON.stringify(lab.images.timings)}`);
        expect(lab.hosts.map((h) => [h.name, h.hostname, h.role])).toEqual([
            ["manager", "manager", "manager"],
            ["worker", "worker", "worker"],
            ["miner-worker", "miner-worker", "worker"],
        ]);
        expect(new Set(lab.hosts.map((h) => h.ip)).size).toBe(3);
        expect(lab.managerSocket).toBe(lab.hosts[0].socketPath);
        expect(await readyNodes(lab)).toEqual(["manager Ready Active", "miner-worker Ready Active", "worker Ready Active"]);
        // Each engine knows itself under its own hostname, and has the images.
        for (const h of lab.hosts) {
            const info = (await h.docker.info()) as { Name: string; Swarm: { NodeID: string; LocalNodeState: string } };
            expect(info.Name).toBe(h.hostname);
            expect(info.Swarm).toMatchObject({ NodeID: h.nodeId, LocalNodeState: "active" });
            const tags = (await h.docker.listImages()).flatMap((i) => i.RepoTags ?? []);
            expect(tags).toEqual(expect.arrayContaining([lab.images.geth, lab.images.alltools]));
        }
        firstNodeIds = lab.hosts.map((h) => h.nodeId);
    });

    it("reads the host network's swarm ID that a service spec stores, so a repeated pulumi up sees no change", async () => {
        const l = lab!;
        const d = l.manager.docker;
        // What the stacks give their services: the ID the SwarmNetworkId provider reads from the manager.
        const created = await swarmNetworkIdProvider.create({ endpoint: { host: `unix://${l.managerSocket}` }, name: "host", timeoutSeconds: 30 });
        const hostId = created.outs!.networkId;
        console.log(`host network: swarm ID ${hostId}`);
        expect(hostId).toMatch(/^[0-9a-z]{25}$/);
        expect(created.id).toBe(hostId);
        expect(await swarmNetworkId(d, "host", { timeoutMs: 10_000 })).toBe(hostId);
        // Not the engine's local host network, which is what `docker network inspect host` shows.
        const local = (await l.docker(["network", "inspect", "host", "--format", "{{.Id}} {{.Scope}}"])).stdout.trim();
        console.log(`host network: local ID on the manager ${local}`);
        expect(local).toMatch(/^[0-9a-f]{64} local$/);
        expect(local.split(" ")[0]).not.toBe(hostId);
        // A worker has no swarm networks: a bounded error naming it.
        const onWorker = await swarmNetworkId(l.host("worker").docker, "host", { timeoutMs: 1_500, manager: "worker" }).catch((e: Error) => e);
        expect(onWorker).toBeInstanceOf(SwarmNetworkNotFoundError);
        expect((onWorker as Error).message).toMatch(/^worker: no swarm network host within 1\.5s; last seen: .*404.*is it a swarm manager\?/);

        // A stack's own overlay network: the ID its creation returns (a docker.Network's id).
        const net = (await d.createNetwork({ Name: "idcheck_net", Driver: "overlay", Attachable: true })) as { id: string };
        expect(await swarmNetworkId(d, "idcheck_net", { timeoutMs: 10_000 })).toBe(net.id);

        const targets = async (service: string) => {
            const spec = (await d.getService(service).inspect()) as { Spec: { TaskTemplate: { Networks?: { Target: string }[] } } };
            return spec.Spec.TaskTemplate.Networks?.map((n) => n.Target);
        };
        const service = (name: string, network: string) =>
            d.createService({
                Name: name,
                TaskTemplate: { ContainerSpec: { Image: l.images.geth, Args: ["version"] }, Networks: [{ Target: network }], RestartPolicy: { Condition: "none" } },
                Mode: { Replicated: { Replicas: 0 } },
            });
        try {
            // By name, as compose and the CLI send it; by the IDs, as the provider sends them now.
            await l.docker(["service", "create", "--detach", "--name", "idcheck_cli", "--network", "host", "--replicas", "0", l.images.geth, "version"]);
            await service("idcheck_byname", "host");
            await service("idcheck_byid", hostId);
            await service("idcheck_overlay", net.id);
            const stored = {
                cli: await targets("idcheck_cli"),
                byName: await targets("idcheck_byname"),
                byId: await targets("idcheck_byid"),
                overlay: await targets("idcheck_overlay"),
            };
            console.log(`stored network targets: ${JSON.stringify(stored)}`);
            // The swarm stores the swarm ID whatever it was given: the provider, given that ID,
            // reads back exactly what it sent (given the name "host", it would read back a
            // different value and replace the service on every update).
            expect(stored).toEqual({ cli: [hostId], byName: [hostId], byId: [hostId], overlay: [net.id] });
            expect(stored.byName).not.toContain("host");
        } finally {
            for (const s of ["idcheck_cli", "idcheck_byname", "idcheck_byid", "idcheck_overlay"]) await l.docker(["service", "rm", s], { allowFailure: true });
            await waitFor("the id-check services to go", async () => ((await l.docker(["service", "ls", "-q"])).stdout.trim() === "" ? true : undefined), 60_000);
            await d.getNetwork("idcheck_net").remove();
        }
    });

    it("runs a global host-mode service on every host and a bootnode whose UDP port answers on its host only", async () => {
        const l = lab!;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gsl-smoke-"));
        try {
            fs.writeFileSync(path.join(dir, "bootnode.key"), `${BOOTNODE_KEY}\n`, { mode: 0o600 });
            await l.deployCompose("smoke", smokeCompose(l.images.geth, l.images.alltools), { cwd: dir });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }

        // One running probe task per host.
        const byNode = await waitFor(
            "a running probe task on every host",
            async () => {
                const tasks = (await l.manager.docker.listTasks({ filters: { service: ["smoke_probe"], "desired-state": ["running"] } })) as Array<{ NodeID: string; Status: { State: string } }>;
                const running = tasks.filter((t) => t.Status.State === "running").map((t) => t.NodeID);
                return running.length === l.hosts.length ? running.sort() : undefined;
            },
            120_000,
        );
        expect(byNode).toEqual(l.hosts.map((h) => h.nodeId).sort());

        // TCP 8545, host mode: each host's own address answers with that host's task.
        for (const h of l.hosts) {
            const res = await waitFor(`HTTP on ${h.name} ${h.ip}:8545`, () => httpGet(h.ip, 8545), 60_000);
            expect(res.status).toBe(200);
            expect(res.body).toContain(`host=${h.hostname}\n`);
            expect(res.body).toMatch(/Version: 1\.13\.15-stable/);
        }
        // ... and from another host's namespace too.
        const fromManager = await l.onHost("manager", "busybox", ["wget", "-q", "-O", "-", `http://${l.host("miner-worker").ip}:8545/`]);
        expect(fromManager.stdout).toContain("host=miner-worker");

        // UDP 30301, host mode, on the worker only: a discv4 PING gets a PONG signed by the bootnode key.
        const expectedId = nodeIdOf(BOOTNODE_KEY);
        const pong = await waitFor("discv4 PONG from the bootnode", () => discv4Ping(l.host("worker").ip, 30301, { attempts: 2 }), 60_000);
        expect(pong.nodeId).toBe(expectedId);
        await expect(discv4Ping(l.host("miner-worker").ip, 30301, { attempts: 2, timeoutMs: 1_000 })).rejects.toThrow(/no discv4 PONG/);

        // The bootnode prints its enode URL; `docker service logs` carries it.
        const logs = await waitFor(
            "the bootnode's enode line in the service logs",
            async () => {
                const r = await l.docker(["service", "logs", "--raw", "smoke_bootnode"]);
                const all = r.stdout + r.stderr;
                return BOOTNODE_ENODE_LINE.test(all) ? all : undefined;
            },
            60_000,
        );
        const m = BOOTNODE_ENODE_LINE.exec(logs)!;
        expect(m[1]).toBe(expectedId);
        expect(m[0]).toBe(`enode://${expectedId}@127.0.0.1:0?discport=30301`);

        await l.removeStack("smoke");
        expect((await l.docker(["service", "ls", "-q"])).stdout.trim()).toBe("");
    });

    it("tears down leaving nothing behind", async () => {
        const t = Date.now();
        await lab!.teardown();
        console.log(`lab teardown: ${((Date.now() - t) / 1000).toFixed(1)} s`);
        lab = undefined;
        await assertNothingLeft();
        expect(labOwner()).toBeUndefined();
    });

    it("starts clean right after: a fresh swarm with no trace of the first", async () => {
        lab = await startLab({ hostCount: 3 });
        console.log(`second lab setup: ${lab.timings.totalSeconds.toFixed(1)} s`);
        expect(await readyNodes(lab)).toEqual(["manager Ready Active", "miner-worker Ready Active", "worker Ready Active"]);
        for (const h of lab.hosts) expect(firstNodeIds).not.toContain(h.nodeId);
        expect((await lab.docker(["service", "ls", "-q"])).stdout.trim()).toBe("");
        await lab.teardown();
        lab = undefined;
        await assertNothingLeft();
    });

    it("cleans up, at the next start, a lab whose process was killed with SIGKILL", async () => {
        const fixture = path.join(__dirname, "fixtures", "interrupted-run.ts");
        const child = spawn(process.execPath, ["--import", "tsx", fixture], { cwd: path.join(__dirname, "..", ".."), stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const exited = new Promise<void>((r) => child.on("exit", () => r()));
        const up = await waitFor("the interrupted run to be up", async () => (out.includes("READY") ? "up" : child.exitCode !== null ? `exited: ${out}` : undefined), 300_000);
        expect(up).toBe("up");
        child.kill("SIGKILL");
        await exited;

        const left = await listLeftovers();
        expect(left.processes.some((p) => p.comm === "dockerd")).toBe(true);
        expect(left.netns.length).toBe(2);
        expect(left.processes.some((p) => p.cmdline.includes("sleep 3600"))).toBe(true);

        lab = await startLab({ hostCount: 3 });
        expect(await readyNodes(lab)).toEqual(["manager Ready Active", "miner-worker Ready Active", "worker Ready Active"]);
        expect((await lab.docker(["service", "ls", "-q"])).stdout.trim()).toBe("");
        for (const h of lab.hosts) expect(await h.docker.listContainers({ all: true })).toEqual([]);
        await lab.teardown();
        lab = undefined;
        await assertNothingLeft();
    });
});
