import type { HostClass } from "../config/types";

/** ARNs of the SSM parameters a swarm's hosts use. */
export interface SwarmParameterArns {
    readonly workerToken: string;
    readonly managerToken: string;
    readonly tlsCa: string;
    readonly tlsCert: string;
    readonly tlsKey: string;
}

export interface PolicyStatement {
    readonly Sid: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action: string[];
    readonly Resource?: string[];
    readonly NotResource?: string[];
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: PolicyStatement[];
}

/** Every SSM action that reads a parameter's value. */
export const SSM_READ_ACTIONS = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory", "ssm:GetParametersByPath"];

/**
 * The inline policy of a host class's instance role. Least privilege, no wildcard action,
 * no `*` resource:
 *
 * - `manager`: read and write the two join-token parameters (the leader writes them, the
 *   other managers read the manager token), read the three TLS parameters (the leader
 *   configures the Docker API from them);
 * - `worker`, `miner`: read the worker join token, nothing else.
 *
 * A final Deny of every parameter read outside that list keeps the instance from reading
 * other parameters even when a broader managed policy is attached (the
 * `AmazonSSMManagedInstanceCore` policy for Session Manager allows `ssm:GetParameter(s)`
 * on `*`): so a worker can never read the manager token or the Docker API's key.
 *
 * No KMS statement: the parameters are encrypted with the AWS managed key `aws/ssm`, whose
 * key policy already lets principals of the account use it through SSM.
 */
export function hostPolicyDocument(cls: HostClass, arns: SwarmParameterArns): PolicyDocument {
    const tokens = [arns.workerToken, arns.managerToken];
    const tls = [arns.tlsCa, arns.tlsCert, arns.tlsKey];
    const statements: PolicyStatement[] =
        cls === "manager"
            ? [
                  { Sid: "JoinTokens", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:PutParameter"], Resource: tokens },
                  { Sid: "DockerApiTls", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: tls },
                  { Sid: "NoOtherParameters", Effect: "Deny", Action: SSM_READ_ACTIONS, NotResource: [...tokens, ...tls] },
              ]
            : [
                  { Sid: "WorkerJoinToken", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [arns.workerToken] },
                  { Sid: "NoOtherParameters", Effect: "Deny", Action: SSM_READ_ACTIONS, NotResource: [arns.workerToken] },
              ];
    return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy of the instance roles: EC2 may assume them. */
export const EC2_ASSUME_ROLE_POLICY: PolicyDocument & { Statement: (Omit<PolicyStatement, "Resource"> & { Principal: { Service: string } })[] } = {
    Version: "2012-10-17",
    Statement: [{ Sid: "Ec2AssumeRole", Effect: "Allow", Action: ["sts:AssumeRole"], Principal: { Service: "ec2.amazonaws.com" } }],
};
