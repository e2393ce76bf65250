/**
 * Pulumi mocks for the AWS components: every created resource is recorded (type, name,
 * inputs, parent) and cloud-computed properties get realistic values, so no assertion
 * passes because a value is undefined. Unknown invokes fail loudly.
 */
import * as pulumi from "@pulumi/pulumi";

export const MOCK_REGION = "eu-west-1";
export const MOCK_ACCOUNT = "123456789012";
export const MOCK_ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
export const MOCK_AMI = "ami-0a1b2c3d4e5f67890";

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    /** The id the mock gave it ("" for components). */
    readonly id: string;
    /** Type and name of the parent resource, from the resource options (absent for roots). */
    parent?: { type: string; name: string };
    /** Resource options that matter to the tests, as the component passed them. */
    opts?: { ignoreChanges?: string[]; deleteBeforeReplace?: boolean; dependsOn?: string[]; additionalSecretOutputs?: string[]; aliases?: unknown[] };
    /** The state the mock returned (inputs plus computed properties). */
    readonly state: Record<string, any>;
    /** False for component resources. */
    readonly custom: boolean;
}

export interface RecordedCall {
    readonly token: string;
    readonly inputs: Record<string, any>;
}

export interface AwsMocks {
    readonly resources: RecordedResource[];
    readonly calls: RecordedCall[];
    /** Pass as `transformations` on the component under test, so children's parents are recorded. */
    readonly recordParents: pulumi.ResourceTransformation;
    ofType(type: string): RecordedResource[];
    /** Every custom (cloud) resource, components left out. */
    custom(): RecordedResource[];
    named(type: string, name: string): RecordedResource;
    reset(): void;
}

/** Fake PEMs: shaped like the real thing, carrying no key material. */
export const fakePem = (kind: string, name: string) => `-----BEGIN ${kind}-----\nFAKE-${name}\n-----END ${kind}-----\n`;

function hex(n: number, width = 17): string {
    return n.toString(16).padStart(width, "0");
}

function ipv4FromInt(n: number): string {
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function cidrBase(cidr: string): number {
    const [a, p] = cidr.split("/");
    const n = a.split(".").reduce((acc, b) => acc * 256 + Number(b), 0);
    return n - (n % 2 ** (32 - Number(p)));
}

/** Install the mocks (stack `dev`, project `geth-swarm`, not a preview). */
export function installAwsMocks(): AwsMocks {
    const resources: RecordedResource[] = [];
    const calls: RecordedCall[] = [];
    const parents = new Map<string, { type: string; name: string }>();
    const options = new Map<string, RecordedResource["opts"]>();
    const subnets = new Map<string, { cidr: string; zone: string }>();
    let counter = 0;

    const computed = (type: string, name: string, inputs: Record<string, any>): { id: string; extra: Record<string, any> } => {
        const n = ++counter;
        switch (type) {
            case "aws:ec2/vpc:Vpc":
                return { id: `vpc-${hex(n)}`, extra: { arn: `arn:aws:ec2:${MOCK_REGION}:${MOCK_ACCOUNT}:vpc/vpc-${hex(n)}`, mainRouteTableId: `rtb-main${hex(n, 12)}` } };
            case "aws:ec2/subnet:Subnet": {
                const id = `subnet-${hex(n)}`;
                subnets.set(id, { cidr: inputs.cidrBlock, zone: inputs.availabilityZone });
                return { id, extra: { arn: `arn:aws:ec2:${MOCK_REGION}:${MOCK_ACCOUNT}:subnet/${id}` } };
            }
            case "aws:ec2/internetGateway:InternetGateway":
                return { id: `igw-${hex(n)}`, extra: {} };
            case "aws:ec2/routeTable:RouteTable":
                return { id: `rtb-${hex(n)}`, extra: {} };
            case "aws:ec2/route:Route":
            case "aws:ec2/routeTableAssociation:RouteTableAssociation":
                return { id: `r-${hex(n)}`, extra: {} };
            case "aws:ec2/eip:Eip":
                return { id: `eipalloc-${hex(n)}`, extra: { allocationId: `eipalloc-${hex(n)}`, publicIp: `203.0.113.${n % 250}`, publicDns: `ec2-203-0-113-${n % 250}.${MOCK_REGION}.compute.amazonaws.com` } };
            case "aws:ec2/natGateway:NatGateway":
                return { id: `nat-${hex(n)}`, extra: {} };
            case "aws:ec2/securityGroup:SecurityGroup":
                return { id: `sg-${hex(n)}`, extra: { arn: `arn:aws:ec2:${MOCK_REGION}:${MOCK_ACCOUNT}:security-group/sg-${hex(n)}` } };
            case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
                return { id: `sgr-${hex(n)}`, extra: { securityGroupRuleId: `sgr-${hex(n)}` } };
            case "aws:ec2/instance:Instance": {
                const id = `i-${hex(n)}`;
                const subnet = subnets.get(inputs.subnetId);
                if (!subnet) throw new Error(`mock: instance ${name} names unknown subnet ${inputs.subnetId}`);
                return {
                    id,
                    extra: {
                        arn: `arn:aws:ec2:${MOCK_REGION}:${MOCK_ACCOUNT}:instance/${id}`,
                        privateIp: inputs.privateIp ?? ipv4FromInt(cidrBase(subnet.cidr) + 100 + n),
                        publicIp: `198.51.100.${n % 250}`,
                        availabilityZone: subnet.zone,
                        primaryNetworkInterfaceId: `eni-${hex(n)}`,
                    },
                };
            }
            case "aws:ec2/eipAssociation:EipAssociation":
                return { id: `eipassoc-${hex(n)}`, extra: {} };
            case "aws:iam/role:Role":
                return { id: `${name}-${hex(n, 7)}`, extra: { arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${name}-${hex(n, 7)}`, name: `${name}-${hex(n, 7)}` } };
            case "aws:iam/instanceProfile:InstanceProfile":
                return { id: `${name}-${hex(n, 7)}`, extra: { arn: `arn:aws:iam::${MOCK_ACCOUNT}:instance-profile/${name}-${hex(n, 7)}`, name: `${name}-${hex(n, 7)}` } };
            case "aws:iam/rolePolicy:RolePolicy":
            case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
                return { id: `${name}-${hex(n, 7)}`, extra: {} };
            case "aws:ssm/parameter:Parameter":
                return { id: inputs.name, extra: { arn: `arn:aws:ssm:${MOCK_REGION}:${MOCK_ACCOUNT}:parameter${inputs.name}`, version: 1 } };
            case "tls:index/privateKey:PrivateKey":
                return { id: `key-${n}`, extra: { privateKeyPem: fakePem("EC PRIVATE KEY", name), publicKeyPem: fakePem("PUBLIC KEY", name) } };
            case "tls:index/selfSignedCert:SelfSignedCert":
            case "tls:index/locallySignedCert:LocallySignedCert":
                return { id: `cert-${n}`, extra: { certPem: fakePem("CERTIFICATE", name) } };
            case "tls:index/certRequest:CertRequest":
                return { id: `csr-${n}`, extra: { certRequestPem: fakePem("CERTIFICATE REQUEST", name) } };
            default:
                throw new Error(`mock: no computed properties for resource type ${type} (${name}); add them to test/unit/awsMocks.ts`);
        }
    };

    pulumi.runtime.setMocks(
        {
            newResource(args) {
                if (!args.custom) {
                    resources.push({ type: args.type, name: args.name, id: "", inputs: args.inputs, state: args.inputs, custom: false, parent: parents.get(`${args.type}::${args.name}`), opts: options.get(`${args.type}::${args.name}`) });
                    return { id: "", state: args.inputs };
                }
                const { id, extra } = computed(args.type, args.name, args.inputs);
                const state = { ...args.inputs, ...extra };
                resources.push({ type: args.type, name: args.name, id, inputs: args.inputs, state, custom: true, parent: parents.get(`${args.type}::${args.name}`), opts: options.get(`${args.type}::${args.name}`) });
                return { id, state };
            },
            call(args) {
                calls.push({ token: args.token, inputs: args.inputs });
                switch (args.token) {
                    case "aws:index/getAvailabilityZones:getAvailabilityZones":
                        return { id: MOCK_REGION, names: MOCK_ZONES, zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"], groupNames: [MOCK_REGION] };
                    case "aws:index/getPartition:getPartition":
                        return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
                    case "aws:ec2/getAmi:getAmi":
                        return { id: MOCK_AMI, imageId: MOCK_AMI, name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101", architecture: "x86_64" };
                    default:
                        throw new Error(`mock: unexpected invoke ${args.token}`);
                }
            },
        },
        "geth-swarm",
        "dev",
        false,
    );

    const recordParents: pulumi.ResourceTransformation = (a) => {
        const p = a.opts.parent as (pulumi.Resource & { __pulumiType?: string; __name?: string }) | undefined;
        const key = `${a.type}::${a.name}`;
        const deps = a.opts.dependsOn === undefined ? undefined : ([] as unknown[]).concat(a.opts.dependsOn as unknown[]);
        const o = a.opts as pulumi.CustomResourceOptions;
        options.set(key, {
            ignoreChanges: o.ignoreChanges,
            deleteBeforeReplace: o.deleteBeforeReplace,
            additionalSecretOutputs: o.additionalSecretOutputs,
            aliases: o.aliases as unknown[] | undefined,
            dependsOn: deps?.map((d) => `${(d as any).__pulumiType}::${(d as any).__name}`),
        });
        const known = resources.find((r) => `${r.type}::${r.name}` === key);
        if (known) (known as { opts?: RecordedResource["opts"] }).opts = options.get(key);
        if (p) {
            parents.set(key, { type: (p as any).__pulumiType, name: (p as any).__name });
            const rec = resources.find((r) => `${r.type}::${r.name}` === key);
            if (rec) rec.parent = parents.get(key);
        }
        return undefined;
    };

    return {
        resources,
        calls,
        recordParents,
        ofType: (type) => resources.filter((r) => r.type === type),
        custom: () => resources.filter((r) => r.custom),
        named(type, name) {
            const found = resources.filter((r) => r.type === type && r.name === name);
            if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}: ${resources.filter((r) => r.type === type).map((r) => r.name).join(", ")}`);
            return found[0];
        },
        reset() {
            resources.length = 0;
            calls.length = 0;
            parents.clear();
            options.clear();
        },
    };
}

/** The value of an output (the mocks resolve everything, so this never hangs on unknowns). */
export function valueOf<T>(o: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v)));
}

/** Wait until every resource registration started so far has reached the mocks. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

/** The signature Pulumi marks secret values with when it serialises them (as the mocks see inputs). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** An input value as the mocks receive it when it was secret. */
export function asSecretInput<T>(value: T): { [SECRET_SIG]: string; value: T } {
    return { [SECRET_SIG]: SECRET_VALUE, value };
}

/** Whether a recorded input value was marked secret. */
export function isSecretInput(v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
}
