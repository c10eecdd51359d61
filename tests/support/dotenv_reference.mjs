// The reference `.env` reader for tests/formats/dotenv_reference.rs: OpenClaw's own
// `readDotEnvFile` (dist/dotenv-global-*.mjs: the 1 MB limit, dotenv 17's `parse`, the
// portable-name filter), run by OpenClaw's Node. One JSON case per stdin line
// (`{"text": "..."}`), one JSON answer per stdout line: `{"entries": [[name, value], ...]}`
// in OpenClaw's order, or `{"entries": null}` when OpenClaw reads nothing.
// Usage: node dotenv_reference.mjs OPENCLAW_PACKAGE_DIR
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const dist = path.join(process.argv[2], "dist");
// The chunk names are content hashes: find the one that exports readDotEnvFile.
let read = null;
for (const f of fs.readdirSync(dist).filter((f) => /^dotenv-global-.*\.mjs$/.test(f))) {
  const src = fs.readFileSync(path.join(dist, f), "utf8");
  const m = /\breadDotEnvFile as (\w+)\b/.exec(src);
  if (m && /function readDotEnvFile\(/.test(src)) {
    read = (await import(pathToFileURL(path.join(dist, f)).href))[m[1]];
    break;
  }
}
if (typeof read !== "function") {
  console.error(`no readDotEnvFile export in ${dist}/dotenv-global-*.mjs`);
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dotenv-ref-"));
const file = path.join(dir, ".env");
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line) continue;
  const { text } = JSON.parse(line);
  fs.writeFileSync(file, text);
  const parsed = read({ filePath: file, quiet: true });
  const entries = parsed ? parsed.entries.map(({ key, value }) => [key, value]) : null;
  process.stdout.write(JSON.stringify({ entries }) + "\n");
}
