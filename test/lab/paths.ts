// Fixed names and places of the lab, shared by setup and cleanup. Everything the lab creates
// on the machine carries one of these prefixes, so a later run (or `npx tsx test/lab/cleanup.ts`)
// can find and remove what an interrupted run left behind.
import * as path from "node:path";

/** Runtime state: sockets, pidfiles, exec roots, daemon logs, the UTS namespace files. */
export const LAB_STATE_DIR = "/run/geth-swarm-lab";
/** Docker data roots (on disk: overlay2 needs a real filesystem under it). */
export const LAB_DATA_DIR = "/var/lib/geth-swarm-lab";
/** Who owns the lab right now: `<pid> <process start time>`. Outside LAB_STATE_DIR so cleanup keeps it. */
export const LAB_OWNER_FILE = "/run/geth-swarm-lab.owner";
/** Prefix of the network namespaces (`ip netns`) and of the links in the root namespace. */
export const NETNS_PREFIX = "gsl-";
export const LINK_PREFIX = "gsl";
export const BRIDGE = "gsl-br0";
/** Comment on every iptables rule the lab adds in the root namespace. */
export const IPTABLES_COMMENT = "geth-swarm-lab";
/** Parent cgroup (cgroupfs driver) of every lab container: /sys/fs/cgroup/<controller>/geth-swarm-lab/<host>/<id>. */
export const CGROUP_PARENT = "geth-swarm-lab";
export const CGROUP_ROOT = "/sys/fs/cgroup";

export const hostStateDir = (name: string) => path.join(LAB_STATE_DIR, "hosts", name);
export const hostDataRoot = (name: string) => path.join(LAB_DATA_DIR, name);
export const hostSocket = (name: string) => path.join(hostStateDir(name), "docker.sock");
export const hostNetns = (name: string) => `${NETNS_PREFIX}${name}`;
export const netnsPath = (name: string) => `/var/run/netns/${hostNetns(name)}`;
export const utsDir = path.join(LAB_STATE_DIR, "uts");
export const utsPath = (name: string) => path.join(utsDir, name);
export const vethName = (index: number) => `${LINK_PREFIX}v${index}`;
