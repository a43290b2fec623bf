#!/bin/bash
# Instructions per request of a proxy, independent of other load on the machine (see README.md).
# usage: bench/src/cost/instructions.sh <servers/x.mjs> [warm=8000] [requests=2000] [header]
#   env: CG_PATH (request path), BENCH_GW_CORE (another @gw/core build for servers/gw.mjs), OUT (result dir)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
SCRIPT=$1; WARM=${2:-8000}; N=${3:-2000}; HDR=${4:-}
OUT=${OUT:-$(mktemp -d /tmp/gw-cost.XXXXXX)}
UPSTREAM=$([ -x "$(command -v nginx)" ] && echo upstream-nginx.mjs || echo upstream.mjs)
UPORT=$((20000 + RANDOM % 10000)); PPORT=$((30000 + RANDOM % 10000))
exec 3> >(BENCH_PORT=$UPORT node "$SRC/$UPSTREAM" > "$OUT/upstream.log" 2>&1)
sleep 1.5
exec 4> >(BENCH_PORT=$PPORT BENCH_UPSTREAM=http://127.0.0.1:$UPORT NODE_ENV=production BENCH_MAX_LIFETIME_MS=7200000 \
  valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --smc-check=all-non-file \
  --callgrind-out-file="$OUT/cg.out" node --no-concurrent-recompilation "$SRC/$SCRIPT" > "$OUT/proxy.log" 2> "$OUT/valgrind.log")
for _ in $(seq 900); do grep -q '"ready":true' "$OUT/proxy.log" 2>/dev/null && break; sleep 1; done
PID=$(grep -o '^==[0-9]*==' "$OUT/valgrind.log" | head -1 | tr -d =)
node "$SRC/cost/client.mjs" "http://127.0.0.1:$PPORT" "$WARM" 10 "$HDR" > /dev/null
callgrind_control -i on "$PID" > /dev/null
node "$SRC/cost/client.mjs" "http://127.0.0.1:$PPORT" "$N" 10 "$HDR" > "$OUT/client.log"
callgrind_control -i off "$PID" > /dev/null
callgrind_control -d "$PID" > /dev/null
sleep 2
echo "$SCRIPT${BENCH_GW_CORE:+ ($BENCH_GW_CORE)}: $(node "$SRC/cost/callgrind-summary.mjs" "$N" "$OUT"/cg.out*-[0-9]*) ($(cat "$OUT/client.log"))"
exec 4>&-
sleep 2
exec 3>&-
