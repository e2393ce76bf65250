import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FirewallOptions, firewallOptionProblems, FirewallRule, firewallRules, isIpv6Cidr } from "./firewallRules";

export interface SwarmFirewallArgs extends FirewallOptions {
    /** VPC the security group belongs to. */
    readonly vpcId: pulumi.Input<string>;
    /** Tags added to the group and every rule. */
    readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The swarm hosts' security group, materialised from the one rule table
 * {@link firewallRules}: one standalone `aws.vpc.SecurityGroupIngressRule` /
 * `SecurityGroupEgressRule` per row, named `<name>-<row key>` (`hosts-fw-rpc-admin-0`).
 *
 * The group has no inline rules (the provider removes AWS's default allow-all egress
 * rule when it creates a group; the table's `egress-all` row puts it back explicitly), so
 * the table is the whole truth and each rule can change without touching the others.
 */
export class SwarmFirewall extends pulumi.ComponentResource {
    public readonly securityGroupId: pulumi.Output<string>;
    /** The rows the group was built from. */
    public readonly rules: readonly FirewallRule[];

    constructor(name: string, args: SwarmFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = firewallOptionProblems(args);
        if (problems.length > 0) throw new Error(`SwarmFirewall ${name}: invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        super("geth-swarm:network:SwarmFirewall", name, {}, opts);

        const sg = new aws.ec2.SecurityGroup(
            `${name}-hosts`,
            { vpcId: args.vpcId, description: "geth-swarm hosts: Docker swarm, geth p2p and JSON-RPC, operator access", tags: { ...args.tags, Name: `${name}-hosts` } },
            { parent: this },
        );
        this.rules = firewallRules(args);
        for (const rule of this.rules) {
            const common = {
                securityGroupId: sg.id,
                description: rule.description,
                ipProtocol: rule.protocol,
                fromPort: rule.fromPort,
                toPort: rule.toPort,
                tags: { ...args.tags, Name: `${name}-${rule.key}` },
                ...(rule.source === "self"
                    ? { referencedSecurityGroupId: sg.id }
                    : isIpv6Cidr(rule.cidr!)
                      ? { cidrIpv6: rule.cidr }
                      : { cidrIpv4: rule.cidr }),
            };
            if (rule.direction === "ingress") new aws.vpc.SecurityGroupIngressRule(`${name}-${rule.key}`, common, { parent: this });
            else new aws.vpc.SecurityGroupEgressRule(`${name}-${rule.key}`, common, { parent: this });
        }
        this.securityGroupId = sg.id;
        this.registerOutputs({ securityGroupId: this.securityGroupId });
    }
}
