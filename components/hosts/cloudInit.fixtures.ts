// Parameters of the rendered user-data that the cloud-init tests share (test-only; not built).
import type { CloudInitParams } from "./cloudInit";

/** The SSM parameter names of a `dev` stack. */
export const PARAMETER_NAMES = {
    workerToken: "/geth-swarm/dev/hosts/join-token/worker",
    managerToken: "/geth-swarm/dev/hosts/join-token/manager",
    tlsCa: "/geth-swarm/dev/hosts/tls/ca-cert",
    tlsCert: "/geth-swarm/dev/hosts/tls/server-cert",
    tlsKey: "/geth-swarm/dev/hosts/tls/server-key",
};

/** The leader (swarm init, Docker API over TLS). */
export const LEADER: CloudInitParams = {
    hostname: "manager", role: "leader", leaderAddress: "10.0.0.10", parameters: PARAMETER_NAMES, dockerTlsPort: 2376, swarmAddressPool: "10.200.0.0/16",
};

/** What every host that joins the leader's swarm shares; add `hostname` and `role`. */
export const JOINING = {
    leaderAddress: "10.0.0.10",
    leaderInstanceId: "i-0123456789abcdef0",
    parameters: { workerToken: PARAMETER_NAMES.workerToken, managerToken: PARAMETER_NAMES.managerToken },
    swarmAddressPool: "10.200.0.0/16",
};
