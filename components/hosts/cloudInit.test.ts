import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { BOOTSTRAP_ENV_PATH, BOOTSTRAP_PATH, BOOTSTRAP_SCRIPT, bootstrapEnv, CloudInitParams, renderCloudInit, shellQuote, swarmAddressPool } from "./cloudInit";
import { JOINING, LEADER, PARAMETER_NAMES } from "./cloudInit.fixtures";
import { JOIN_TOKEN_PLACEHOLDER } from "./awsSwarmHosts";

const names = PARAMETER_NAMES;
const leader = LEADER;
const worker: CloudInitParams = { ...JOINING, hostname: "miner-worker", role: "worker" };
const manager: CloudInitParams = { ...worker, hostname: "manager-2", role: "manager" };

describe("renderCloudInit", () => {
    it.each([
        ["leader", leader],
        ["manager", manager],
        ["worker", worker],
    ] as const)("renders the %s's user-data (snapshot)", (_, p) => {
        expect(renderCloudInit(p)).toMatchSnapshot();
    });

    it("is a #cloud-config document that writes the settings and the script and runs the script once", () => {
        const text = renderCloudInit(worker);
        expect(text.split("\n")[0]).toBe("#cloud-config");
        const doc = parse(text);
        expect(Object.keys(doc)).toEqual(["hostname", "preserve_hostname", "create_hostname_file", "write_files", "runcmd"]);
        expect(doc.hostname).toBe("miner-worker");
        expect(doc.write_files).toEqual([
            { path: BOOTSTRAP_ENV_PATH, owner: "root:root", permissions: "0600", content: bootstrapEnv(worker) },
            { path: BOOTSTRAP_PATH, owner: "root:root", permissions: "0700", content: BOOTSTRAP_SCRIPT },
        ]);
        expect(doc.runcmd).toEqual([[BOOTSTRAP_PATH]]);
    });

    it.each(["no", "yes", "on", "off", "y", "0b101"])("quotes host name %j, which YAML 1.1 (cloud-init's PyYAML) would not read as a string", (hostname) => {
        const text = renderCloudInit({ ...worker, hostname });
        expect(parse(text, { version: "1.1" }).hostname).toBe(hostname);
        expect(parse(text).hostname).toBe(hostname);
    });

    it("is pure: equal inputs, byte-equal output", () => {
        expect(renderCloudInit({ ...leader })).toBe(renderCloudInit(leader));
    });

    it("gives the TLS settings to the leader only, and the leader's instance id to the others only", () => {
        expect(bootstrapEnv(leader)).toContain("GS_TLS_KEY_PARAM='/geth-swarm/dev/hosts/tls/server-key'");
        expect(bootstrapEnv(leader)).not.toContain("GS_LEADER_INSTANCE");
        expect(bootstrapEnv({ ...worker, parameters: names })).not.toContain("GS_TLS");
        expect(bootstrapEnv(worker)).toContain("GS_LEADER_INSTANCE='i-0123456789abcdef0'");
    });

    it.each([
        [{ hostname: "Bad_Name" }, /hostname "Bad_Name" must be lower-case/],
        [{ leaderAddress: "10.0.0" }, /leaderAddress "10\.0\.0" must be an IPv4 address/],
        [{ swarmAddressPool: "x" }, /swarmAddressPool "x" must be an IPv4 CIDR/],
        [{ parameters: { ...names, tlsKey: undefined } }, /parameters\.tlsKey "" must be an SSM parameter path/],
        [{ parameters: { ...names, workerToken: "/a/b'; rm -rf /" } }, /parameters\.workerToken .* must be an SSM parameter path/],
        [{ joinAttempts: 0 }, /joinAttempts 0 must be from 1 to 1000/],
        [{ leaderInstanceId: "$(id)" }, /leaderInstanceId .* must be an EC2 instance id/],
    ] as [Partial<CloudInitParams>, RegExp][])("refuses %j", (bad, message) => {
        expect(() => renderCloudInit({ ...leader, ...bad })).toThrow(message);
    });
});

describe("helpers", () => {
    it.each([
        ["10.0.0.0/16", "10.200.0.0/16"],
        ["10.0.0.0/8", "172.29.0.0/16"],
        ["10.200.0.0/16", "172.29.0.0/16"],
        ["172.16.0.0/12", "10.200.0.0/16"],
    ])("swarm address pool for VPC %s is %s", (vpc, pool) => {
        expect(swarmAddressPool(vpc)).toBe(pool);
    });

    it("quotes for the shell", () => {
        expect(shellQuote("plain")).toBe("'plain'");
        expect(shellQuote("it's")).toBe(`'it'\\''s'`);
        expect(execFileSync("bash", ["-c", `printf %s ${shellQuote("a'b $(x) \"c\"")}`]).toString()).toBe("a'b $(x) \"c\"");
    });
});

// --- The bootstrap script itself ---------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), "geth-swarm-bootstrap-"));
const scriptPath = join(work, "geth-swarm-bootstrap");
writeFileSync(scriptPath, BOOTSTRAP_SCRIPT, { mode: 0o755 });
const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

describe("the bootstrap script", () => {
    it("is valid bash", () => {
        expect(spawnSync("bash", ["-n", scriptPath]).status).toBe(0);
    });

    // .ci/run installs shellcheck; without it this test fails and says how to get it.
    it("is shellcheck-clean, optional checks included", () => {
        expect(hasShellcheck, "shellcheck is not installed: apt-get install -y shellcheck").toBe(true);
        const r = spawnSync("shellcheck", ["-o", "all", "-s", "bash", scriptPath]);
        expect(r.stdout.toString() + r.stderr.toString()).toBe("");
        expect(r.status).toBe(0);
    });

    it("turns xtrace off before every line that holds a token or the IMDS session token", () => {
        const lines = BOOTSTRAP_SCRIPT.split("\n");
        const secretLines = lines.map((l, i) => [l, i] as const).filter(([l]) => /token="\$\(|"\$\{token\}"|JoinToken/.test(l) && !/^\s*#/.test(l));
        expect(secretLines.length).toBeGreaterThanOrEqual(6);
        for (const [, i] of secretLines) {
            const before = lines.slice(0, i).reverse();
            const lastOff = before.findIndex((l) => l.includes("{ set +x; } 2>/dev/null"));
            const lastOn = before.findIndex((l) => /^\s*set -x\s*$/.test(l));
            expect(lastOff, `line ${i + 1}: ${lines[i]}`).toBeGreaterThanOrEqual(0);
            expect(lastOn === -1 || lastOff < lastOn, `line ${i + 1}: ${lines[i]}`).toBe(true);
        }
    });
});

/**
 * Run the script against stand-in commands (docker, aws, curl, apt-get, systemctl, ...)
 * in a scratch root: proves the flow, the logging and that no secret reaches the log.
 */
function runBootstrap(p: CloudInitParams, opts: { tokenAfter?: number; ssm?: Record<string, string>; imdsDown?: boolean } = {}) {
    const root = mkdtempSync(join(work, `${p.role}-`));
    const bin = join(root, "bin");
    for (const d of ["bin", "etc/geth-swarm", "var/log", "ssm", "state"]) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, "etc/geth-swarm/bootstrap.env"), bootstrapEnv(p));
    const ssmFile = (n: string) => join(root, "ssm", n.replace(/\//g, "_"));
    for (const [k, v] of Object.entries(opts.ssm ?? {})) writeFileSync(ssmFile(k), v);
    const stub = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/bin/bash\nS=${shellQuote(join(root, "state"))}\nSSM=${shellQuote(join(root, "ssm"))}\necho "$(basename "$0") $*" >>"$S/calls"\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
    };
    for (const n of ["apt-get", "systemctl", "snap", "sleep", "logger"]) stub(n, "exit 0");
    stub("apt-cache", "exit 100");
    stub("dockerd", "exit 0");
    // IMDS: the session token must come on stdin (-H @-), never on the command line. The
    // engine's API (--unix-socket): POST /swarm/join with the request on stdin.
    stub(
        "curl",
        `case "$*" in
  *api/token*) ${opts.imdsDown ? 'echo "curl: (28) Operation timed out after 5001 milliseconds with 0 bytes received" >&2; exit 28' : "echo IMDS-SESSION-SECRET"};;
  *--unix-socket*swarm/join*)
    out=""; prev=""; for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done
    cat >"$S/joined"; echo active >"$S/swarm"; : >"$out"; printf 200;;
  *meta-data*)
    [ "$(cat)" = "X-aws-ec2-metadata-token: IMDS-SESSION-SECRET" ] || { echo "curl: (22) 401" >&2; exit 22; }
    case "$*" in *local-ipv4) echo 10.0.0.10;; *placement/region) echo eu-west-1;; *) exit 22;; esac;;
  *) exit 22;;
esac`,
    );
    stub(
        "docker",
        `case "$1 $2" in
  "info --format") cat "$S/swarm" 2>/dev/null || echo inactive;;
  "info ") ;;
  "swarm init") echo active >"$S/swarm"; echo "To add a worker to this swarm, run: docker swarm join --token SWMTKN-1-workersecret 10.0.0.10:2377";;
  "swarm join-token") if [ "$4" = worker ]; then echo SWMTKN-1-workersecret; else echo SWMTKN-1-managersecret; fi;;
  *) exit 0;;
esac`,
    );
    stub(
        "aws",
        `[ "$1 $2" = "--version " ] && { echo aws-cli/2; exit 0; }
name=""; value=""
while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift;; --value) value=$2; shift;; esac; shift; done
f="$SSM/$(echo "$name" | tr / _)"
case "$(sed -n '$p' "$S/calls")" in
  *get-parameter*)
    n=$(grep -c "get-parameter --region eu-west-1 --name $name " "$S/calls")
    if [ -n "${opts.tokenAfter ?? ""}" ] && [ "$n" -le "${opts.tokenAfter ?? 0}" ]; then echo not-yet-published; exit 0; fi
    [ -f "$f" ] || { echo "An error occurred (ParameterNotFound)" >&2; exit 254; }
    cat "$f";;
  *put-parameter*) cp "\${value#file://}" "$f";;
esac`,
    );
    const r = spawnSync("bash", [scriptPath], {
        env: { PATH: `${bin}:${process.env.PATH}`, GETH_SWARM_ROOT: root, GETH_SWARM_CONSOLE: join(root, "console"), HOME: root },
        timeout: 30_000,
    });
    const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
    // tee may still be writing when bash exits
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && !/=== done|FAILED/.test(read(join(root, "var/log/geth-swarm-bootstrap.log")))) execFileSync("sleep", ["0.05"]);
    execFileSync("sleep", ["0.1"]);
    return {
        status: r.status,
        log: read(join(root, "var/log/geth-swarm-bootstrap.log")),
        console: read(join(root, "console")),
        calls: read(join(root, "state/calls")),
        joined: read(join(root, "state/joined")),
        ssm: (n: string) => read(ssmFile(n)),
        root,
    };
}

describe("the bootstrap script, run against stand-in commands", () => {
    const pem = (k: string) => `-----BEGIN ${k}-----\nFAKE\n-----END ${k}-----\n`;

    // As the program creates them: the join-token parameters hold a placeholder until the leader writes them.
    const created = {
        [names.tlsCa]: pem("CERTIFICATE"),
        [names.tlsCert]: pem("CERTIFICATE"),
        [names.tlsKey]: pem("EC PRIVATE KEY"),
        [names.workerToken]: JOIN_TOKEN_PLACEHOLDER,
        [names.managerToken]: JOIN_TOKEN_PLACEHOLDER,
    };

    it("leader: configures TLS from SSM, initialises the swarm, publishes both tokens; no secret in the log", () => {
        const r = runBootstrap(leader, { ssm: created });
        expect(r.status, r.log).toBe(0);
        expect(r.ssm(names.workerToken)).toBe("SWMTKN-1-workersecret");
        expect(r.ssm(names.managerToken)).toBe("SWMTKN-1-managersecret");
        expect(r.calls).toContain("docker swarm init --advertise-addr 10.0.0.10 --default-addr-pool 10.200.0.0/16");
        const dropin = readFileSync(join(r.root, "etc/systemd/system/docker.service.d/geth-swarm-tls.conf"), "utf8");
        expect(dropin).toBe(
            `[Service]\nExecStart=\nExecStart=${join(r.root, "bin", "dockerd")} -H fd:// -H tcp://0.0.0.0:2376 --containerd=/run/containerd/containerd.sock --tlsverify ` +
                "--tlscacert=/etc/docker/geth-swarm-tls/ca.pem --tlscert=/etc/docker/geth-swarm-tls/server-cert.pem --tlskey=/etc/docker/geth-swarm-tls/server-key.pem\n",
        );
        for (const f of ["ca.pem", "server-cert.pem", "server-key.pem"]) expect(statSync(join(r.root, "etc/docker/geth-swarm-tls", f)).mode & 0o777).toBe(0o600);
        expect(statSync(join(r.root, "etc/docker/geth-swarm-tls")).mode & 0o777).toBe(0o700);
        for (const step of ["install the Docker engine", "configure the Docker API on TLS port 2376", "initialise the swarm on 10.0.0.10", "publish the join tokens to SSM", "done"]) {
            expect(r.log).toContain(`geth-swarm-bootstrap: === ${step}`);
        }
        // The engine and the AWS CLI are there: nothing is installed.
        expect(r.calls).not.toMatch(/^(apt-get|apt-cache|snap) /m);
        expect(r.log).toContain("the Docker engine is installed");
        expect(r.calls).toContain("systemctl restart docker");
        expect(r.console).toBe(r.log);
        for (const out of [r.log, r.console]) {
            expect(out).not.toContain("SWMTKN-1-");
            expect(out).not.toContain("IMDS-SESSION-SECRET");
            expect(out).not.toContain("FAKE");
        }
    });

    it("worker: waits for the token, joins the leader with it; the token never reaches the log", () => {
        const r = runBootstrap(worker, { tokenAfter: 2, ssm: { [names.workerToken]: "SWMTKN-1-workersecret" } });
        expect(r.status, r.log).toBe(0);
        // The join goes to the engine's API with the token in the request body, not on a command line.
        expect(JSON.parse(r.joined)).toEqual({ ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "10.0.0.10", RemoteAddrs: ["10.0.0.10:2377"], JoinToken: "SWMTKN-1-workersecret" });
        expect(r.calls).not.toContain("SWMTKN-1-");
        expect(r.log).toContain(`the worker join token is not published yet in SSM parameter ${names.workerToken} (attempt 1 of 30)`);
        expect(r.log).toContain(`the worker join token is in ${names.workerToken} (attempt 3 of 30)`);
        expect(r.log).toContain("joining 10.0.0.10:2377");
        expect(r.log).toContain("=== join the swarm of i-0123456789abcdef0 at 10.0.0.10 as a worker");
        expect(r.log).toContain("in the swarm as a worker");
        // Two waits before the token appeared, none after the join.
        expect(r.calls.match(/^sleep /gm)).toEqual(["sleep ", "sleep "]);
        expect(r.calls).toMatch(/^sleep 5$/m);
        expect(r.calls).toMatch(/^sleep 10$/m);
        expect(r.log).not.toContain("SWMTKN-1-");
        expect(r.log).not.toContain("IMDS-SESSION-SECRET");
    });

    it("no answer from the metadata service: one FAILED line, after the line that says what did not answer", () => {
        const r = runBootstrap(worker, { imdsDown: true });
        expect(r.status).toBe(1);
        expect(r.log).toContain("no IMDSv2 session token from the instance metadata service (http://169.254.169.254) within 23 s");
        expect(r.log.match(/FAILED \(exit/g)).toHaveLength(1);
        expect(r.log).toMatch(/FAILED \(exit 1\) during step: read the instance's address and region \(IMDSv2\) \(after \d+s\)/);
        expect(r.calls.match(/^logger .*FAILED/gm)).toHaveLength(1);
        expect(r.calls).not.toContain("aws ");
    });

    it("worker: gives up after the bounded attempts and says which step failed", () => {
        const r = runBootstrap({ ...worker, joinAttempts: 3 }, {});
        expect(r.status).toBe(1);
        expect(r.log).toContain(
            `could not join the swarm at 10.0.0.10:2377 after 3 attempts: could not read the worker join token from SSM parameter ${names.workerToken}`,
        );
        expect(r.log).toContain("An error occurred (ParameterNotFound)");
        expect(r.log).toContain("geth-swarm-bootstrap: FAILED (exit 1) during step: join the swarm of i-0123456789abcdef0 at 10.0.0.10 as a worker");
        expect(r.console).toContain("FAILED (exit 1)");
        expect(r.calls).toContain("logger -t geth-swarm-bootstrap FAILED (exit 1) during step: join the swarm");
    });
});
