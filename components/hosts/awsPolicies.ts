import type { BootstrapRole } from "./cloudInit";

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

/** Every SSM action that removes a parameter. */
export const SSM_DELETE_ACTIONS = ["ssm:DeleteParameter", "ssm:DeleteParameters"];

/** Every SSM action that writes or removes a parameter. */
export const SSM_WRITE_ACTIONS = ["ssm:PutParameter", ...SSM_DELETE_ACTIONS];

/**
 * The inline policy of a host's instance role, by what the host does at first boot (its
 * {@link BootstrapRole}). Least privilege, no wildcard action, no `*` resource:
 *
 * - `leader` (the first manager, which inits the swarm): read the three TLS parameters (it
 *   configures the Docker API from them), read and write (`ssm:PutParameter`) the two
 *   join-token parameters (it publishes the tokens, writing one only when it holds another
 *   value). The only host that may write a parameter, and only those two;
 * - `manager` (every other manager): read the manager join token, nothing else; it never
 *   configures the Docker API;
 * - `worker` (workers and miners): read the worker join token, nothing else.
 *
 * Deny statements hold whatever else is attached to the role (the `AmazonSSMManagedInstanceCore`
 * policy for Session Manager allows `ssm:GetParameter(s)` on `*`): a Deny of every parameter
 * read outside that list, so a worker can never read the manager token or the Docker API's
 * key; a Deny of every write and delete outside the leader's two tokens, and on them a Deny
 * of deletes (the leader) or of every write (the other hosts). Together: only the leader can
 * change a parameter, by `ssm:PutParameter` on a join token; no host can delete one. A Deny
 * on every parameter is written as one on the host's own parameters and one on everything
 * else (`NotResource`), so no statement names the `*` resource.
 *
 * No KMS statement: the parameters are encrypted with the AWS managed key `aws/ssm`, whose
 * key policy already lets principals of the account use it through SSM.
 */
export function hostPolicyDocument(role: BootstrapRole, arns: SwarmParameterArns): PolicyDocument {
    const tokens = [arns.workerToken, arns.managerToken];
    const tls = [arns.tlsCa, arns.tlsCert, arns.tlsKey];
    const readOnly = (sid: string, readable: string): PolicyStatement[] => [
        { Sid: sid, Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [readable] },
        { Sid: "NoOtherParameters", Effect: "Deny", Action: SSM_READ_ACTIONS, NotResource: [readable] },
        { Sid: "NoOtherParameterWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, NotResource: [readable] },
        { Sid: "NoJoinTokenWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, Resource: [readable] },
    ];
    const statements: PolicyStatement[] =
        role === "leader"
            ? [
                  { Sid: "JoinTokens", Effect: "Allow", Action: ["ssm:GetParameter", "ssm:PutParameter"], Resource: tokens },
                  { Sid: "DockerApiTls", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: tls },
                  { Sid: "NoOtherParameters", Effect: "Deny", Action: SSM_READ_ACTIONS, NotResource: [...tokens, ...tls] },
                  { Sid: "NoOtherParameterWrites", Effect: "Deny", Action: SSM_WRITE_ACTIONS, NotResource: tokens },
                  { Sid: "NoJoinTokenDeletes", Effect: "Deny", Action: SSM_DELETE_ACTIONS, Resource: tokens },
              ]
            : role === "manager"
              ? readOnly("ManagerJoinToken", arns.managerToken)
              : readOnly("WorkerJoinToken", arns.workerToken);
    return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy of the instance roles: EC2 may assume them. */
export const EC2_ASSUME_ROLE_POLICY: PolicyDocument & { Statement: (Omit<PolicyStatement, "Resource"> & { Principal: { Service: string } })[] } = {
    Version: "2012-10-17",
    Statement: [{ Sid: "Ec2AssumeRole", Effect: "Allow", Action: ["sts:AssumeRole"], Principal: { Service: "ec2.amazonaws.com" } }],
};
