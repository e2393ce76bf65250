// Smoke test of the lab harness itself: a real 3-host swarm on this machine, the locally
// built geth images, host-mode published ports (TCP and UDP) reachable on each host's own
// address, and a teardown that leaves nothing behind. Runs as root: `npm run test:lab`.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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
