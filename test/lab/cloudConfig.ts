// What cloud-init does with the program's user-data, read the way cloud-init reads it
// (YAML 1.1): the host name, the files it writes (write_files) and the commands it runs once
// (runcmd). Pure: the lab applies the result on a host (awsLab.ts). Only the keys the
// program renders are known; any other key or option is refused, so that a user-data the
// lab cannot apply faithfully fails loudly instead of being half applied.
import { parse } from "yaml";

export interface CloudConfigFile {
    path: string;
    owner: string;
    /** File mode (from the octal string, e.g. "0600"). */
    mode: number;
    content: string;
}

export interface CloudConfig {
    hostname: string;
    /** write_files, in order. */
    files: CloudConfigFile[];
    /** runcmd: each entry an argv (a list) or a shell command (a string, run with `sh -c`). */
    runcmd: Array<string[] | string>;
}

const TOP_LEVEL = ["hostname", "preserve_hostname", "create_hostname_file", "write_files", "runcmd"];
const FILE_KEYS = ["path", "owner", "permissions", "content"];

/** Parses a `#cloud-config` user-data; throws naming anything the lab cannot apply. */
export function parseCloudConfig(userData: string): CloudConfig {
    if (!userData.startsWith("#cloud-config\n")) throw new Error("user-data is not a #cloud-config document");
    const doc = parse(userData, { version: "1.1" }) as Record<string, unknown> | null;
    if (!doc || typeof doc !== "object") throw new Error("user-data holds no mapping");
    const unknown = Object.keys(doc).filter((k) => !TOP_LEVEL.includes(k));
    if (unknown.length > 0) throw new Error(`the lab does not apply the cloud-config keys ${unknown.join(", ")}`);
    if (typeof doc.hostname !== "string" || doc.hostname === "") throw new Error("user-data sets no hostname");
    if (doc.preserve_hostname !== undefined && doc.preserve_hostname !== false) throw new Error("the lab applies preserve_hostname: false only");
    const files = ((doc.write_files ?? []) as Array<Record<string, unknown>>).map((f, i) => {
        const extra = Object.keys(f).filter((k) => !FILE_KEYS.includes(k));
        if (extra.length > 0) throw new Error(`write_files[${i}]: the lab does not apply ${extra.join(", ")}`);
        if (typeof f.path !== "string" || !f.path.startsWith("/")) throw new Error(`write_files[${i}]: path must be absolute`);
        if (typeof f.content !== "string") throw new Error(`write_files[${i}] (${f.path}): content must be a string`);
        const permissions = String(f.permissions ?? "0644");
        if (!/^0?[0-7]{3,4}$/.test(permissions)) throw new Error(`write_files[${i}] (${f.path}): permissions ${permissions} is not an octal mode`);
        return { path: f.path, owner: String(f.owner ?? "root:root"), mode: parseInt(permissions, 8), content: f.content };
    });
    const runcmd = ((doc.runcmd ?? []) as unknown[]).map((c, i) => {
        if (typeof c === "string") return c;
        if (Array.isArray(c) && c.length > 0 && c.every((a) => typeof a === "string")) return c as string[];
        throw new Error(`runcmd[${i}] must be a string or a list of strings`);
    });
    return { hostname: doc.hostname, files, runcmd };
}
