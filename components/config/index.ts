export * from "./keys";
export * from "./types";
export * from "./resolve";
export * from "./load";
export * from "./reference";
