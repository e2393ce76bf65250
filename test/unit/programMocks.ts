/**
 * Runs the Pulumi program (`index.ts`) under mocks for one stack config and records every
 * resource. Cloud-computed properties get realistic values (AWS addresses, AMI, zones,
 * random bytes, TLS PEMs without key material), so nothing passes because it is undefined.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export interface ProgramResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly custom: boolean;
}

const fakePem = (kind: string, name: string) => `-----BEGIN ${kind}-----\nFAKE-${name}\n-----END ${kind}-----\n`;

export function mockedHex(name: string): string {
    return createHash("sha256").update(`program:${name}`).digest("hex");
}

/** The swarm-scoped ID the mocked manager reports for the network `name`: 25 lowercase letters and digits, like a swarm's. */
export function mockedSwarmNetworkId(name: string): string {
    return BigInt("0x" + createHash("sha256").update(`program-swarm-network:${name}`).digest("hex")).toString(36).slice(0, 25);
}

/** Ids shaped like the cloud's (EC2 ids carry their prefix: user-data checks them). */
const ID_PREFIX: Record<string, string> = {
    "aws:ec2/instance:Instance": "i-", "aws:ec2/vpc:Vpc": "vpc-", "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-", "aws:ec2/eip:Eip": "eipalloc-", "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
};
function mockId(type: string, name: string, i: number): string {
    const prefix = ID_PREFIX[type];
    return prefix ? `${prefix}${i.toString(16).padStart(17, "0")}` : `${name}-id`;
}

/** Install mocks and config for `stack`; returns the live list of recorded resources. */
export function installProgramMocks(stack: string, config: Record<string, string>): ProgramResource[] {
    const resources: ProgramResource[] = [];
    let n = 0;
    pulumi.runtime.setAllConfig(config);
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                resources.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? true });
                const i = ++n;
                const extra: Record<string, unknown> = {};
                switch (args.type) {
                    case "aws:ec2/instance:Instance":
                        extra.privateIp = args.inputs.privateIp ?? `10.0.${i % 200}.${100 + (i % 100)}`;
                        extra.publicIp = `198.51.100.${i % 250}`;
                        extra.availabilityZone = "eu-west-1a";
                        extra.arn = `arn:aws:ec2:eu-west-1:123456789012:instance/i-${i}`;
                        break;
                    case "aws:ec2/eip:Eip":
                        extra.publicIp = `203.0.113.${i % 250}`;
                        extra.allocationId = `eipalloc-${i}`;
                        break;
                    case "aws:ssm/parameter:Parameter":
                        extra.arn = `arn:aws:ssm:eu-west-1:123456789012:parameter${args.inputs.name}`;
                        break;
                    case "aws:iam/role:Role":
                    case "aws:iam/instanceProfile:InstanceProfile":
                        extra.arn = `arn:aws:iam::123456789012:role/${args.name}`;
                        extra.name = args.name;
                        break;
                    case "random:index/randomBytes:RandomBytes":
                        extra.hex = mockedHex(args.name);
                        extra.base64 = Buffer.from(mockedHex(args.name), "hex").toString("base64");
                        break;
                    case "random:index/randomPassword:RandomPassword":
                        extra.result = "Pw" + mockedHex(args.name).slice(0, 30);
                        break;
                    case "tls:index/privateKey:PrivateKey":
                        extra.privateKeyPem = fakePem("EC PRIVATE KEY", args.name);
                        extra.publicKeyPem = fakePem("PUBLIC KEY", args.name);
                        break;
                    case "tls:index/selfSignedCert:SelfSignedCert":
                    case "tls:index/locallySignedCert:LocallySignedCert":
                        extra.certPem = fakePem("CERTIFICATE", args.name);
                        break;
                    case "pulumi-nodejs:dynamic/geth-swarm:SwarmNetworkId":
                        extra.networkId = mockedSwarmNetworkId(args.inputs.name);
                        break;
                    case "tls:index/certRequest:CertRequest":
                        extra.certRequestPem = fakePem("CERTIFICATE REQUEST", args.name);
                        break;
                }
                return { id: args.custom === false ? "" : mockId(args.type, args.name, i), state: { ...args.inputs, ...extra } };
            },
            call(args) {
                switch (args.token) {
                    case "aws:index/getAvailabilityZones:getAvailabilityZones":
                        return { id: "eu-west-1", names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"] };
                    case "aws:ec2/getAmi:getAmi":
                        return { id: "ami-0a1b2c3d4e5f67890", imageId: "ami-0a1b2c3d4e5f67890", architecture: "x86_64" };
                    case "aws:index/getPartition:getPartition":
                        return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
                    case "aws:index/getCallerIdentity:getCallerIdentity":
                        return { id: "123456789012", accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/op", userId: "AIDEXAMPLE" };
                    case "aws:index/getRegion:getRegion":
                        return { id: "eu-west-1", name: "eu-west-1", region: "eu-west-1" };
                    default:
                        throw new Error(`mock: unexpected invoke ${args.token}`);
                }
            },
        },
        "geth-swarm",
        stack,
        false,
    );
    return resources;
}

/** Resolve an exported output of the program. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v)));
}

/** Let every pending resource registration reach the mocks. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));
}

/** Count of resources by type. */
export function countByType(resources: readonly ProgramResource[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of resources) out[r.type] = (out[r.type] ?? 0) + 1;
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
