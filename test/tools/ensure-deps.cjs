#!/usr/bin/env node
// Runs `npm ci` when the project's dependencies are not installed (a fresh clone) or are
// older than package-lock.json, so `npm test` works as the first command after `git clone`.
// Node built-ins only: it runs before anything is installed.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const lock = path.join(root, "package-lock.json");
const installed = path.join(root, "node_modules", ".package-lock.json");

function stale() {
    if (!fs.existsSync(installed)) return "not installed";
    if (fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) return "older than package-lock.json";
    return undefined;
}

const why = stale();
if (why) {
    process.stderr.write(`geth-swarm: dependencies ${why}: npm ci\n`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) {
        process.stderr.write("geth-swarm: npm ci failed; see its output above (npm needs the registry, or a cache of it).\n");
        process.exit(r.status ?? 1);
    }
}
