import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderSignersFile, renderStartScript, stallLimitSeconds } from "../../stacks/files";

const ADDRESS = "0x" + "ab".repeat(20);

function which(cmd: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

describe("start script", () => {
    it("matches its snapshot", async () => {
        await expect(renderStartScript()).toMatchFileSnapshot("./stacks.snapshots/start.sh");
    });

    it("is shellcheck-clean (POSIX sh)", () => {
        expect(which("shellcheck"), "shellcheck is not installed: apt-get install -y shellcheck").toBe(true);
        const dir = mkdtempSync(join(tmpdir(), "gs-sc-"));
        try {
            writeFileSync(join(dir, "start.sh"), renderStartScript());
            execFileSync("shellcheck", ["-s", "sh", join(dir, "start.sh")]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("run under dash with a stub geth", () => {
        let dir = "";
        afterEach(() => {
            if (dir) rmSync(dir, { recursive: true, force: true });
        });

        const BOOT_IP = "10.0.1.11";
        const ENODE = `enode://${"ab".repeat(64)}@${BOOT_IP}:30301`;
        const OTHER = ["0x" + "cd".repeat(20), "0x" + "ef".repeat(20)];

        /**
         * Lay out config, data, secrets and stub binaries; return a runner. The stub geth's
         * `attach` fails `attachFailures` times before it answers, like a geth still starting.
         */
        function setup(
            hostName: string,
            opts: {
                signers?: string; attachFailures?: number; peers?: string; runSeconds?: number; checks?: number; peerless?: string; limit?: number;
                head?: number; headAdvances?: boolean; stalled?: string; stallLimit?: number;
            } = {},
        ) {
            if (!which("dash")) throw new Error("dash runs the start script as the images' /bin/sh would: apt-get install dash");
            dir = mkdtempSync(join(tmpdir(), "gs-start-"));
            const cfg = join(dir, "cfg"), data = join(dir, "data"), secrets = join(dir, "secrets"), bin = join(dir, "bin"), etc = join(dir, "etc");
            for (const d of [cfg, data, secrets, bin, etc]) mkdirSync(d, { recursive: true });
            writeFileSync(join(etc, "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
            writeFileSync(join(etc, "group"), "root:x:0:\n");
            writeFileSync(join(cfg, "genesis.json"), "{}\n");
            writeFileSync(join(cfg, "signers"), opts.signers ?? renderSignersFile([{ host: "miner-worker", index: 0, address: ADDRESS }]));
            writeFileSync(join(secrets, "signer-0-key"), "k");
            writeFileSync(join(secrets, "signer-0-password"), "p");
            writeFileSync(join(dir, "attach-failures"), String(opts.attachFailures ?? 0));
            writeFileSync(join(dir, "peers"), opts.peers ?? "");
            if (opts.peerless !== undefined) writeFileSync(join(data, "geth-swarm-peerless"), opts.peerless);
            if (opts.stalled !== undefined) writeFileSync(join(data, "geth-swarm-stalled"), opts.stalled);
            if (opts.head !== undefined) writeFileSync(join(dir, "head"), String(opts.head));
            if (opts.headAdvances) writeFileSync(join(dir, "head-advances"), "");
            // Stub geth: log every call; `init` creates chaindata, `account import` a keystore
            // file, `attach --exec net.peerCount` prints the peers file, `attach --exec
            // eth.blockNumber` the head file (one higher each time with head-advances), another `attach` fails
            // while attach-failures is above 0. Geth itself runs until the watchdog has made
            // `checks` peer checks (when above 0), at most runSeconds (0: exits at once), and
            // exits 143 on SIGTERM.
            writeFileSync(
                join(bin, "geth"),
                `#!/bin/sh
printf '%s\\n' "$*" >> "${dir}/calls"
if [ "$1" = init ]; then mkdir -p "${data}/geth/chaindata"; exit 0; fi
if [ "$1" = account ]; then mkdir -p "${data}/keystore"; touch "${data}/keystore/UTC--2026-01-01T00-00-00.000000000Z--${ADDRESS.slice(2)}"; exit 0; fi
if [ "$1" = attach ] && [ "$3" = net.peerCount ]; then cat "${dir}/peers"; exit 0; fi
if [ "$1" = attach ] && [ "$3" = eth.blockNumber ]; then
    if [ -f "${dir}/head" ]; then
        cat "${dir}/head"
        if [ -f "${dir}/head-advances" ]; then echo $(($(cat "${dir}/head") + 1)) > "${dir}/head"; fi
    fi
    exit 0
fi
if [ "$1" = attach ]; then
    left="$(cat "${dir}/attach-failures")"
    if [ "$left" -gt 0 ]; then echo $((left - 1)) > "${dir}/attach-failures"; exit 1; fi
    exit 0
fi
trap 'kill "$nap" 2>/dev/null; echo terminated >> "${dir}/calls"; exit 143' TERM
i=0
while [ "$i" -lt ${Math.round((opts.runSeconds ?? 0) * 20)} ]; do
    if [ ${opts.checks ?? 0} -gt 0 ] && [ "$(grep -c net.peerCount "${dir}/calls")" -ge ${opts.checks ?? 0} ]; then exit 0; fi
    sleep 0.05 & nap=$!
    wait "$nap"
    i=$((i + 1))
done
exit 0
`,
            );
            writeFileSync(join(bin, "hostname"), `#!/bin/sh\necho ${hostName}\n`);
            // Stub chown: logged, not done. Stub su: logs the user, then runs the command as
            // busybox su would (`su -s SH -c CMD -- USER ARG0 ARGS...`), without switching.
            writeFileSync(join(bin, "chown"), `#!/bin/sh\nprintf 'chown %s\\n' "$*" >> "${dir}/calls"\n`);
            writeFileSync(
                join(bin, "su"),
                `#!/bin/sh
[ "$1 $2 $3 $5" = "-s /bin/sh -c --" ] || { echo "stub su: unexpected arguments: $*" >&2; exit 97; }
cmd="$4"; user="$6"; shift 6
printf 'su %s\\n' "$user" >> "${dir}/calls"
exec /bin/sh -c "$cmd" "$@"
`,
            );
            chmodSync(join(bin, "chown"), 0o755);
            chmodSync(join(bin, "su"), 0o755);
            // Stub ip: this host's route to the bootnode leaves from 10.0.3.7; no route elsewhere.
            writeFileSync(join(bin, "ip"), `#!/bin/sh\n[ "$*" = "route get ${BOOT_IP}" ] && echo "${BOOT_IP} via 10.0.3.1 dev eth0 src 10.0.3.7 uid 0"\n`);
            chmodSync(join(bin, "ip"), 0o755);
            chmodSync(join(bin, "geth"), 0o755);
            chmodSync(join(bin, "hostname"), 0o755);
            writeFileSync(join(dir, "start.sh"), renderStartScript({ configDir: cfg, dataDir: data, secretsDir: secrets, etcDir: etc, peerCheckSeconds: 0.2, peerlessLimitSeconds: opts.limit ?? 1, stallLimitSeconds: opts.stallLimit ?? 60 }));
            // spawnSync returns once every holder of the script's stderr is gone: the
            // background proposals included.
            const run = (...args: string[]) =>
                spawnSync("dash", [join(dir, "start.sh"), ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" });
            const calls = () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : []);
            return { run, calls, data, cfg, secrets, etc };
        }

        it("node: init on first start only, advertises the source address of its route to the bootnode, passes the flags through", () => {
            const { run, calls, data } = setup("worker");
            const first = run("node", "--networkid", "4242", "--bootnodes", ENODE, "--http");
            expect(first.status).toBe(0);
            expect(first.stderr).toContain(`host worker advertises 10.0.3.7 (its route to the bootnode ${BOOT_IP})`);
            expect(calls()).toEqual([
                `init --datadir ${data} ${dir}/cfg/genesis.json`,
                `chown -R 10001:10001 ${data}`,
                "su gethswarm",
                `--datadir ${data} --nat extip:10.0.3.7 --networkid 4242 --bootnodes ${ENODE} --http`,
            ]);
            expect(run("node", "--networkid", "4242", "--bootnodes", ENODE).status).toBe(0);
            expect(calls().filter((c) => c.startsWith("init"))).toHaveLength(1);
            // The datadir keeps its own record of the init: one line, whatever became of the container.
            const record = readFileSync(join(data, "geth-swarm-inits"), "utf8").trim().split("\n");
            expect(record).toHaveLength(1);
            expect(record[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ initialised from ${dir}/cfg/genesis\\.json$`));
        });

        it("node with no route to the bootnode falls back to --nat any and says so", () => {
            const { run, calls } = setup("stranger");
            const r = run("node", "--bootnodes", `enode://${"ab".repeat(64)}@192.0.2.9:30301`);
            expect(r.status).toBe(0);
            expect(r.stderr).toContain("host stranger has no route to the bootnode (192.0.2.9); advertising with --nat any");
            expect(calls().find((c) => c.startsWith("--datadir"))).toContain("--nat any");
        });

        it("node without --bootnodes falls back to --nat any and says so", () => {
            const { run, calls } = setup("worker");
            const r = run("node", "--networkid", "4242");
            expect(r.status).toBe(0);
            expect(r.stderr).toContain("has no route to the bootnode (no --bootnodes enode)");
            expect(calls().find((c) => c.startsWith("--datadir"))).toContain("--nat any");
        });

        it("miner: imports its signer key once, then seals with it; the only signer proposes nobody", () => {
            const { run, calls, data, secrets } = setup("miner-worker");
            expect(run("miner", "--networkid", "4242", "--bootnodes", ENODE).status).toBe(0);
            expect(run("miner", "--networkid", "4242", "--bootnodes", ENODE).status).toBe(0);
            const c = calls();
            expect(c.filter((x) => x.startsWith("account import"))).toEqual([
                `account import --datadir ${data} --password ${secrets}/signer-0-password ${secrets}/signer-0-key`,
            ]);
            expect(c[c.length - 1]).toBe(
                `--datadir ${data} --nat extip:10.0.3.7 --networkid 4242 --bootnodes ${ENODE} --mine --miner.etherbase ${ADDRESS} --unlock ${ADDRESS} --password ${secrets}/signer-0-password`,
            );
            expect(c.some((x) => x.includes("clique.propose"))).toBe(false);
            expect(readdirSync(join(data, "keystore"))).toHaveLength(1);
        });

        it("miner: proposes every other planned signer over IPC once geth answers, not itself, nothing malformed", () => {
            const signers =
                renderSignersFile([
                    { host: "miner-worker", index: 0, address: ADDRESS },
                    { host: "miner-worker-2", index: 1, address: OTHER[0] },
                    { host: "miner-worker-3", index: 2, address: OTHER[1] },
                ]) + "evil 3 0x$(touch${IFS}/tmp/x)\nshort 4 0xabc\n";
            const { run, calls, data } = setup("miner-worker", { signers, attachFailures: 2 });
            const r = run("miner", "--bootnodes", ENODE);
            expect(r.status).toBe(0);
            const attaches = calls().filter((x) => x.startsWith("attach --exec clique.propose"));
            const propose = (a: string) => `attach --exec clique.propose('${a}', true) ${data}/geth.ipc`;
            // Two failed tries (geth not answering yet), then one proposal per other signer.
            expect(attaches).toEqual([propose(OTHER[0]), propose(OTHER[0]), propose(OTHER[0]), propose(OTHER[1])]);
            expect(r.stderr).toContain(`proposed signer ${OTHER[0]} (clique.propose)`);
            expect(r.stderr).toContain(`proposed signer ${OTHER[1]} (clique.propose)`);
            // geth itself was started (exec) with this host's own signer.
            expect(calls().some((x) => x.includes(`--mine --miner.etherbase ${ADDRESS}`))).toBe(true);
        });

        it("adds the unprivileged user once, hands it the datadir on every start, then runs geth as it (node and miner)", () => {
            const { run, calls, data, etc } = setup("miner-worker");
            expect(run("node", "--bootnodes", ENODE).status).toBe(0);
            expect(run("miner", "--bootnodes", ENODE).status).toBe(0);
            expect(readFileSync(join(etc, "passwd"), "utf8")).toBe(`root:x:0:0:root:/root:/bin/sh\ngethswarm:x:10001:10001:geth-swarm:${data}:/sbin/nologin\n`);
            expect(readFileSync(join(etc, "group"), "utf8")).toBe("root:x:0:\ngethswarm:x:10001:\n");
            // Root's work first (the miner's key import included), then the handover, then geth as the user.
            const steps = calls()
                .map((x) => x.split(" ")[0])
                .filter((x) => ["account", "chown", "su", "--datadir"].includes(x));
            expect(steps).toEqual(["chown", "su", "--datadir", "account", "chown", "su", "--datadir"]);
            expect(calls().filter((x) => x.startsWith("chown"))).toEqual([`chown -R 10001:10001 ${data}`, `chown -R 10001:10001 ${data}`]);
            expect(calls().filter((x) => x.startsWith("su"))).toEqual(["su gethswarm", "su gethswarm"]);
        });

        describe("peer watchdog", () => {
            const peerCount = (data: string) => `attach --exec net.peerCount ${data}/geth.ipc`;
            const stopLine = (limit: number, restart: number) =>
                new RegExp(`no peer for \\d+ s \\(limit ${limit} s\\): stopping geth, so that the swarm restarts it and it bootstraps its discovery again \\(peerless restart ${restart} in a row\\)`);
            const peerless = (data: string) => readFileSync(join(data, "geth-swarm-peerless"), "utf8").trim();

            it.each(["node", "miner"])("%s: geth with no peer for the limit is stopped (SIGTERM), and the restart is counted", (role) => {
                const { run, calls, data } = setup("miner-worker", { peers: "0", runSeconds: 30 });
                const t = Date.now();
                const r = run(role, "--bootnodes", ENODE);
                // The stub geth exits 143 on SIGTERM only; left alone it would run 30 s and exit 0.
                expect(r.status).toBe(143);
                expect(Date.now() - t).toBeLessThan(30_000);
                expect(r.stderr).toContain("peer watchdog: geth is stopped after 1 s with no peer (peerless restarts in a row: 0)");
                expect(r.stderr).toMatch(stopLine(1, 1));
                expect(calls()).toContain(peerCount(data));
                expect(calls()[calls().length - 1]).toBe("terminated");
                expect(peerless(data)).toBe("1");
            });

            it("a peer resets the count of peerless restarts, and geth runs on", () => {
                const { run, calls, data } = setup("worker", { peers: "2", runSeconds: 30, checks: 1, peerless: "5" });
                const r = run("node", "--bootnodes", ENODE);
                expect(r.status).toBe(0);
                expect(r.stderr).not.toContain("no peer for");
                expect(calls()).toContain(peerCount(data));
                expect(calls()).not.toContain("terminated");
                expect(peerless(data)).toBe("0");
            });

            it("a check geth does not answer counts as neither peers nor none", () => {
                // The stub's net.peerCount prints nothing: as when geth's IPC is not up yet. Eight
                // checks 0.2 s apart span more than the 1 s limit.
                const { run, calls, data } = setup("worker", { peers: "", runSeconds: 30, checks: 8 });
                const r = run("node", "--bootnodes", ENODE);
                expect(r.status).toBe(0);
                expect(calls().filter((c) => c === peerCount(data)).length).toBeGreaterThanOrEqual(8);
                expect(r.stderr).not.toContain("no peer for");
                expect(existsSync(join(data, "geth-swarm-peerless"))).toBe(false);
            });

            it("after 3 peerless restarts in a row the limit doubles with each, up to 960 s", () => {
                const limits = (peerlessBefore: string, limit: number) => {
                    const { run } = setup("worker", { peers: "2", peerless: peerlessBefore, limit });
                    const m = /geth is stopped after (\d+) s with no peer/.exec(run("node", "--bootnodes", ENODE).stderr);
                    rmSync(dir, { recursive: true, force: true });
                    return Number(m?.[1]);
                };
                expect([["0", 60], ["3", 60], ["4", 60], ["5", 60], ["6", 60], ["40", 60], ["4", 700], ["junk", 60]].map(([p, l]) => limits(String(p), Number(l)))).toEqual([
                    60, 60, 120, 240, 480, 960, 960, 60,
                ]);
            });

            it("stops geth after the backed-off limit", () => {
                const { run, data } = setup("worker", { peers: "0", runSeconds: 30, peerless: "4" });
                const r = run("node", "--bootnodes", ENODE);
                expect(r.status).toBe(143);
                expect(r.stderr).toMatch(stopLine(2, 5));
                expect(peerless(data)).toBe("5");
            });
        });

        describe("head watchdog (miner)", () => {
            const blockNumber = (data: string) => `attach --exec eth.blockNumber ${data}/geth.ipc`;
            const stalled = (data: string) => readFileSync(join(data, "geth-swarm-stalled"), "utf8").trim();
            const stopLine = (head: number, limit: number, restart: number) =>
                new RegExp(`head #${head} for \\d+ s with 2 peer\\(s\\) \\(limit ${limit} s\\): stopping geth, so that the swarm restarts it and its peers sync to the heaviest chain \\(stalled restart ${restart} in a row\\)`);

            it("a miner with peers whose head stays put for the limit is stopped (SIGTERM), and the restart is counted", () => {
                const { run, calls, data } = setup("miner-worker", { peers: "2", head: 1, stallLimit: 1, runSeconds: 30 });
                const t = Date.now();
                const r = run("miner", "--bootnodes", ENODE);
                expect(r.status).toBe(143);
                expect(Date.now() - t).toBeLessThan(30_000);
                expect(r.stderr).toContain("head watchdog: geth is stopped after 1 s on one head with peers (stalled restarts in a row: 0)");
                expect(r.stderr).toMatch(stopLine(1, 1, 1));
                expect(r.stderr).not.toContain("no peer for");
                expect(calls()).toContain(blockNumber(data));
                expect(calls()[calls().length - 1]).toBe("terminated");
                expect(stalled(data)).toBe("1");
            });

            it("a head that moves resets the count, and geth runs on", () => {
                // Eight checks 0.2 s apart span more than the 1 s limit; the head moves at each.
                const { run, data } = setup("miner-worker", { peers: "2", head: 1, headAdvances: true, stallLimit: 1, stalled: "5", runSeconds: 30, checks: 8 });
                const r = run("miner", "--bootnodes", ENODE);
                expect(r.status).toBe(0);
                expect(r.stderr).toContain("stalled restarts in a row: 5");
                expect(r.stderr).not.toContain("stopping geth");
                expect(stalled(data)).toBe("0");
            });

            it("a node is not watched on its head: a halted chain (its only signer down) restarts no node", () => {
                const { run, calls, data } = setup("worker", { peers: "2", head: 1, stallLimit: 1, runSeconds: 30, checks: 8 });
                const r = run("node", "--bootnodes", ENODE);
                expect(r.status).toBe(0);
                expect(calls()).not.toContain(blockNumber(data));
                expect(r.stderr).not.toContain("head watchdog");
                expect(existsSync(join(data, "geth-swarm-stalled"))).toBe(false);
            });

            it("the head is not watched while geth has no peer (that is the peer watchdog's)", () => {
                const { run, calls, data } = setup("miner-worker", { peers: "0", head: 1, stallLimit: 1, limit: 3, runSeconds: 30 });
                const r = run("miner", "--bootnodes", ENODE);
                expect(r.status).toBe(143);
                expect(calls()).not.toContain(blockNumber(data));
                expect(r.stderr).toMatch(/no peer for \d+ s \(limit 3 s\)/);
                expect(existsSync(join(data, "geth-swarm-stalled"))).toBe(false);
            });

            it("backs off as the peer watchdog does: after 3 stalled restarts in a row the limit doubles with each", () => {
                const { run, data } = setup("miner-worker", { peers: "2", head: 7, stallLimit: 1, stalled: "5", runSeconds: 30 });
                const r = run("miner", "--bootnodes", ENODE);
                expect(r.status).toBe(143);
                expect(r.stderr).toContain("head watchdog: geth is stopped after 4 s on one head with peers (stalled restarts in a row: 5)");
                expect(r.stderr).toMatch(stopLine(7, 4, 6));
                expect(stalled(data)).toBe("6");
            });
        });

        it("miner on a host without a signer refuses to start; a bad role is refused", () => {
            const { run, calls } = setup("worker");
            const r = run("miner");
            expect(r.status).toBe(1);
            expect(r.stderr).toContain("host worker has no signer");
            expect(calls().some((c) => c.includes("--mine"))).toBe(false);
            expect(run("bootnode").status).toBe(2);
        });
    });
});

describe("signer map", () => {
    it("the stalled-head limit is 6 block periods, at least 60 s, and shows in the script", () => {
        expect([1, 2, 5, 10, 11, 15, 286].map(stallLimitSeconds)).toEqual([60, 60, 60, 60, 66, 90, 1716]);
        expect(renderStartScript({ stallLimitSeconds: 90 })).toContain('stall_limit="$(backoff 90 "$stalls" 960)"');
        expect(renderStartScript({ stallLimitSeconds: 1716 })).toContain('stall_limit="$(backoff 1716 "$stalls" 1716)"');
        expect(() => renderStartScript({ stallLimitSeconds: 0 })).toThrow(/stallLimitSeconds a positive integer/);
    });

    it("lists signers sorted by host name, addresses lower case", () => {
        expect(
            renderSignersFile([
                { host: "m", index: 1, address: "0xABCDEF" + "0".repeat(34) },
                { host: "a", index: 0, address: ADDRESS },
            ]).split("\n").slice(1),
        ).toEqual([`a 0 ${ADDRESS}`, `m 1 0xabcdef${"0".repeat(34)}`, ""]);
    });
});
