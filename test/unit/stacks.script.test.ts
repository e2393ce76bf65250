import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderHostsFile, renderSignersFile, renderStartScript } from "../../stacks/files";

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

        /** Lay out config, data, secrets and stub binaries; return a runner. */
        function setup(hostName: string) {
            if (!which("dash")) throw new Error("dash runs the start script as the images' /bin/sh would: apt-get install dash");
            dir = mkdtempSync(join(tmpdir(), "gs-start-"));
            const cfg = join(dir, "cfg"), data = join(dir, "data"), secrets = join(dir, "secrets"), bin = join(dir, "bin");
            for (const d of [cfg, data, secrets, bin]) mkdirSync(d, { recursive: true });
            writeFileSync(join(cfg, "genesis.json"), "{}\n");
            writeFileSync(join(cfg, "hosts"), renderHostsFile([{ name: "worker", privateIp: "10.0.1.11" }, { name: "miner-worker", privateIp: "10.0.2.12" }]));
            writeFileSync(join(cfg, "signers"), renderSignersFile([{ host: "miner-worker", index: 0, address: ADDRESS }]));
            writeFileSync(join(secrets, "signer-0-key"), "k");
            writeFileSync(join(secrets, "signer-0-password"), "p");
            // Stub geth: log every call; `init` creates chaindata, `account import` a keystore file.
            writeFileSync(
                join(bin, "geth"),
                `#!/bin/sh
printf '%s\\n' "$*" >> "${dir}/calls"
if [ "$1" = init ]; then mkdir -p "${data}/geth/chaindata"; fi
if [ "$1" = account ]; then mkdir -p "${data}/keystore"; touch "${data}/keystore/UTC--2026-01-01T00-00-00.000000000Z--${ADDRESS.slice(2)}"; fi
exit 0
`,
            );
            writeFileSync(join(bin, "hostname"), `#!/bin/sh\necho ${hostName}\n`);
            // Stub ip: this host's route to 10.0.1.11 leaves from 10.0.3.7.
            writeFileSync(join(bin, "ip"), `#!/bin/sh\n[ "$*" = "route get 10.0.1.11" ] && echo "10.0.1.11 via 10.0.3.1 dev eth0 src 10.0.3.7 uid 0"\n`);
            chmodSync(join(bin, "ip"), 0o755);
            chmodSync(join(bin, "geth"), 0o755);
            chmodSync(join(bin, "hostname"), 0o755);
            writeFileSync(join(dir, "start.sh"), renderStartScript({ configDir: cfg, dataDir: data, secretsDir: secrets }));
            const run = (...args: string[]) =>
                spawnSync("dash", [join(dir, "start.sh"), ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" });
            const calls = () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n") : []);
            return { run, calls, data, cfg, secrets };
        }

        it("node: init on first start only, advertises the host's IP, passes the flags through", () => {
            const { run, calls, data } = setup("worker");
            const first = run("node", "--networkid", "4242", "--http");
            expect(first.status).toBe(0);
            expect(calls()).toEqual([
                `init --datadir ${data} ${dir}/cfg/genesis.json`,
                `--datadir ${data} --nat extip:10.0.1.11 --networkid 4242 --http`,
            ]);
            expect(run("node", "--networkid", "4242").status).toBe(0);
            expect(calls().filter((c) => c.startsWith("init"))).toHaveLength(1);
        });

        it("node on an unlisted host advertises the source address of its route to the bootnode", () => {
            const { run, calls } = setup("stranger");
            const enode = `enode://${"ab".repeat(64)}@10.0.1.11:30301`;
            const r = run("node", "--bootnodes", enode);
            expect(r.status).toBe(0);
            expect(r.stderr).toContain("host stranger is not listed in");
            expect(r.stderr).toContain("advertising 10.0.3.7 (its route to the bootnode)");
            expect(calls()[1]).toBe(`--datadir ${calls()[0].split(" ")[2]} --nat extip:10.0.3.7 --bootnodes ${enode}`);
        });

        it("node on an unlisted host with no route to the bootnode falls back to --nat any and says so", () => {
            const { run, calls } = setup("stranger");
            const r = run("node", "--bootnodes", `enode://${"ab".repeat(64)}@192.0.2.9:30301`);
            expect(r.status).toBe(0);
            expect(r.stderr).toContain("has no route to the bootnode; advertising with --nat any");
            expect(calls()[1]).toContain("--nat any");
        });

        it("miner: imports its signer key once, then seals with it", () => {
            const { run, calls, data, secrets } = setup("miner-worker");
            expect(run("miner", "--networkid", "4242").status).toBe(0);
            expect(run("miner", "--networkid", "4242").status).toBe(0);
            const c = calls();
            expect(c.filter((x) => x.startsWith("account import"))).toEqual([
                `account import --datadir ${data} --password ${secrets}/signer-0-password ${secrets}/signer-0-key`,
            ]);
            expect(c[c.length - 1]).toBe(
                `--datadir ${data} --nat extip:10.0.2.12 --networkid 4242 --mine --miner.etherbase ${ADDRESS} --unlock ${ADDRESS} --password ${secrets}/signer-0-password`,
            );
            expect(readdirSync(join(data, "keystore"))).toHaveLength(1);
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

describe("host and signer maps", () => {
    it("list hosts and signers sorted by name, addresses lower case", () => {
        expect(renderHostsFile([{ name: "b", privateIp: "10.0.0.2" }, { name: "a", privateIp: "10.0.0.1" }]).split("\n").slice(1)).toEqual([
            "a 10.0.0.1",
            "b 10.0.0.2",
            "",
        ]);
        expect(renderSignersFile([{ host: "m", index: 1, address: "0xABCDEF" + "0".repeat(34) }]).split("\n")[1]).toBe(`m 1 0xabcdef${"0".repeat(34)}`);
    });
});
