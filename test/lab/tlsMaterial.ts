// The Docker API's TLS material as the program makes it with @pulumi/tls (dockerTls.ts), made
// here with the openssl CLI: ECDSA P-256 keys in SEC1 PEM ("EC PRIVATE KEY"), a self-signed
// CA (cert and CRL signing), a server certificate with the engine's IP addresses and
// `localhost` (server auth) and a client certificate (client auth), all signed by the CA.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "./exec";

export interface CertAndKey {
    certPem: string;
    keyPem: string;
}

export interface DockerTlsMaterial {
    caPem: string;
    server: CertAndKey;
    client: CertAndKey;
}

async function ecKey(file: string) {
    await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file]);
}

/**
 * A CA, a server certificate for `ipAddresses` (plus `localhost`) and a client certificate,
 * like createDockerCa/createDockerServerCert/createDockerClientCert.
 */
export async function makeDockerTls(opts: { ipAddresses: string[]; caName?: string }): Promise<DockerTlsMaterial> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gsl-tls-"));
    const f = (n: string) => path.join(dir, n);
    const read = (n: string) => fs.readFileSync(f(n), "utf8");
    try {
        await ecKey(f("ca.key"));
        await run("openssl", ["req", "-new", "-x509", "-key", f("ca.key"), "-subj", `/O=geth-swarm/CN=${opts.caName ?? "geth-swarm lab Docker CA"}`, "-days", "30", "-sha256", "-extensions", "v3_ca", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", "-out", f("ca.pem")]);
        const sign = async (name: string, subject: string, ext: string[]) => {
            await ecKey(f(`${name}.key`));
            await run("openssl", ["req", "-new", "-key", f(`${name}.key`), "-subj", subject, "-out", f(`${name}.csr`)]);
            fs.writeFileSync(f(`${name}.ext`), ext.join("\n") + "\n");
            await run("openssl", ["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "30", "-sha256", "-extfile", f(`${name}.ext`), "-out", f(`${name}.pem`)]);
            return { certPem: read(`${name}.pem`), keyPem: read(`${name}.key`) };
        };
        const server = await sign("server", "/O=geth-swarm/CN=geth-swarm lab Docker API", [
            "keyUsage=critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage=serverAuth",
            `subjectAltName=${["DNS:localhost", ...opts.ipAddresses.map((ip) => `IP:${ip}`)].join(",")}`,
        ]);
        const client = await sign("client", "/O=geth-swarm/CN=geth-swarm lab operator", ["keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=clientAuth"]);
        return { caPem: read("ca.pem"), server, client };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The lines of a PEM block's base64 body: any of them found elsewhere is a leak of that block. */
export function pemBodyLines(pem: string): string[] {
    return pem.split("\n").filter((l) => l.length >= 32 && !l.startsWith("-----"));
}
