import * as pulumi from "@pulumi/pulumi";
import { BootStack } from "../stacks/bootStack";
import { NodesStack } from "../stacks/nodesStack";
import { GethSwarmConfig } from "./config/types";
import { AwsSwarmHosts, awsSwarmHostsArgsFromConfig } from "./hosts/awsSwarmHosts";
import { LocalSwarmHosts } from "./hosts/localSwarmHosts";
import { SwarmHosts } from "./hosts/types";
import { firewallOptionsFromConfig } from "./network/firewallRules";
import { SwarmFirewall } from "./network/swarmFirewall";
import { SwarmVpc, swarmVpcArgsFromConfig } from "./network/swarmVpc";

export interface GethSwarmArgs {
    /**
     * The validated program config (`resolveConfig(...)` or `loadConfig()`): the target,
     * the host plan, the chain, ports, images and access rules. Required; no default.
     */
    readonly config: GethSwarmConfig;
    /**
     * Hosts you built yourself (any component in the `SwarmHosts` shape). Default: built
     * from `config.target` — `SwarmVpc` + `SwarmFirewall` + `AwsSwarmHosts` for `aws`,
     * `LocalSwarmHosts` for `local`.
     */
    readonly hosts?: SwarmHosts;
    /** Tags added to every AWS resource that takes tags. Default: none besides the components' own. */
    readonly tags?: Readonly<Record<string, string>>;
}

/**
 * A whole private geth network on Docker Swarm: the hosts of the chosen target, the boot
 * stack (bootnode, visualizer, overlay network) and the nodes stack (a geth node with
 * JSON-RPC on every non-miner host, a Clique signer on every miner host), in that order.
 *
 * `pulumi up` succeeds only when the bootnode reports the enode derived from its key and
 * every node's JSON-RPC shows the chain id, peers and an advancing head.
 *
 * Children: `<name>-vpc`, `<name>-firewall`, `<name>-hosts` (AWS) or `<name>-hosts`
 * (local), `<name>-boot`, `<name>-nodes`.
 */
export class GethSwarm extends pulumi.ComponentResource {
    /**
     * `enode://<bootnode id>@<boot host private IP>:<bootnode port>`. Derived from the
     * bootnode's generated key: shown in every preview once the stack has been deployed
     * (`[unknown]` in the first preview of a new stack, before the key exists).
     */
    public readonly enode: pulumi.Output<string>;
    /** JSON-RPC URLs of the node hosts (not the signers, which publish no RPC). */
    public readonly rpcEndpoints: pulumi.Output<string[]>;
    /** WebSocket JSON-RPC URLs of the node hosts with `config.rpc.ws.enabled`; undefined otherwise. */
    public readonly wsEndpoints: pulumi.Output<string[] | undefined>;
    /** The development account funded in the genesis (`config.devAccount`): address and private key, a secret; undefined without it. */
    public readonly devAccount: pulumi.Output<{ address: string; privateKey: string } | undefined>;
    /** The visualizer's URL, or undefined when `config.visualizer` is false. */
    public readonly visualizerUrl: pulumi.Output<string | undefined>;
    /** The manager's Docker API endpoint (`tcp://<address>:<port>`). */
    public readonly managerApi: pulumi.Output<string>;
    /** The manager's Docker API TLS material for a client (CA, client certificate and key), a secret: what `npm run docker-context` writes a Docker context from. */
    public readonly managerTls: pulumi.Output<{ caPem?: string; certPem?: string; keyPem?: string }>;
    /** Addresses of the Clique signers. */
    public readonly signerAddresses: pulumi.Output<string[]>;
    /** Swarm stack names: `{ boot, nodes }`. */
    public readonly stackNames: pulumi.Output<{ boot: string; nodes: string }>;
    /** The hosts the stacks run on. */
    public readonly hosts: SwarmHosts;
    /** Present for the `aws` target unless `hosts` was given. */
    public readonly vpc?: SwarmVpc;
    /** Present for the `aws` target unless `hosts` was given. */
    public readonly firewall?: SwarmFirewall;
    public readonly boot: BootStack;
    public readonly nodes: NodesStack;

    constructor(name: string, args: GethSwarmArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geth-swarm:index:GethSwarm", name, {}, opts);
        const { config } = args;
        const parent = { parent: this };

        if (args.hosts) {
            this.hosts = args.hosts;
        } else if (config.target === "aws") {
            const tags = { "geth-swarm:stack": pulumi.getStack(), ...args.tags };
            this.vpc = new SwarmVpc(`${name}-vpc`, { ...swarmVpcArgsFromConfig(config), tags }, parent);
            this.firewall = new SwarmFirewall(`${name}-firewall`, { ...firewallOptionsFromConfig(config), vpcId: this.vpc.vpcId, tags }, parent);
            this.hosts = new AwsSwarmHosts(
                `${name}-hosts`,
                { ...awsSwarmHostsArgsFromConfig(config, { publicSubnets: this.vpc.publicSubnets, securityGroupId: this.firewall.securityGroupId }), tags },
                parent,
            );
        } else {
            this.hosts = new LocalSwarmHosts(`${name}-hosts`, { config }, parent);
        }

        this.boot = new BootStack(`${name}-boot`, { hosts: this.hosts, config }, parent);
        this.nodes = new NodesStack(
            `${name}-nodes`,
            { hosts: this.hosts, config, enode: this.boot.enode },
            { parent: this, dependsOn: [this.boot] },
        );

        this.enode = this.boot.enode;
        this.rpcEndpoints = this.nodes.rpcEndpoints;
        this.wsEndpoints = this.nodes.wsEndpoints;
        this.devAccount = this.nodes.devAccount;
        this.visualizerUrl = this.boot.visualizerUrl;
        this.managerApi = pulumi.unsecret(this.hosts.manager.apply((m) => m.host));
        this.managerTls = pulumi.secret(this.hosts.manager.apply((m) => ({ caPem: m.caPem, certPem: m.certPem, keyPem: m.keyPem })));
        this.signerAddresses = this.nodes.signerAddresses;
        this.stackNames = pulumi.all([this.boot.stackName, this.nodes.stackName]).apply(([boot, nodes]) => ({ boot, nodes }));

        this.registerOutputs({
            enode: this.enode,
            rpcEndpoints: this.rpcEndpoints,
            wsEndpoints: this.wsEndpoints,
            devAccount: this.devAccount,
            visualizerUrl: this.visualizerUrl,
            managerApi: this.managerApi,
            managerTls: this.managerTls,
            signerAddresses: this.signerAddresses,
            stackNames: this.stackNames,
        });
    }
}
