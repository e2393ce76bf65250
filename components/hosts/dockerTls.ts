/**
 * TLS material for Docker Engine APIs (`dockerd --tlsverify`), made with `@pulumi/tls` the
 * way docker-machine did it: one CA per deployment, a server certificate per engine (with
 * every IP and DNS name it is reached at), and a client certificate for this program.
 * Every private key is a Pulumi secret; certificates are public.
 *
 * Keys are ECDSA P-256 (Go's TLS, used by dockerd and the Docker CLI, and Node's, used by
 * dockerode, both accept them).
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** Default validity of the CA and of every certificate: 3 years, in hours. */
export const DEFAULT_TLS_VALIDITY_HOURS = 3 * 365 * 24;

/** A CA that signs Docker server and client certificates. */
export interface DockerCa {
    /** CA certificate (PEM): what engines and clients trust. */
    readonly caPem: pulumi.Output<string>;
    /** CA private key (PEM), secret. */
    readonly keyPem: pulumi.Output<string>;
    /** The resources, for `dependsOn`. */
    readonly resources: pulumi.Resource[];
}

/** A certificate and its private key. */
export interface DockerCert {
    /** Certificate (PEM). */
    readonly certPem: pulumi.Output<string>;
    /** Private key (PEM), secret. */
    readonly keyPem: pulumi.Output<string>;
    readonly resources: pulumi.Resource[];
}

export interface DockerCaArgs {
    /** Subject common name of the CA. Default `geth-swarm docker CA`. */
    readonly commonName?: pulumi.Input<string>;
    /** Validity in hours. Default {@link DEFAULT_TLS_VALIDITY_HOURS}. */
    readonly validityHours?: pulumi.Input<number>;
}

export interface DockerServerCertArgs {
    /** IP addresses the engine is reached at (SANs). At least one, e.g. its address and 127.0.0.1. */
    readonly ipAddresses: pulumi.Input<pulumi.Input<string>[]>;
    /** DNS names the engine is reached at (SANs). Default `["localhost"]`. */
    readonly dnsNames?: pulumi.Input<pulumi.Input<string>[]>;
    /** Subject common name. Default `docker`. */
    readonly commonName?: pulumi.Input<string>;
    /** Validity in hours. Default {@link DEFAULT_TLS_VALIDITY_HOURS}. */
    readonly validityHours?: pulumi.Input<number>;
}

export interface DockerClientCertArgs {
    /** Subject common name. Default `geth-swarm client`. */
    readonly commonName?: pulumi.Input<string>;
    /** Validity in hours. Default {@link DEFAULT_TLS_VALIDITY_HOURS}. */
    readonly validityHours?: pulumi.Input<number>;
}

const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;

function key(name: string, opts: pulumi.CustomResourceOptions): { res: tls.PrivateKey; pem: pulumi.Output<string> } {
    const res = new tls.PrivateKey(name, KEY, opts);
    // The provider marks it secret; say so here too, so it stays secret whatever runs it.
    return { res, pem: pulumi.secret(res.privateKeyPem) };
}

/**
 * A self-signed CA: resources `<name>-key` and `<name>`.
 */
export function createDockerCa(name: string, args: DockerCaArgs, opts: pulumi.CustomResourceOptions): DockerCa {
    const k = key(`${name}-key`, opts);
    const cert = new tls.SelfSignedCert(
        name,
        {
            privateKeyPem: k.pem,
            isCaCertificate: true,
            subject: { commonName: args.commonName ?? "geth-swarm docker CA", organization: "geth-swarm" },
            validityPeriodHours: args.validityHours ?? DEFAULT_TLS_VALIDITY_HOURS,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        },
        opts,
    );
    return { caPem: cert.certPem, keyPem: k.pem, resources: [k.res, cert] };
}

function signed(
    name: string,
    ca: DockerCa,
    req: { commonName: pulumi.Input<string>; ipAddresses?: pulumi.Input<pulumi.Input<string>[]>; dnsNames?: pulumi.Input<pulumi.Input<string>[]> },
    uses: string[],
    validityHours: pulumi.Input<number> | undefined,
    opts: pulumi.CustomResourceOptions,
): DockerCert {
    const k = key(`${name}-key`, opts);
    const csr = new tls.CertRequest(
        `${name}-csr`,
        { privateKeyPem: k.pem, subject: { commonName: req.commonName, organization: "geth-swarm" }, ipAddresses: req.ipAddresses, dnsNames: req.dnsNames },
        opts,
    );
    const cert = new tls.LocallySignedCert(
        name,
        {
            certRequestPem: csr.certRequestPem,
            caCertPem: ca.caPem,
            caPrivateKeyPem: ca.keyPem,
            validityPeriodHours: validityHours ?? DEFAULT_TLS_VALIDITY_HOURS,
            allowedUses: uses,
        },
        opts,
    );
    return { certPem: cert.certPem, keyPem: k.pem, resources: [k.res, csr, cert] };
}

/**
 * A server certificate for one engine (`dockerd --tlscert/--tlskey`): resources
 * `<name>-key`, `<name>-csr`, `<name>`.
 */
export function createDockerServerCert(name: string, ca: DockerCa, args: DockerServerCertArgs, opts: pulumi.CustomResourceOptions): DockerCert {
    return signed(
        name,
        ca,
        { commonName: args.commonName ?? "docker", ipAddresses: args.ipAddresses, dnsNames: args.dnsNames ?? ["localhost"] },
        ["server_auth", "digital_signature", "key_encipherment"],
        args.validityHours,
        opts,
    );
}

/**
 * A client certificate for this program (dockerode, `@pulumi/docker`, the Docker CLI):
 * resources `<name>-key`, `<name>-csr`, `<name>`.
 */
export function createDockerClientCert(name: string, ca: DockerCa, args: DockerClientCertArgs, opts: pulumi.CustomResourceOptions): DockerCert {
    return signed(name, ca, { commonName: args.commonName ?? "geth-swarm client" }, ["client_auth", "digital_signature", "key_encipherment"], args.validityHours, opts);
}
