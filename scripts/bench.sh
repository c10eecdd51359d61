#!/usr/bin/env bash
# Benchmarks gaterouter-setup against the shell script it replaces (benches/reference/setup.sh)
# and at fleet scale. Installs hyperfine from Debian's packages when it is missing.
#
#   bash scripts/bench.sh            # all four; results in target/bench/results.md
#   RUNS=20 LATENCY_MS=200 bash scripts/bench.sh
#
# Everything runs on 127.0.0.1 against the stand-in (examples/stand_in.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
LATENCY_MS=${LATENCY_MS:-200}
FLEET=${FLEET:-1000}
KEY=sk-or-v1-bench-0000000000000000abcd
OUT=target/bench
W=$(mktemp -d)
trap 'kill "${STAND_IN_PID:-}" 2>/dev/null || true; rm -rf "$W"' EXIT
mkdir -p "$OUT"

if ! command -v hyperfine >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq hyperfine) >/dev/null
  else
    echo "bench.sh: hyperfine is missing; install it (apt-get install hyperfine)" >&2
    exit 1
  fi
fi
for t in curl jq /usr/bin/time; do command -v "$t" >/dev/null || { echo "bench.sh: $t is missing" >&2; exit 1; }; done

# The binary as shipped (profile dist: fat LTO, one codegen unit), not the quicker release build.
cargo build --profile dist --quiet
cargo build --release --quiet --example stand_in
BIN=$PWD/target/dist/gaterouter-setup
REF=$PWD/benches/reference/setup.sh

target/release/examples/stand_in --latency-ms "$LATENCY_MS" --key "$KEY" > "$W/url" &
STAND_IN_PID=$!
for _ in $(seq 50); do [ -s "$W/url" ] && break; sleep 0.1; done
URL=$(head -1 "$W/url")
export GATEROUTER_BASE_URL=$URL NO_COLOR=1
FIX=fixtures/roots/onboarded/input

median() { jq -r ".results[$2].median" "$1"; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }

echo "== 1. end to end, stand-in at ${LATENCY_MS} ms"
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/round-trip.json" \
  "curl -s -o /dev/null -H 'Authorization: Bearer $KEY' $URL/models" >/dev/null
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/e2e.json" \
  --prepare "rm -rf $W/ours && cp -r $FIX $W/ours && sync" "$BIN --yes -q $KEY $W/ours" \
  --prepare "rm -rf $W/ref && cp -r $FIX $W/ref && sync" "bash $REF $KEY $W/ref >/dev/null"
RTT=$(median "$OUT/round-trip.json" 0); E_OURS=$(median "$OUT/e2e.json" 0); E_REF=$(median "$OUT/e2e.json" 1)

echo "== 2. offline, large root (1 MB config, 50 agents)"
python3 - "$W/big" <<'PY'
import json, os, sys
root = sys.argv[1]
os.makedirs(root, exist_ok=True)
cfg = {"meta": {"lastTouchedVersion": "2026.9.6"},
       "agents": {"ownership": "explicit",
                  "defaults": {"workspace": "~/.openclaw/workspace", "model": {"primary": "anthropic/claude-opus-4-6", "fallbacks": ["openai/gpt-5.4"]}},
                  "entries": {f"agent{i}": {"identity": {"name": f"Agent {i}"}} for i in range(50)}},
       "models": {"mode": "merge", "providers": {"openrouter": {"baseUrl": "https://openrouter.ai/api/v1", "apiKey": "${OPENROUTER_API_KEY}", "api": "openai-completions", "models": []}}}}
models = cfg["models"]["providers"]["openrouter"]["models"]
i = 0
while len(json.dumps(cfg, indent=2)) < 1_000_000:
    models.append({"id": f"vendor{i % 37}/model-{i}.{i % 10}", "name": f"Vendor {i % 37} Model {i}", "contextWindow": 128000 + i, "maxTokens": 32000, "cost": {"input": 1.5, "output": 6, "cacheRead": 0.3, "cacheWrite": 1.8}})
    i += 1
open(f"{root}/openclaw.json", "w").write(json.dumps(cfg, indent=2) + "\n")
open(f"{root}/.env", "w").write("ANTHROPIC_API_KEY=sk-ant-bench-000000000000\n")
for a in range(50):
    d = f"{root}/agents/agent{a}/agent"
    os.makedirs(d, exist_ok=True)
    open(f"{d}/models.json", "w").write(json.dumps({"providers": {"anthropic": {"baseUrl": "https://api.anthropic.com", "apiKey": "ANTHROPIC_API_KEY", "api": "anthropic-messages", "models": [{"id": "claude-opus-4-6", "name": "Claude Opus 4.6"}]}}}, indent=2) + "\n")
PY
hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/offline.json" \
  --prepare "rm -rf $W/o && cp -r $W/big $W/o && sync" "$BIN --offline --yes -q $KEY $W/o" \
  --prepare "rm -rf $W/r && cp -r $W/big $W/r && sync" "SKIP_PROBE=1 bash $REF $KEY $W/r >/dev/null"
O_OURS=$(median "$OUT/offline.json" 0); O_REF=$(median "$OUT/offline.json" 1)

echo "== 3. $FLEET roots in one invocation"
mkdir -p "$W/fleet-src"
for i in $(seq "$FLEET"); do cp -r "$FIX" "$W/fleet-src/r$i"; done
seq "$FLEET" | sed "s|^|$W/fleet/r|" > "$W/roots.txt"
hyperfine --runs 3 --export-json "$OUT/fleet.json" \
  --prepare "rm -rf $W/fleet && cp -r $W/fleet-src $W/fleet && sync" "$BIN --offline --yes -q --roots-from $W/roots.txt $KEY"
F=$(median "$OUT/fleet.json" 0)

echo "== 4. peak memory and binary size"
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ { print $2 }'; }
rm -rf "$W/m" && cp -r "$FIX" "$W/m"
RSS_E2E=$(rss "$BIN" --yes -q "$KEY" "$W/m")
rm -rf "$W/o" && cp -r "$W/big" "$W/o"
RSS_BIG=$(rss "$BIN" --offline --yes -q "$KEY" "$W/o")
rm -rf "$W/fleet" && cp -r "$W/fleet-src" "$W/fleet"
RSS_FLEET=$(rss "$BIN" --offline --yes -q --roots-from "$W/roots.txt" "$KEY")
SIZE=$(stat -c %s "$BIN")

{
  echo "| measure | result | target |"
  echo "| --- | --- | --- |"
  echo "| one round trip to the stand-in (curl) | $(ms "$RTT") | |"
  echo "| end to end, gaterouter-setup | $(ms "$E_OURS") ($(awk -v a="$E_OURS" -v b="$RTT" 'BEGIN{printf "%.2f", a/b}') × round trip) | ≤ 1.15 × round trip |"
  echo "| end to end, reference script | $(ms "$E_REF") ($(awk -v a="$E_REF" -v b="$E_OURS" 'BEGIN{printf "%.2f", a/b}') × slower) | ≥ 1.8 × slower |"
  echo "| offline, large root, gaterouter-setup | $(ms "$O_OURS") | |"
  echo "| offline, large root, reference (local part) | $(ms "$O_REF") ($(awk -v a="$O_REF" -v b="$O_OURS" 'BEGIN{printf "%.1f", a/b}') × slower) | ≥ 20 × slower |"
  echo "| $FLEET roots, one invocation | $(ms "$F") total, $(awk -v a="$F" -v n="$FLEET" 'BEGIN{printf "%.2f ms", a*1000/n}') per root | < 2 s |"
  echo "| peak RSS: end to end / large root / $FLEET roots | $RSS_E2E / $RSS_BIG / $RSS_FLEET KB | < 20 MB |"
  echo "| dist binary (stripped) | $(awk -v s="$SIZE" 'BEGIN{printf "%.2f MB", s/1e6}') | < 8 MB |"
} | tee "$OUT/results.md"
