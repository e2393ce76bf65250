import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { asSecretInput, fakePem, installAwsMocks, isSecretInput, MOCK_ACCOUNT, MOCK_AMI, MOCK_REGION, MOCK_ZONES, RecordedCall, RecordedResource, settle, valueOf } from "../../test/unit/awsMocks";
import { resolveConfig } from "../config/resolve";
import type { HostPlan } from "../config/types";
import { firewallOptionsFromConfig } from "../network/firewallRules";
import { SwarmFirewall } from "../network/swarmFirewall";
import { SwarmVpc, swarmVpcArgsFromConfig } from "../network/swarmVpc";
import { PolicyDocument, SSM_DELETE_ACTIONS, SSM_READ_ACTIONS, SSM_WRITE_ACTIONS } from "./awsPolicies";
import { AwsSwarmHosts, AwsSwarmHostsArgs, awsSwarmHostsArgsFromConfig, JOIN_TOKEN_PLACEHOLDER } from "./awsSwarmHosts";

const mocks = installAwsMocks();
beforeEach(() => mocks.reset());

const INSTANCE = "aws:ec2/instance:Instance";
const PARAM = "aws:ssm/parameter:Parameter";
const arn = (name: string) => `arn:aws:ssm:${MOCK_REGION}:${MOCK_ACCOUNT}:parameter/geth-swarm/dev/hosts${name}`;
const TOKENS = [arn("/join-token/worker"), arn("/join-token/manager")];
const TLS = [arn("/tls/ca-cert"), arn("/tls/server-cert"), arn("/tls/server-key")];
/** The names of the resources of a type, sorted (aliased resources register later than the others). */
const namesOf = (type: string) => mocks.ofType(type).map((r) => r.name).sort();
/** Name of the instance profile (its logical name) the instance of host `host` carries. */
const profileOf = (host: string) => {
    const name = mocks.named(INSTANCE, `hosts-${host}`).inputs.iamInstanceProfile;
    const found = mocks.ofType("aws:iam/instanceProfile:InstanceProfile").filter((p) => p.state.name === name);
    expect(found, `the instance profile of ${host}`).toHaveLength(1);
    return found[0].name;
};

function deploy(extra: Record<string, unknown> = {}, hostsArgs: Partial<AwsSwarmHostsArgs> = {}) {
    const config = resolveConfig({ target: "aws", adminCidrs: ["10.8.0.7/32"], ...extra });
    const vpc = new SwarmVpc("net", swarmVpcArgsFromConfig(config));
    const fw = new SwarmFirewall("fw", { vpcId: vpc.vpcId, ...firewallOptionsFromConfig(config) });
    const hosts = new AwsSwarmHosts(
        "hosts",
        { ...awsSwarmHostsArgsFromConfig(config, { publicSubnets: vpc.publicSubnets, securityGroupId: fw.securityGroupId }), ...hostsArgs },
        { transformations: [mocks.recordParents] },
    );
    return { config, vpc, fw, hosts };
}

type Deployed = ReturnType<typeof deploy>;
/**
 * Each configuration is deployed once; a test that asks for one deployed before gets its
 * components back and the mocks' record of it restored (the tests read the record only).
 */
const deployments = new Map<string, { d: Deployed; resources: RecordedResource[]; calls: RecordedCall[] }>();

async function deployed(extra: Record<string, unknown> = {}, hostsArgs: Partial<AwsSwarmHostsArgs> = {}): Promise<Deployed> {
    const key = JSON.stringify([extra, hostsArgs]);
    const known = deployments.get(key);
    mocks.reset();
    if (known) {
        mocks.resources.push(...known.resources);
        mocks.calls.push(...known.calls);
        return known.d;
    }
    const d = deploy(extra, hostsArgs);
    await valueOf(pulumi.all(d.hosts.instances.map((i) => i.id)));
    await valueOf(d.hosts.manager);
    await settle();
    deployments.set(key, { d, resources: [...mocks.resources], calls: [...mocks.calls] });
    return d;
}

describe("AwsSwarmHosts with the reference scenario (manager + worker in zone a, miner in zone b)", () => {
    it("creates exactly the expected children, all parented to the component", async () => {
        await deployed();
        const mine = mocks.custom().filter((r) => r.parent?.type === "geth-swarm:hosts:AwsSwarmHosts");
        const counts: Record<string, number> = {};
        for (const r of mine) counts[r.type] = (counts[r.type] ?? 0) + 1;
        expect(counts).toEqual({
            "tls:index/privateKey:PrivateKey": 3,
            "tls:index/selfSignedCert:SelfSignedCert": 1,
            "tls:index/certRequest:CertRequest": 2,
            "tls:index/locallySignedCert:LocallySignedCert": 2,
            "aws:ec2/eip:Eip": 1,
            "aws:ec2/eipAssociation:EipAssociation": 1,
            [PARAM]: 5,
            "aws:iam/role:Role": 3,
            "aws:iam/rolePolicy:RolePolicy": 3,
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 3,
            "aws:iam/instanceProfile:InstanceProfile": 3,
            [INSTANCE]: 3,
        });
        expect(mocks.ofType(INSTANCE).map((r) => r.name)).toEqual(["hosts-manager", "hosts-worker", "hosts-miner-worker"]);
        expect(namesOf("aws:iam/role:Role")).toEqual(["hosts-leader", "hosts-worker", "hosts-miner"].sort());
        expect(namesOf("aws:iam/instanceProfile:InstanceProfile")).toEqual(["hosts-leader", "hosts-worker", "hosts-miner"].sort());
        expect(namesOf("aws:iam/rolePolicy:RolePolicy")).toEqual(["hosts-leader-ssm", "hosts-worker-ssm", "hosts-miner-ssm"].sort());
        expect(namesOf("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual(["hosts-leader-ssm-core", "hosts-worker-ssm-core", "hosts-miner-ssm-core"].sort());
        expect(mine).toHaveLength(mocks.custom().filter((r) => !r.name.startsWith("net-") && !r.name.startsWith("fw-")).length);
    });

    it("places the instances in their zones' subnets, the leader on its fixed address, IMDSv2 on, encrypted gp3 roots", async () => {
        const { vpc } = await deployed();
        const subnetIds = await valueOf(vpc.subnetIds);
        const sgId = mocks.named("aws:ec2/securityGroup:SecurityGroup", "fw-hosts").id;
        const inst = (n: string) => mocks.named(INSTANCE, `hosts-${n}`);
        expect(["manager", "worker", "miner-worker"].map((n) => inst(n).inputs.subnetId)).toEqual([subnetIds[0], subnetIds[0], subnetIds[1]]);
        expect(["manager", "worker", "miner-worker"].map((n) => inst(n).inputs.availabilityZone)).toEqual([MOCK_ZONES[0], MOCK_ZONES[0], MOCK_ZONES[1]]);
        expect(["manager", "worker", "miner-worker"].map((n) => inst(n).inputs.instanceType)).toEqual(["t3.small", "t3.small", "t3.medium"]);
        expect(inst("manager").inputs.privateIp).toBe("10.0.0.10");
        expect(inst("worker").inputs.privateIp).toBeUndefined();
        for (const n of ["manager", "worker", "miner-worker"]) {
            const i = inst(n);
            expect(i.inputs.ami).toBe(MOCK_AMI);
            expect(i.inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
            expect(i.inputs.rootBlockDevice).toEqual({ volumeType: "gp3", volumeSize: 30, encrypted: true, deleteOnTermination: true });
            expect(i.inputs.vpcSecurityGroupIds).toEqual([sgId]);
            expect(i.inputs.associatePublicIpAddress).toBe(true);
            expect(i.inputs.userDataReplaceOnChange).toBe(true);
            expect(i.inputs.keyName).toBeUndefined();
            expect(i.opts?.ignoreChanges).toEqual(["ami"]);
        }
        expect(inst("manager").opts?.deleteBeforeReplace).toBe(true);
        expect(inst("worker").opts?.deleteBeforeReplace).toBe(false);
        expect(inst("miner-worker").inputs.tags).toEqual({ Name: "geth-swarm-dev-miner-worker", project: "geth-swarm", stack: "dev", host: "miner-worker", role: "worker", class: "miner" });
        expect(inst("manager").inputs.tags).toMatchObject({ Name: "geth-swarm-dev-manager", role: "manager", class: "manager" });

        const amiCall = mocks.calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
        expect(amiCall.inputs).toEqual({
            owners: ["099720109477"],
            mostRecent: true,
            filters: [
                { name: "name", values: ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"] },
                { name: "state", values: ["available"] },
            ],
        });
    });

    it("bootstraps by cloud-init: leader inits, the others join it; no key, token or certificate in user-data", async () => {
        const { hosts } = await deployed();
        const leaderId = await valueOf(hosts.instances[0].id);
        const ud = (n: string) => mocks.named(INSTANCE, `hosts-${n}`).inputs.userData as string;
        expect(ud("manager")).toMatch(/^#cloud-config\n/);
        expect(ud("manager")).toContain("GS_ROLE='leader'");
        expect(ud("manager")).toContain("GS_TLS_KEY_PARAM='/geth-swarm/dev/hosts/tls/server-key'");
        expect(ud("manager")).toContain('docker swarm init --advertise-addr "${PRIVATE_IP}" --default-addr-pool "${GS_ADDR_POOL}" >/dev/null');
        expect(ud("manager")).toContain("GS_ADDR_POOL='10.200.0.0/16'");
        for (const n of ["worker", "miner-worker"]) {
            expect(ud(n)).toContain("GS_ROLE='worker'");
            expect(ud(n)).toContain("GS_LEADER_ADDR='10.0.0.10'");
            expect(ud(n)).toContain(`GS_LEADER_INSTANCE='${leaderId}'`);
            expect(ud(n)).toContain("GS_WORKER_TOKEN_PARAM='/geth-swarm/dev/hosts/join-token/worker'");
            expect(ud(n)).not.toContain("GS_TLS_KEY_PARAM=");
            expect(ud(n)).toContain(`hostname: ${n}\n`);
        }
        for (const n of ["manager", "worker", "miner-worker"]) {
            expect(ud(n)).not.toMatch(/PRIVATE KEY-----\n|BEGIN CERTIFICATE-----\n|FAKE-/);
            expect(ud(n)).not.toMatch(/SWMTKN-\d/);
            expect(ud(n)).not.toContain(JOIN_TOKEN_PLACEHOLDER);
            expect(Buffer.byteLength(ud(n))).toBeLessThan(16 * 1024);
        }
    });

    it("creates the SSM parameters under the stack's path: tokens as placeholders Pulumi does not overwrite, TLS from the program", async () => {
        await deployed();
        const p = (n: string) => mocks.named(PARAM, `hosts-${n}`);
        for (const kind of ["worker", "manager"]) {
            const t = p(`join-token-${kind}`);
            expect(t.inputs).toMatchObject({ name: `/geth-swarm/dev/hosts/join-token/${kind}`, type: "SecureString", value: asSecretInput(JOIN_TOKEN_PLACEHOLDER) });
            expect(t.opts?.ignoreChanges).toEqual(["value"]);
        }
        expect(p("tls-ca-cert").inputs).toMatchObject({ name: "/geth-swarm/dev/hosts/tls/ca-cert", type: "String", value: asSecretInput(fakePem("CERTIFICATE", "hosts-ca")) });
        expect(p("tls-server-cert").inputs).toMatchObject({ name: "/geth-swarm/dev/hosts/tls/server-cert", type: "String", value: asSecretInput(fakePem("CERTIFICATE", "hosts-server")) });
        expect(p("tls-server-key").inputs).toMatchObject({ name: "/geth-swarm/dev/hosts/tls/server-key", type: "SecureString", value: asSecretInput(fakePem("EC PRIVATE KEY", "hosts-server-key")) });
        // The leader is created only once its TLS material and the token parameters exist.
        const deps = mocks.named(INSTANCE, "hosts-manager").opts?.dependsOn ?? [];
        for (const n of ["join-token-worker", "join-token-manager", "tls-ca-cert", "tls-server-cert", "tls-server-key"]) expect(deps).toContain(`${PARAM}::hosts-${n}`);
        expect(deps).toContain("aws:iam/rolePolicy:RolePolicy::hosts-leader-ssm");
        expect(deps).toContain("aws:iam/rolePolicyAttachment:RolePolicyAttachment::hosts-leader-ssm-core");
        expect(mocks.named(INSTANCE, "hosts-worker").opts?.dependsOn).toContain("aws:iam/rolePolicy:RolePolicy::hosts-worker-ssm");
    });

    it("gives the leader, the workers and the miners each a least-privilege role scoped to exactly the parameters' ARNs", async () => {
        await deployed();
        const doc = (group: string) => JSON.parse(mocks.named("aws:iam/rolePolicy:RolePolicy", `hosts-${group}-ssm`).inputs.policy);
        expect(doc("leader")).toEqual({
            Version: "2012-10-17",
            Statement: [
                { Sid: "JoinTokens", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:PutParameter"], Resource: TOKENS },
                { Sid: "DockerApiTls", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: TLS },
                { Sid: "NoOtherParameters", Effect: "Deny", Action: SSM_READ_ACTIONS, NotResource: [...TOKENS, ...TLS] },
                { Sid: "NoOtherParameterWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, NotResource: TOKENS },
                { Sid: "NoJoinTokenDeletes", Effect: "Deny", Action: SSM_DELETE_ACTIONS, Resource: TOKENS },
            ],
        });
        for (const group of ["worker", "miner"]) {
            expect(doc(group)).toEqual({
                Version: "2012-10-17",
                Statement: [
                    { Sid: "WorkerJoinToken", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [arn("/join-token/worker")] },
                    { Sid: "NoOtherParameters", Effect: "Deny", Action: SSM_READ_ACTIONS, NotResource: [arn("/join-token/worker")] },
                    { Sid: "NoOtherParameterWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, NotResource: [arn("/join-token/worker")] },
                    { Sid: "NoJoinTokenWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, Resource: [arn("/join-token/worker")] },
                ],
            });
        }
        for (const group of ["leader", "worker", "miner"]) {
            const role = mocks.named("aws:iam/role:Role", `hosts-${group}`);
            expect(JSON.parse(role.inputs.assumeRolePolicy)).toEqual({
                Version: "2012-10-17",
                Statement: [{ Sid: "Ec2AssumeRole", Effect: "Allow", Action: ["sts:AssumeRole"], Principal: { Service: "ec2.amazonaws.com" } }],
            });
            expect(mocks.named("aws:iam/rolePolicy:RolePolicy", `hosts-${group}-ssm`).inputs.role).toBe(role.state.name);
            expect(mocks.named("aws:iam/rolePolicyAttachment:RolePolicyAttachment", `hosts-${group}-ssm-core`).inputs).toEqual({
                role: role.state.name,
                policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            });
            const profile = mocks.named("aws:iam/instanceProfile:InstanceProfile", `hosts-${group}`);
            expect(profile.inputs.role).toBe(role.state.name);
        }
        expect(mocks.named("aws:iam/role:Role", "hosts-leader").inputs.description).toBe("geth-swarm dev hosts: the leader (first manager)");
        expect(mocks.named("aws:iam/role:Role", "hosts-leader").inputs.tags).toEqual({ Name: "geth-swarm-dev-hosts-leader", project: "geth-swarm", stack: "dev", class: "manager" });
        expect(mocks.named("aws:iam/role:Role", "hosts-miner").inputs.description).toBe("geth-swarm dev hosts: miner hosts");
        expect(mocks.named("aws:iam/role:Role", "hosts-worker").inputs.tags).toEqual({ Name: "geth-swarm-dev-hosts-worker", project: "geth-swarm", stack: "dev", class: "worker" });
        expect(profileOf("manager")).toBe("hosts-leader");
        expect(profileOf("worker")).toBe("hosts-worker");
        expect(profileOf("miner-worker")).toBe("hosts-miner");
    });

    it("keeps the leader's IAM resources of a stack deployed with one role for every manager (aliases), and only those", async () => {
        await deployed();
        const aliases = (type: string, n: string) => mocks.named(type, n).opts?.aliases;
        expect(aliases("aws:iam/role:Role", "hosts-leader")).toEqual([{ name: "hosts-manager" }]);
        expect(aliases("aws:iam/instanceProfile:InstanceProfile", "hosts-leader")).toEqual([{ name: "hosts-manager" }]);
        expect(aliases("aws:iam/rolePolicy:RolePolicy", "hosts-leader-ssm")).toEqual([{ name: "hosts-manager-ssm" }]);
        expect(aliases("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "hosts-leader-ssm-core")).toEqual([{ name: "hosts-manager-ssm-core" }]);
        for (const r of mocks.custom().filter((x) => !x.name.startsWith("hosts-leader"))) expect(r.opts?.aliases ?? [], `${r.type} ${r.name}`).toEqual([]);
        // The old names are no resource's own: an alias naming a live resource would fail the deployment.
        const names = new Set(mocks.custom().map((r) => `${r.type}::${r.name}`));
        for (const t of ["aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"]) expect(names.has(`${t}::hosts-manager`)).toBe(false);
    });

    it("issues the Docker API certificates for the Elastic IP, the fixed private IP and loopback (ECDSA P-256)", async () => {
        await deployed();
        const eip = mocks.named("aws:ec2/eip:Eip", "hosts-manager-eip");
        expect(eip.inputs.domain).toBe("vpc");
        for (const k of ["hosts-ca-key", "hosts-server-key", "hosts-client-key"]) {
            expect(mocks.named("tls:index/privateKey:PrivateKey", k).inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        }
        expect(mocks.named("tls:index/selfSignedCert:SelfSignedCert", "hosts-ca").inputs).toMatchObject({
            isCaCertificate: true,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            privateKeyPem: asSecretInput(fakePem("EC PRIVATE KEY", "hosts-ca-key")),
        });
        // Every input that carries a private key is secret, wherever it goes.
        const keyInputs = mocks.custom().flatMap((r) => Object.values(r.inputs).filter((v) => /PRIVATE KEY-----\\nFAKE-/.test(JSON.stringify(v ?? ""))));
        expect(keyInputs).toHaveLength(6); // CA cert, 2 CSRs, 2 signed certs, the SSM key parameter
        for (const v of keyInputs) expect(isSecretInput(v)).toBe(true);
        const csr = mocks.named("tls:index/certRequest:CertRequest", "hosts-server-csr").inputs;
        expect(csr.ipAddresses).toEqual([eip.state.publicIp, "10.0.0.10", "127.0.0.1"]);
        expect(mocks.named("tls:index/locallySignedCert:LocallySignedCert", "hosts-server").inputs.allowedUses).toContain("server_auth");
        expect(mocks.named("tls:index/locallySignedCert:LocallySignedCert", "hosts-client").inputs.allowedUses).toContain("client_auth");
        const assoc = mocks.named("aws:ec2/eipAssociation:EipAssociation", "hosts-manager-eip").inputs;
        expect(assoc.allocationId).toBe(eip.state.allocationId);
        expect(assoc.instanceId).toBe(mocks.named(INSTANCE, "hosts-manager").id);
    });

    it("returns the SwarmHosts shape: the manager endpoint as a secret, every host with addresses, zone and RPC URL", async () => {
        const { hosts } = await deployed();
        const eipIp = mocks.named("aws:ec2/eip:Eip", "hosts-manager-eip").state.publicIp;
        expect(eipIp).toMatch(/^203\.0\.113\.\d+$/);
        expect(await pulumi.isSecret(hosts.manager)).toBe(true);
        expect(await valueOf(hosts.manager)).toEqual({
            host: `tcp://${eipIp}:2376`,
            caPem: fakePem("CERTIFICATE", "hosts-ca"),
            certPem: fakePem("CERTIFICATE", "hosts-client"),
            keyPem: fakePem("EC PRIVATE KEY", "hosts-client-key"),
        });
        const inst = (n: string) => mocks.named(INSTANCE, `hosts-${n}`).state;
        const info = await Promise.all(
            hosts.hosts.map(async (h) => ({
                name: h.name, class: h.class, role: h.role, labels: h.labels, signerIndex: h.signerIndex,
                privateIp: await valueOf(h.privateIp), publicIp: await valueOf(h.publicIp), zone: await valueOf(h.zone), rpcUrl: await valueOf(h.rpcUrl),
            })),
        );
        expect(info).toEqual([
            { name: "manager", class: "manager", role: "manager", labels: { "geth-swarm.host": "manager" }, signerIndex: undefined,
              privateIp: "10.0.0.10", publicIp: eipIp, zone: "eu-west-1a", rpcUrl: `http://${eipIp}:8545` },
            { name: "worker", class: "worker", role: "worker", labels: { "geth-swarm.host": "worker", "geth-swarm.boot": "true" }, signerIndex: undefined,
              privateIp: inst("worker").privateIp, publicIp: inst("worker").publicIp, zone: "eu-west-1a", rpcUrl: `http://${inst("worker").publicIp}:8545` },
            { name: "miner-worker", class: "miner", role: "worker", labels: { "geth-swarm.host": "miner-worker", role: "miner", "geth-swarm.signer": "0" }, signerIndex: 0,
              privateIp: inst("miner-worker").privateIp, publicIp: inst("miner-worker").publicIp, zone: "eu-west-1b", rpcUrl: "" },
        ]);
        expect(info[1].privateIp).toMatch(/^10\.0\.(\d+)\.(\d+)$/);
        expect(info[2].privateIp).toMatch(/^10\.0\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+$/); // inside zone b's 10.0.64.0/18
        expect(info[1].publicIp).toMatch(/^198\.51\.100\.\d+$/);
        expect(hosts.dependsOn).toHaveLength(4);
        expect(hosts.dependsOn.slice(0, 3)).toEqual(hosts.instances);
    });
});

/** IAM's decision for one principal's policies: an explicit Deny wins, then an Allow; otherwise denied. */
function permitted(docs: PolicyDocument[], action: string, resource: string): boolean {
    const matching = docs
        .flatMap((d) => d.Statement)
        .filter((st) => st.Action.some((a) => a === action || (a.endsWith("*") && action.startsWith(a.slice(0, -1)))))
        .filter((st) => (st.Resource ? st.Resource.some((r) => r === "*" || r === resource) : !st.NotResource!.includes(resource)));
    return !matching.some((st) => st.Effect === "Deny") && matching.some((st) => st.Effect === "Allow");
}

describe("what each AWS host's instance role lets it do with SSM parameters", () => {
    const PARAMS: Record<string, string> = {
        workerToken: arn("/join-token/worker"),
        managerToken: arn("/join-token/manager"),
        tlsCa: arn("/tls/ca-cert"),
        tlsCert: arn("/tls/server-cert"),
        tlsKey: arn("/tls/server-key"),
        otherSwarmToken: `arn:aws:ssm:${MOCK_REGION}:${MOCK_ACCOUNT}:parameter/geth-swarm/dev/other/join-token/manager`,
        unrelated: `arn:aws:ssm:${MOCK_REGION}:${MOCK_ACCOUNT}:parameter/prod/db-password`,
    };
    /** Every action that reads, writes or deletes a parameter. */
    const ACTIONS = [...SSM_READ_ACTIONS, ...SSM_WRITE_ACTIONS];
    /** The part of AmazonSSMManagedInstanceCore that touches parameters (`sessionManager`, on by default). */
    const SSM_CORE: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "Core", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: ["*"] }] };
    /** Any broader policy someone might attach to the role. */
    const EVERYTHING: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "All", Effect: "Allow", Action: ["ssm:*"], Resource: ["*"] }] };

    /** Every `action parameter` pair the policies permit. */
    const grants = (docs: PolicyDocument[]) =>
        ACTIONS.flatMap((a) => Object.entries(PARAMS).filter(([, r]) => permitted(docs, a, r)).map(([k]) => `${a} ${k}`));
    const reads = (actions: string[], params: string[]) => actions.flatMap((a) => params.map((p) => `${a} ${p}`));
    const ALL5 = ["workerToken", "managerToken", "tlsCa", "tlsCert", "tlsKey"];
    /** What each group needs at boot: what it reads, and what it writes. */
    const NEEDS: Record<string, { read: string[]; put: string[] }> = {
        leader: { read: ALL5, put: ["workerToken", "managerToken"] },
        follower: { read: ["managerToken"], put: [] },
        worker: { read: ["workerToken"], put: [] },
        miner: { read: ["workerToken"], put: [] },
    };

    it.each([
        ["one manager (the reference scenario)", {}, ["leader", "worker", "miner"]],
        ["three managers", { managerCount: 3 }, ["leader", "follower", "worker", "miner"]],
    ] as [string, Record<string, unknown>, string[]][])("with %s: each group reads exactly what it needs and only the leader writes, whatever else is attached", async (_, extra, groups) => {
        await deployed(extra);
        const policies = mocks.ofType("aws:iam/rolePolicy:RolePolicy");
        expect(policies.map((p) => p.name).sort()).toEqual(groups.map((g) => `hosts-${g}-ssm`).sort());
        for (const g of groups) {
            const own: PolicyDocument = JSON.parse(mocks.named("aws:iam/rolePolicy:RolePolicy", `hosts-${g}-ssm`).inputs.policy);
            const { read, put } = NEEDS[g];
            const puts = put.map((p) => `ssm:PutParameter ${p}`);
            expect(grants([own]).sort(), g).toEqual([...reads(["ssm:GetParameter"], read), ...puts].sort());
            expect(grants([own, SSM_CORE]).sort(), `${g} with AmazonSSMManagedInstanceCore`).toEqual([...reads(["ssm:GetParameter", "ssm:GetParameters"], read), ...puts].sort());
            expect(grants([own, EVERYTHING]).sort(), `${g} with ssm:* on *`).toEqual([...reads(SSM_READ_ACTIONS, read), ...puts].sort());
        }
    });

    it("the leader's policy allows ssm:PutParameter on exactly the two join-token ARNs; no other policy allows any write", async () => {
        await deployed({ managerCount: 3 });
        for (const p of mocks.ofType("aws:iam/rolePolicy:RolePolicy")) {
            const doc: PolicyDocument = JSON.parse(p.inputs.policy);
            const allowedWrites = doc.Statement.filter((st) => st.Effect === "Allow" && st.Action.some((a) => !SSM_READ_ACTIONS.includes(a)));
            if (p.name === "hosts-leader-ssm") {
                expect(allowedWrites).toEqual([{ Sid: "JoinTokens", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:PutParameter"], Resource: TOKENS }]);
            } else {
                expect(allowedWrites, p.name).toEqual([]);
                for (const st of doc.Statement.filter((x) => x.Effect === "Allow")) expect(st.Action, p.name).toEqual(["ssm:GetParameter"]);
            }
        }
    });

    it("no policy has a wildcard action or a `*` resource; every resource is one of the swarm's parameters", async () => {
        await deployed({ managerCount: 3 });
        const policies = mocks.ofType("aws:iam/rolePolicy:RolePolicy");
        expect(policies).toHaveLength(4);
        for (const p of policies) {
            for (const st of (JSON.parse(p.inputs.policy) as PolicyDocument).Statement) {
                expect(st.Action.length, `${p.name} ${st.Sid}`).toBeGreaterThan(0);
                for (const a of st.Action) expect(a).toMatch(/^ssm:[A-Za-z]+$/);
                const resources = [...(st.Resource ?? []), ...(st.NotResource ?? [])];
                expect(resources.length, `${p.name} ${st.Sid}`).toBeGreaterThan(0);
                expect(st.Resource === undefined, `${p.name} ${st.Sid}: Resource or NotResource, not both`).toBe(st.NotResource !== undefined);
                for (const r of resources) expect([...TOKENS, ...TLS]).toContain(r);
            }
        }
    });
});

describe("AwsSwarmHosts variants", () => {
    it("spreads three managers over three zones; the others join as managers", async () => {
        const { vpc } = await deployed({ managerCount: 3 });
        const subnetIds = await valueOf(vpc.subnetIds);
        const managers = ["manager", "manager-2", "manager-3"].map((n) => mocks.named(INSTANCE, `hosts-${n}`));
        expect(managers.map((m) => m.inputs.subnetId)).toEqual(subnetIds);
        expect(new Set(managers.map((m) => m.inputs.availabilityZone)).size).toBe(3);
        expect(managers[0].inputs.privateIp).toBe("10.0.0.10");
        expect(managers[0].inputs.userData).toContain("GS_ROLE='leader'");
        for (const m of managers.slice(1)) {
            expect(m.inputs.userData).toContain("GS_ROLE='manager'");
            expect(m.inputs.userData).toContain("GS_MANAGER_TOKEN_PARAM='/geth-swarm/dev/hosts/join-token/manager'");
            expect(m.inputs.userData).not.toMatch(/GS_TLS_\w+=|GS_DOCKER_TLS_PORT=/);
        }
    });

    it("gives the managers other than the leader a role of their own that reads the manager token only", async () => {
        await deployed({ managerCount: 3 });
        expect(namesOf("aws:iam/role:Role")).toEqual(["hosts-leader", "hosts-follower", "hosts-worker", "hosts-miner"].sort());
        expect(namesOf("aws:iam/instanceProfile:InstanceProfile")).toEqual(["hosts-leader", "hosts-follower", "hosts-worker", "hosts-miner"].sort());
        expect(namesOf("aws:iam/rolePolicy:RolePolicy")).toEqual(["hosts-leader-ssm", "hosts-follower-ssm", "hosts-worker-ssm", "hosts-miner-ssm"].sort());
        expect(mocks.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toHaveLength(4);
        expect(["manager", "manager-2", "manager-3", "worker", "miner-worker"].map(profileOf)).toEqual(["hosts-leader", "hosts-follower", "hosts-follower", "hosts-worker", "hosts-miner"]);
        const role = mocks.named("aws:iam/role:Role", "hosts-follower");
        expect(role.inputs.description).toBe("geth-swarm dev hosts: managers other than the leader");
        expect(role.inputs.tags).toEqual({ Name: "geth-swarm-dev-hosts-follower", project: "geth-swarm", stack: "dev", class: "manager" });
        expect(role.opts?.aliases).toBeUndefined();
        const policy = mocks.named("aws:iam/rolePolicy:RolePolicy", "hosts-follower-ssm");
        expect(policy.inputs.role).toBe(role.state.name);
        expect(JSON.parse(policy.inputs.policy)).toEqual({
            Version: "2012-10-17",
            Statement: [
                { Sid: "ManagerJoinToken", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [arn("/join-token/manager")] },
                { Sid: "NoOtherParameters", Effect: "Deny", Action: SSM_READ_ACTIONS, NotResource: [arn("/join-token/manager")] },
                { Sid: "NoOtherParameterWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, NotResource: [arn("/join-token/manager")] },
                { Sid: "NoJoinTokenWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, Resource: [arn("/join-token/manager")] },
            ],
        });
        expect(mocks.named("aws:iam/instanceProfile:InstanceProfile", "hosts-follower").inputs.role).toBe(role.state.name);
        expect(mocks.named("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "hosts-follower-ssm-core").inputs.role).toBe(role.state.name);
        for (const n of ["manager-2", "manager-3"]) {
            const deps = mocks.named(INSTANCE, `hosts-${n}`).opts?.dependsOn ?? [];
            expect(deps).toContain("aws:iam/rolePolicy:RolePolicy::hosts-follower-ssm");
            expect(deps).toContain("aws:iam/rolePolicyAttachment:RolePolicyAttachment::hosts-follower-ssm-core");
            expect(deps).not.toContain("aws:iam/rolePolicy:RolePolicy::hosts-leader-ssm");
        }
    });

    it("without Session Manager attaches no managed policy; with a key pair, sets it; custom volume size and parameter path", async () => {
        await deployed({ sshKeyName: "ops", rootVolumeSizeGb: 100 }, { sessionManager: false, parameterPath: "/teams/chain/swarm" });
        expect(mocks.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toHaveLength(0);
        expect(mocks.calls.map((c) => c.token)).not.toContain("aws:index/getPartition:getPartition");
        const m = mocks.named(INSTANCE, "hosts-manager").inputs;
        expect(m.keyName).toBe("ops");
        expect(m.rootBlockDevice.volumeSize).toBe(100);
        expect(mocks.ofType(PARAM).map((p) => p.inputs.name).sort()).toEqual(
            ["/teams/chain/swarm/join-token/manager", "/teams/chain/swarm/join-token/worker", "/teams/chain/swarm/tls/ca-cert", "/teams/chain/swarm/tls/server-cert", "/teams/chain/swarm/tls/server-key"],
        );
    });

    const subnet = { id: "subnet-1", cidrBlock: "10.0.0.0/24", availabilityZone: "eu-west-1a" };
    const plan = (over: Partial<HostPlan>): HostPlan => ({ name: "manager", class: "manager", role: "manager", zoneIndex: 0, instanceType: "t3.small", labels: {}, ...over });
    const base: AwsSwarmHostsArgs = {
        hosts: [plan({})], subnets: [subnet], securityGroupIds: ["sg-1"], vpcCidr: "10.0.0.0/16",
        ami: { owner: "099720109477", namePattern: "ubuntu/*" }, rpcPort: 8545,
    };
    it.each([
        [{ hosts: [] }, /hosts is empty; plan at least one manager/],
        [{ hosts: [plan({ name: "w", class: "worker", role: "worker" })] }, /hosts has no manager/],
        [{ hosts: [plan({}), plan({})] }, /hosts names manager more than once/],
        [{ hosts: [plan({ zoneIndex: 1 })] }, /hosts\[manager\]\.zoneIndex 1 has no subnet \(subnets has 1\)/],
        [{ hosts: [plan({ instanceType: "" })] }, /instanceType "" must be an EC2 instance type/],
        [{ hosts: [plan({ name: "Manager_1" })] }, /hosts\[Manager_1\]\.name must be lower-case/],
        [{ subnets: [] }, /subnets is empty/],
        [{ subnets: [{ ...subnet, cidrBlock: "10.0.0.0/29" }] }, /subnets\[0\]\.cidrBlock: address offset 10 is not assignable in 10\.0\.0\.0\/29/],
        [{ rootVolumeSizeGb: 4 }, /rootVolumeSizeGb 4 must be from 8 to 16384/],
        [{ rpcPort: 70000 }, /rpcPort 70000 must be a port number/],
        [{ vpcCidr: "10.0.0.0" }, /vpcCidr "10\.0\.0\.0" is not an IPv4 CIDR/],
        [{ parameterPath: "geth-swarm/dev/" }, /parameterPath "geth-swarm\/dev\/" must be an SSM path/],
    ] as [Partial<AwsSwarmHostsArgs>, RegExp][])("refuses bad arguments before creating anything (%j)", (bad, message) => {
        expect(() => new AwsSwarmHosts("bad", { ...base, ...bad })).toThrow(message);
        expect(() => new AwsSwarmHosts("bad", { ...base, ...bad })).toThrow(/^AwsSwarmHosts bad: invalid arguments/);
    });
});
