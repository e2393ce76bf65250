// Where the AWS bootstrap suite finds its real parts, installed by `.ci/aws-lab-prereqs.sh`
// under the lab cache (see images.ts's labCacheDir): moto (the SSM API), the AWS CLI and AWS's
// EC2 metadata mock. Nothing here installs: a missing or outdated part is an error that
// names the command that installs it.
import * as fs from "node:fs";
import * as path from "node:path";
import { labCacheDir } from "./images";

export const AWS_TOOLS_FIXTURES = path.join(__dirname, "fixtures", "aws-tools");
export const AWS_TOOLS_INSTALL = "bash .ci/aws-lab-prereqs.sh (as root; .ci/lab-prereqs.sh runs it too)";

export interface AwsTools {
    /** `moto_server` of the moto venv. */
    motoServer: string;
    /** `aws` of the AWS CLI venv. */
    aws: string;
    /** The EC2 metadata mock's binary. */
    imdsMock: string;
    imdsMockVersion: string;
}

/** KEY=VALUE lines (comments and blank lines skipped), as `.` in bash reads them here. */
export function parseEnvFile(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
        if (m) out[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    }
    return out;
}

/** The installed parts, or an error naming what is missing or outdated and how to install it. */
export function findAwsTools(): AwsTools {
    const dir = path.join(labCacheDir(), "aws-tools");
    const problems: string[] = [];
    const venvBin = (name: string, bin: string) => {
        const req = path.join(AWS_TOOLS_FIXTURES, `requirements-${name}.txt`);
        const v = path.join(dir, name);
        const have = fs.existsSync(path.join(v, ".requirements")) ? fs.readFileSync(path.join(v, ".requirements"), "utf8") : undefined;
        if (have === undefined) problems.push(`${v} is not installed`);
        else if (have !== fs.readFileSync(req, "utf8")) problems.push(`${v} was built from other requirements than ${path.relative(process.cwd(), req)}`);
        else if (!isExecutable(path.join(v, "bin", bin))) problems.push(`${path.join(v, "bin", bin)} is missing`);
        return path.join(v, "bin", bin);
    };
    const motoServer = venvBin("moto", "moto_server");
    const aws = venvBin("awscli", "aws");
    const versions = parseEnvFile(fs.readFileSync(path.join(AWS_TOOLS_FIXTURES, "versions.env"), "utf8"));
    const imdsMockVersion = versions.EC2_METADATA_MOCK_VERSION;
    const imdsMock = path.join(dir, `ec2-metadata-mock-${imdsMockVersion}`, "ec2-metadata-mock");
    if (!isExecutable(imdsMock)) problems.push(`${imdsMock} is missing`);
    if (problems.length > 0) {
        throw new Error(`lab prerequisite missing for the AWS bootstrap suite: ${problems.join("; ")}. Install with: ${AWS_TOOLS_INSTALL}`);
    }
    return { motoServer, aws, imdsMock, imdsMockVersion };
}

function isExecutable(p: string): boolean {
    try {
        fs.accessSync(p, fs.constants.X_OK);
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}
