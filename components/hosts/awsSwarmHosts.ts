import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createDockerCa, createDockerClientCert, createDockerServerCert } from "./dockerTls";
import type { GethSwarmConfig, HostPlan } from "../config/types";
import { DOCKER_TLS_PORT } from "../network/firewallRules";
import { hostAddress, parseIpv4Block, SubnetPlanError } from "../network/subnets";
import { EC2_ASSUME_ROLE_POLICY, hostPolicyDocument, SwarmParameterArns } from "./awsPolicies";
import { BootstrapRole, renderCloudInit, swarmAddressPool } from "./cloudInit";
import { DockerEndpoint, SwarmHostInfo, SwarmHosts } from "./types";

/** Value the join-token parameters hold until the leader writes the real tokens. */
export const JOIN_TOKEN_PLACEHOLDER = "not-yet-published";

/** Offset, in its subnet, of the leader's fixed private address (`10.0.0.0/18` → `10.0.0.10`). */
export const LEADER_ADDRESS_OFFSET = 10;

/** A subnet the hosts can go in. `cidrBlock` is plain: the leader's address is planned in it. */
export interface AwsHostSubnet {
    readonly id: pulumi.Input<string>;
    readonly cidrBlock: string;
    readonly availabilityZone: pulumi.Input<string>;
}

export interface AwsSwarmHostsArgs {
    /** The hosts; the first manager is the leader (it initialises the swarm). */
    readonly hosts: readonly HostPlan[];
    /** Public subnets in zone order (`SwarmVpc.publicSubnets`); a host goes in `subnets[plan.zoneIndex]`. */
    readonly subnets: readonly AwsHostSubnet[];
    /** Security groups of every host (`SwarmFirewall.securityGroupId`). */
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The VPC's CIDR: the swarm's overlay address pool is chosen clear of it. */
    readonly vpcCidr: string;
    /** AMI lookup: owner and name pattern; the newest match is used. */
    readonly ami: { readonly owner: string; readonly namePattern: string };
    /** Root volume size in GiB (encrypted gp3); default 30. */
    readonly rootVolumeSizeGb?: number;
    /** JSON-RPC port of the geth nodes, for the hosts' `rpcUrl`. */
    readonly rpcPort: number;
    /** WebSocket JSON-RPC port of the geth nodes, for the hosts' `wsUrl`; absent: no `wsUrl`. */
    readonly wsPort?: number;
    /** Existing EC2 key pair for SSH; absent: no key pair (use Session Manager). */
    readonly sshKeyName?: string;
    /**
     * Attach the AWS managed policy `AmazonSSMManagedInstanceCore` so the hosts can be
     * reached with Session Manager (default true). That policy also allows reading any
     * parameter; the roles' own Deny statement narrows reads back to the swarm's parameters.
     */
    readonly sessionManager?: boolean;
    /** SSM path of the swarm's parameters; default `/geth-swarm/<stack>/<component name>`. */
    readonly parameterPath?: string;
    /** Join attempts of a non-leader host before it gives up (see `CloudInitParams.joinAttempts`). */
    readonly joinAttempts?: number;
    /** Tags added to every resource that takes tags. */
    readonly tags?: Readonly<Record<string, string>>;
}

/** The hosts arguments of a validated program config and its network. */
export function awsSwarmHostsArgsFromConfig(
    config: GethSwarmConfig,
    network: { publicSubnets: readonly AwsHostSubnet[]; securityGroupId: pulumi.Input<string> },
): AwsSwarmHostsArgs {
    return {
        hosts: config.hosts,
        subnets: network.publicSubnets,
        securityGroupIds: [network.securityGroupId],
        vpcCidr: config.aws.vpcCidr,
        ami: { owner: config.aws.amiOwner, namePattern: config.aws.amiNamePattern },
        rootVolumeSizeGb: config.aws.rootVolumeSizeGb,
        rpcPort: config.ports.rpc,
        ...(config.rpc.ws.enabled ? { wsPort: config.rpc.ws.port } : {}),
        sshKeyName: config.aws.sshKeyName,
    };
}

/** The SSM parameter names of a swarm under `path`. */
export function swarmParameterNames(path: string) {
    return {
        workerToken: `${path}/join-token/worker`,
        managerToken: `${path}/join-token/manager`,
        tlsCa: `${path}/tls/ca-cert`,
        tlsCert: `${path}/tls/server-cert`,
        tlsKey: `${path}/tls/server-key`,
    };
}

/**
 * EC2 hosts that form a Docker swarm by themselves, in the `SwarmHosts` shape.
 *
 * **Bootstrap.** Each instance gets cloud-init user-data ({@link renderCloudInit}) that
 * installs the Docker engine and runs the bootstrap script. The leader (the first manager)
 * serves the Docker API on TLS (2376), runs `docker swarm init` and writes the worker and
 * manager join tokens to SSM Parameter Store (SecureString) under
 * `/geth-swarm/<stack>/<name>/join-token/{worker,manager}`; the other hosts wait for their
 * token (bounded retries with backoff) and join. User-data holds parameter names only: no
 * token and no key ever appears in it, in the console log or in an output.
 *
 * **TLS without a dependency cycle.** The server certificate must name the leader's
 * addresses, but an instance's private IP is known only after it exists, and user-data is
 * needed to create it. So: the leader gets a fixed private address, the
 * {@link LEADER_ADDRESS_OFFSET}th address of its subnet, computed before deployment; its
 * public address is an Elastic IP allocated before the instance and associated after it.
 * The certificate (SANs: Elastic IP, fixed private IP, 127.0.0.1) depends on neither the
 * instance nor its user-data. The CA and server certificates and the server key (as a
 * SecureString) are put in SSM before the instance is created; the leader reads them at
 * boot with its instance role. User-data carries no key material at all (the docker-machine
 * way of writing the key into user-data is avoided), and the key lives in the Pulumi state
 * as a secret and in SSM encrypted. The TLS material is read once, at first boot: after a
 * certificate renewal in the program, replace the leader (`pulumi up --replace`). Because
 * of the fixed address the leader is replaced delete-first (a create-first replacement
 * would find its address taken).
 *
 * **Removal on destroy.** All five parameters are Pulumi resources. The join-token ones
 * are created with a placeholder and `ignoreChanges: ["value"]`: the leader overwrites
 * them, Pulumi leaves the value alone and `pulumi destroy` deletes them.
 *
 * **IAM.** One role and instance profile per group of hosts present: the leader
 * (`<name>-leader`), the other managers (`<name>-follower`), the workers (`<name>-worker`)
 * and the miners (`<name>-miner`), each with the inline policy of
 * {@link hostPolicyDocument} for what it does at boot, on exactly the parameters' ARNs:
 * only the leader may write (the two join tokens) and read the TLS material; the other
 * managers read the manager token, workers and miners the worker token. Optionally the AWS
 * managed `AmazonSSMManagedInstanceCore` for Session Manager (default on; see
 * `sessionManager`).
 *
 * **Replacement.** User-data changes replace the host (cloud-init runs once, so an in-place
 * change would do nothing). Non-leader user-data names the leader's instance id: replacing
 * the leader (a new swarm) replaces the hosts of the old one, and they join the new one.
 * AMI changes are ignored (the lookup picks the newest image, which would otherwise
 * replace every host whenever a new image is published); move to a new image with
 * `pulumi up --replace`.
 *
 * **Metadata.** IMDSv2 is required, with a hop limit of 1: containers on a bridge network
 * cannot reach the metadata service and so cannot take the host's role credentials.
 */
export class AwsSwarmHosts extends pulumi.ComponentResource implements SwarmHosts {
    public readonly manager: pulumi.Output<DockerEndpoint>;
    public readonly hosts: SwarmHostInfo[];
    public readonly dependsOn: pulumi.Resource[];
    /** The instances, in the order of `args.hosts`. */
    public readonly instances: aws.ec2.Instance[];
    /** The leader's fixed private address. */
    public readonly leaderPrivateIp: string;
    /** The leader's Elastic IP (the Docker API's address). */
    public readonly leaderPublicIp: pulumi.Output<string>;
    /** The SSM path under which the swarm's parameters live. */
    public readonly parameterPath: string;
    /** The CA certificate that signed the Docker API's server and client certificates (public). */
    public readonly caCertPem: pulumi.Output<string>;

    constructor(name: string, args: AwsSwarmHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        const checked = checkHostsArgs(name, args);
        super("geth-swarm:hosts:AwsSwarmHosts", name, {}, opts);
        const { leader, leaderIp } = checked;
        const parent = { parent: this };
        const project = pulumi.getProject();
        const stack = pulumi.getStack();
        const tagsFor = (n: string, extra: Record<string, string> = {}) => ({ ...args.tags, Name: `${project}-${stack}-${n}`, project, stack, ...extra });

        // --- TLS: CA, server certificate for the leader's Docker API, client certificate.
        const ca = createDockerCa(`${name}-ca`, { commonName: `geth-swarm ${stack} ${name} Docker CA`, validityHours: 10 * 365 * 24 }, parent);
        const eip = new aws.ec2.Eip(`${name}-${leader.name}-eip`, { domain: "vpc", tags: tagsFor(`${leader.name}-api`, { host: leader.name }) }, parent);
        const serverCert = createDockerServerCert(
            `${name}-server`,
            ca,
            { commonName: `geth-swarm ${stack} ${leader.name} Docker API`, ipAddresses: [eip.publicIp, leaderIp, "127.0.0.1"], validityHours: 5 * 365 * 24 },
            parent,
        );
        const clientCert = createDockerClientCert(`${name}-client`, ca, { commonName: `geth-swarm ${stack} operator`, validityHours: 5 * 365 * 24 }, parent);

        // --- SSM parameters (all removed by `pulumi destroy`).
        const path = checked.parameterPath;
        const names = swarmParameterNames(path);
        const ssmTags = tagsFor(`${name}-ssm`);
        const tokenParam = (kind: "worker" | "manager", paramName: string) =>
            new aws.ssm.Parameter(
                `${name}-join-token-${kind}`,
                {
                    name: paramName,
                    type: "SecureString",
                    value: JOIN_TOKEN_PLACEHOLDER,
                    description: `Docker swarm ${kind} join token, written by the swarm leader at boot`,
                    tags: ssmTags,
                },
                { parent: this, ignoreChanges: ["value"] },
            );
        const workerToken = tokenParam("worker", names.workerToken);
        const managerToken = tokenParam("manager", names.managerToken);
        const tlsCaParam = new aws.ssm.Parameter(
            `${name}-tls-ca-cert`,
            { name: names.tlsCa, type: "String", value: ca.caPem, description: "CA certificate of the swarm leader's Docker API", tags: ssmTags },
            parent,
        );
        const tlsCertParam = new aws.ssm.Parameter(
            `${name}-tls-server-cert`,
            { name: names.tlsCert, type: "String", value: serverCert.certPem, description: "Server certificate of the swarm leader's Docker API", tags: ssmTags },
            parent,
        );
        const tlsKeyParam = new aws.ssm.Parameter(
            `${name}-tls-server-key`,
            { name: names.tlsKey, type: "SecureString", value: serverCert.keyPem, description: "Server private key of the swarm leader's Docker API", tags: ssmTags },
            parent,
        );
        const params = [workerToken, managerToken, tlsCaParam, tlsCertParam, tlsKeyParam];

        // --- IAM: one role and instance profile per access group present: the leader, the
        // other managers, and each class of non-manager host (worker, miner), each with the
        // policy of what it does at boot (hostPolicyDocument).
        const partition = args.sessionManager === false ? undefined : aws.getPartitionOutput({}, parent).partition;
        const arns: pulumi.Output<SwarmParameterArns> = pulumi
            .all([workerToken.arn, managerToken.arn, tlsCaParam.arn, tlsCertParam.arn, tlsKeyParam.arn])
            .apply(([w, m, ca, cert, key]) => ({ workerToken: w, managerToken: m, tlsCa: ca, tlsCert: cert, tlsKey: key }));
        const groups = new Map<IamGroup, { profile: aws.iam.InstanceProfile; ready: pulumi.Resource[] }>();
        for (const plan of args.hosts) {
            const group = iamGroupOf(plan, leader);
            if (groups.has(group)) continue;
            const { bootstrapRole, description } = IAM_GROUPS[group];
            // The leader's role, policy, policy attachment and instance profile were once the
            // `<name>-manager` ones, which every manager shared (all could write the join
            // tokens and read the TLS key). Upgrading a stack deployed then: the aliases keep
            // those four resources under their new names (no replacement; the physical names
            // stay), the policy is updated in place to the leader's, the role's description
            // and tags in place, and the leader instance is unchanged. Other managers, if any,
            // get the new `<name>-follower` role and profile, and their instances are updated
            // in place to it (EC2 swaps an instance profile without a restart or a new
            // user-data). Worker and miner roles keep their names and policies but gain the
            // write Denies, in place.
            const renamed = (suffix: string) => (group === "leader" ? { aliases: [{ name: `${name}-manager${suffix}` }] } : {});
            const tags = tagsFor(`${name}-${group}`, { class: plan.class });
            const role = new aws.iam.Role(
                `${name}-${group}`,
                { assumeRolePolicy: JSON.stringify(EC2_ASSUME_ROLE_POLICY), description: `geth-swarm ${stack} ${name}: ${description}`, tags },
                { parent: this, ...renamed("") },
            );
            const policy = new aws.iam.RolePolicy(
                `${name}-${group}-ssm`,
                { role: role.name, policy: arns.apply((a) => JSON.stringify(hostPolicyDocument(bootstrapRole, a))) },
                { parent: this, ...renamed("-ssm") },
            );
            const ready: pulumi.Resource[] = [policy];
            if (partition) {
                ready.push(
                    new aws.iam.RolePolicyAttachment(
                        `${name}-${group}-ssm-core`,
                        { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore` },
                        { parent: this, ...renamed("-ssm-core") },
                    ),
                );
            }
            const profile = new aws.iam.InstanceProfile(`${name}-${group}`, { role: role.name, tags }, { parent: this, ...renamed("") });
            groups.set(group, { profile, ready });
        }

        // --- Instances.
        const ami = aws.ec2.getAmiOutput(
            { owners: [args.ami.owner], mostRecent: true, filters: [{ name: "name", values: [args.ami.namePattern] }, { name: "state", values: ["available"] }] },
            parent,
        );
        const pool = swarmAddressPool(args.vpcCidr);
        const instance = (plan: HostPlan, role: BootstrapRole, userData: pulumi.Input<string>, extraDeps: pulumi.Resource[]) => {
            const subnet = args.subnets[plan.zoneIndex];
            const { profile, ready } = groups.get(iamGroupOf(plan, leader))!;
            return new aws.ec2.Instance(
                `${name}-${plan.name}`,
                {
                    ami: ami.id,
                    instanceType: plan.instanceType,
                    subnetId: subnet.id,
                    availabilityZone: subnet.availabilityZone,
                    privateIp: role === "leader" ? leaderIp : undefined,
                    associatePublicIpAddress: true,
                    vpcSecurityGroupIds: args.securityGroupIds,
                    iamInstanceProfile: profile.name,
                    keyName: args.sshKeyName,
                    metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
                    rootBlockDevice: { volumeType: "gp3", volumeSize: args.rootVolumeSizeGb ?? 30, encrypted: true, deleteOnTermination: true },
                    userData,
                    userDataReplaceOnChange: true,
                    tags: tagsFor(plan.name, { host: plan.name, role: plan.role, class: plan.class }),
                    volumeTags: tagsFor(`${plan.name}-root`, { host: plan.name, role: plan.role, class: plan.class }),
                },
                { parent: this, dependsOn: [...ready, ...extraDeps], ignoreChanges: ["ami"], deleteBeforeReplace: role === "leader" },
            );
        };
        const common = { leaderAddress: leaderIp, swarmAddressPool: pool, joinAttempts: args.joinAttempts };
        const leaderInstance = instance(
            leader,
            "leader",
            renderCloudInit({ ...common, hostname: leader.name, role: "leader", parameters: names, dockerTlsPort: DOCKER_TLS_PORT }),
            params,
        );
        const eipAssociation = new aws.ec2.EipAssociation(`${name}-${leader.name}-eip`, { instanceId: leaderInstance.id, allocationId: eip.allocationId }, parent);

        this.instances = args.hosts.map((plan) => {
            if (plan === leader) return leaderInstance;
            const role: BootstrapRole = plan.role === "manager" ? "manager" : "worker";
            const userData = leaderInstance.id.apply((leaderInstanceId) =>
                renderCloudInit({
                    ...common,
                    hostname: plan.name,
                    role,
                    leaderInstanceId,
                    parameters: { workerToken: names.workerToken, managerToken: names.managerToken },
                }),
            );
            return instance(plan, role, userData, [workerToken, managerToken]);
        });

        this.hosts = args.hosts.map((plan, i) => {
            const inst = this.instances[i];
            const publicIp = plan === leader ? eip.publicIp : inst.publicIp;
            return {
                name: plan.name,
                class: plan.class,
                role: plan.role,
                privateIp: inst.privateIp,
                publicIp,
                zone: inst.availabilityZone,
                labels: plan.labels,
                signerIndex: plan.signerIndex,
                rpcUrl: plan.class === "miner" ? pulumi.output("") : pulumi.interpolate`http://${publicIp}:${args.rpcPort}`,
                ...(args.wsPort !== undefined ? { wsUrl: plan.class === "miner" ? pulumi.output("") : pulumi.interpolate`ws://${publicIp}:${args.wsPort}` } : {}),
            };
        });

        this.manager = pulumi.secret(
            pulumi.all([eip.publicIp, ca.caPem, clientCert.certPem, clientCert.keyPem]).apply(([ip, caPem, certPem, keyPem]) => ({
                host: `tcp://${ip}:${DOCKER_TLS_PORT}`,
                caPem,
                certPem,
                keyPem,
            })),
        );
        this.dependsOn = [...this.instances, eipAssociation];
        this.leaderPrivateIp = leaderIp;
        this.leaderPublicIp = eip.publicIp;
        this.parameterPath = path;
        this.caCertPem = ca.caPem;

        this.registerOutputs({
            manager: this.manager,
            leaderPrivateIp: this.leaderPrivateIp,
            leaderPublicIp: this.leaderPublicIp,
            parameterPath: this.parameterPath,
            instanceIds: this.instances.map((x) => x.id),
        });
    }
}

/**
 * The hosts that share an instance role: the leader, the other managers (`follower`), and
 * the workers and miners by class. Also the suffix of the group's IAM resources' names.
 */
type IamGroup = "leader" | "follower" | "worker" | "miner";

const IAM_GROUPS: Record<IamGroup, { bootstrapRole: BootstrapRole; description: string }> = {
    leader: { bootstrapRole: "leader", description: "the leader (first manager)" },
    follower: { bootstrapRole: "manager", description: "managers other than the leader" },
    worker: { bootstrapRole: "worker", description: "worker hosts" },
    miner: { bootstrapRole: "worker", description: "miner hosts" },
};

/** The instance role a host gets: its group's. */
function iamGroupOf(plan: HostPlan, leader: HostPlan): IamGroup {
    if (plan === leader) return "leader";
    return plan.class === "manager" ? "follower" : plan.class;
}

const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Validate args given without the config layer; every error names the argument and the fix. */
function checkHostsArgs(name: string, args: AwsSwarmHostsArgs) {
    const problems: string[] = [];
    const leader = args.hosts.find((h) => h.role === "manager");
    if (args.hosts.length === 0) problems.push("hosts is empty; plan at least one manager.");
    else if (!leader) problems.push("hosts has no manager; the first host with role manager initialises the swarm, so plan one.");
    const names = args.hosts.map((h) => h.name);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    if (dup.length > 0) problems.push(`hosts names ${[...new Set(dup)].join(", ")} more than once; give every host its own name.`);
    if (args.subnets.length === 0) problems.push("subnets is empty; pass the VPC's public subnets in zone order (SwarmVpc.publicSubnets).");
    for (const h of args.hosts) {
        if (!HOSTNAME_RE.test(h.name)) problems.push(`hosts[${h.name}].name must be lower-case letters, digits and '-' (a host name).`);
        if (!Number.isInteger(h.zoneIndex) || h.zoneIndex < 0 || h.zoneIndex >= args.subnets.length) {
            problems.push(`hosts[${h.name}].zoneIndex ${h.zoneIndex} has no subnet (subnets has ${args.subnets.length}); use 0 to ${args.subnets.length - 1} or pass more subnets.`);
        }
        if (!/^[a-z0-9-]+\.[a-z0-9-]+$/.test(h.instanceType)) problems.push(`hosts[${h.name}].instanceType ${JSON.stringify(h.instanceType)} must be an EC2 instance type such as t3.small.`);
        if ((h.role === "manager") !== (h.class === "manager")) problems.push(`hosts[${h.name}] has class ${h.class} but role ${h.role}; managers have role manager, workers and miners role worker.`);
    }
    const size = args.rootVolumeSizeGb ?? 30;
    if (!Number.isInteger(size) || size < 8 || size > 16384) problems.push(`rootVolumeSizeGb ${size} must be from 8 to 16384.`);
    if (!Number.isInteger(args.rpcPort) || args.rpcPort < 1 || args.rpcPort > 65535) problems.push(`rpcPort ${args.rpcPort} must be a port number (1 to 65535).`);
    try {
        parseIpv4Block(args.vpcCidr, "vpcCidr");
    } catch (e) {
        problems.push((e as Error).message);
    }
    if (!args.ami.owner || !args.ami.namePattern) problems.push("ami needs an owner and a namePattern, e.g. 099720109477 and ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*.");
    const parameterPath = args.parameterPath ?? `/geth-swarm/${pulumi.getStack()}/${name}`;
    if (!/^(\/[a-zA-Z0-9_.-]+)+$/.test(parameterPath)) {
        problems.push(`parameterPath ${JSON.stringify(parameterPath)} must be an SSM path such as /geth-swarm/dev/hosts (letters, digits, '_', '.', '-' between slashes, no trailing slash).`);
    }
    let leaderIp = "";
    if (leader && problems.length === 0) {
        const subnet = args.subnets[leader.zoneIndex];
        try {
            leaderIp = hostAddress(subnet.cidrBlock, LEADER_ADDRESS_OFFSET);
        } catch (e) {
            if (!(e instanceof SubnetPlanError)) throw e;
            problems.push(`subnets[${leader.zoneIndex}].cidrBlock: ${e.message}`);
        }
    }
    if (problems.length > 0) throw new Error(`AwsSwarmHosts ${name}: invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return { leader: leader!, leaderIp, parameterPath };
}
