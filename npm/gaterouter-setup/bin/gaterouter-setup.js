#!/usr/bin/env node
// Runs the prebuilt gaterouter-setup binary that npm installed for this platform (one of the
// optionalDependencies, picked by their os/cpu fields: no download, no install script).
"use strict";
const { spawn } = require("child_process");
const os = require("os");
const path = require("path");
const { scope, platforms } = require("../platforms.json");

const host = `${process.platform}-${process.arch}`;
const me = "gaterouter-setup";
const supported = Object.keys(platforms).join(", ");

function fail(lines) {
  process.stderr.write(lines.map((l) => `${me}: ${l}\n`).join(""));
  process.exit(1);
}

if (!Object.hasOwn(platforms, host)) {
  fail([
    `no prebuilt binary for this platform (${host}); the npm package has ${supported}.`,
    "Elsewhere, build it from source with Rust: cargo install --locked gaterouter-setup",
  ]);
}

const pkg = `${scope}/${host}`;
let binary;
try {
  binary = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "bin", me);
} catch {
  fail([
    `${pkg}, the binary for ${host}, is not installed next to this launcher:`,
    "npm leaves it out when optional dependencies are omitted (--omit=optional) or when",
    "node_modules was installed for another platform (--os/--cpu, or copied from another machine).",
    `Reinstall on this machine: npm install -g ${me}`,
  ]);
}

// The launcher waits for the binary: a signal sent to it (kill PID, a supervisor's SIGTERM)
// goes on to the binary, which decides when to stop (it finishes an apply first). Listening
// before the spawn leaves no moment in which a signal ends the launcher and orphans the
// binary: a signal that arrives during the spawn is handled after it, when child is set.
const forwarded = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];
let child;
const forward = (sig) => child.kill(sig);
for (const sig of forwarded) process.on(sig, forward);
child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
child.on("error", (e) => fail([`cannot run ${binary}: ${e.message}`]));
child.on("exit", (code, signal) => {
  for (const sig of forwarded) process.removeListener(sig, forward);
  if (signal) {
    // End the way the binary ended, so a caller sees the same signal, not an exit code.
    process.kill(process.pid, signal);
    // A signal Node does not die of (one it handles itself): the shell's convention instead.
    setTimeout(() => process.exit(128 + (os.constants.signals[signal] || 0)), 200);
    return;
  }
  process.exit(code);
});
