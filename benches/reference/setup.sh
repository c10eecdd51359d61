#!/usr/bin/env bash
# Reference implementation of GateRouter's OpenClaw setup, written the way such scripts are:
# bash, curl and jq, the two requests one after the other, one jq process per edit. It is only
# the comparison point for scripts/bench.sh; it has none of gaterouter-setup's safety (no
# diff, no backup, no JSON5, no atomic writes).
#
#   benches/reference/setup.sh <API_KEY> <OPENCLAW_ROOT>     (SKIP_PROBE=1: local part only)
set -euo pipefail
KEY=$1
ROOT=$2
BASE=${GATEROUTER_BASE_URL:-https://api.gaterouter.ai/openai/v1}

# 1. Connectivity and auto routing.
if [ -z "${SKIP_PROBE:-}" ]; then
  MODELS=$(curl -sS -f -H "Authorization: Bearer $KEY" "$BASE/models")
  AUTO=$(curl -sS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d '{"model":"auto","messages":[{"role":"user","content":"ping"}],"max_completion_tokens":16}' \
    "$BASE/chat/completions")
  if echo "$AUTO" | jq -e '(.error.message // "") | test("auto routing is not enabled")' >/dev/null; then
    echo "warning: auto routing is not enabled" >&2
  fi
  MODEL_LIST=$(echo "$MODELS" | jq -c '[.data[] | {id: .id, name: .id}]')
else
  MODEL_LIST='[{"id":"auto","name":"GateRouter Auto"},{"id":"anthropic/claude-sonnet-4.6","name":"Claude Sonnet 4.6"}]'
fi

# 2. .env
touch "$ROOT/.env"
grep -v '^GATEROUTER_API_KEY=' "$ROOT/.env" > "$ROOT/.env.tmp" || true
echo "GATEROUTER_API_KEY=$KEY" >> "$ROOT/.env.tmp"
mv "$ROOT/.env.tmp" "$ROOT/.env"
chmod 600 "$ROOT/.env"

# 3. models.json of every agent
mkdir -p "$ROOT/agents/main/agent"
for dir in "$ROOT"/agents/*/agent; do
  m=$dir/models.json
  [ -f "$m" ] || echo '{"providers":{}}' > "$m"
  jq --arg base "$BASE" --argjson models "$MODEL_LIST" \
    '.providers.gaterouter = {baseUrl: $base, apiKey: "GATEROUTER_API_KEY", api: "openai-completions", models: $models}' \
    "$m" > "$m.tmp" && mv "$m.tmp" "$m"
done

# 4. openclaw.json, one edit at a time
CFG=$ROOT/openclaw.json
[ -f "$CFG" ] || echo '{}' > "$CFG"
jq '.agents.defaults.model.primary = "gaterouter/auto"' "$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
jq '.agents.defaults.model.fallbacks = ["gaterouter/anthropic/claude-sonnet-4.6", "openrouter/anthropic/claude-sonnet-4.6"]' "$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
jq '.auth.profiles["gaterouter:default"] = {provider: "gaterouter", mode: "api_key"}' "$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
jq --arg base "$BASE" --argjson models "$MODEL_LIST" \
  '.models.providers.gaterouter = {baseUrl: $base, apiKey: "${GATEROUTER_API_KEY}", api: "openai-completions", models: $models}' \
  "$CFG" > "$CFG.tmp" && mv "$CFG.tmp" "$CFG"
echo "GateRouter configured in $ROOT"
