export * from "./subnets";
export * from "./firewallRules";
export * from "./swarmVpc";
export * from "./swarmFirewall";
