#!/usr/bin/env bash
# Chatbot cold start: an out-of-scope detector from intent descriptions only, then adapted to live traffic.
# Usage: Examples/chatbot-coldstart/run.sh [DATA_DIR] [OUT_DIR]
#   DATA_DIR  Banking77-OOS in the official layout (descriptions.json, train/seq.in, test/seq.in,
#             id-oos/valid/seq.in, id-oos/test/seq.in); default ../shared/data/coldstart/banking77-oos
#   OUT_DIR   where the detector, stream chunks and scores go; default a fresh mktemp -d
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${1:-$ROOT/../shared/data/coldstart/banking77-oos}"
OUT="${2:-}"
CHUNKS="${CHUNKS:-5}"
HERE="$ROOT/Examples/chatbot-coldstart"

for f in descriptions.json train/seq.in test/seq.in id-oos/valid/seq.in id-oos/test/seq.in; do
  if [[ ! -f "$DATA/$f" ]]; then
    echo "error: $DATA/$f not found: pass the Banking77-OOS folder (official layout) as the first argument" >&2
    echo "       (expected: descriptions.json, train/seq.in, test/seq.in, id-oos/valid/seq.in, id-oos/test/seq.in; see ../shared/data/README.md)" >&2
    exit 1
  fi
done
if [[ -z "$OUT" ]]; then OUT="$(mktemp -d)"; else mkdir -p "$OUT"; fi

AK="${ANOMALYKIT:-$ROOT/.build/release/anomalykit}"
if [[ ! -x "$AK" ]]; then
  echo "building anomalykit (swift build -c release --product anomalykit) ..."
  (cd "$ROOT" && swift build -c release --product anomalykit)
fi

t() { local s=$SECONDS; "$@"; echo "  ($(( SECONDS - s )) s)"; }

echo "== 1. the stream a deployed chatbot would see: in-scope queries with 5% out-of-scope ones mixed in (temp files in $OUT)"
python3 "$HERE/make_stream.py" "$DATA" "$OUT" --chunks "$CHUNKS" --contamination 0.05 --seed 0

echo
echo "== 2. day 0: a zero-shot detector from one example query per in-scope intent (no traffic yet)"
t "$AK" adapt --descriptions "$DATA/descriptions.json" --out "$OUT/detector.safetensors"

measure() {  # score the fixed test set with the current detector, print one table row
  "$AK" score --detector "$OUT/detector.safetensors" --text-file "$OUT/test.txt" --json > "$OUT/scores-$2.json"
  python3 "$HERE/measure.py" "$1" "$OUT/scores-$2.json" "$OUT/test-labels.txt" >> "$OUT/table.txt"
  tail -1 "$OUT/table.txt"
}
printf '%-26s%7s   %7s   %7s\n' "after" "AUROC" "TPR" "FPR" > "$OUT/table.txt"
echo
echo "== 3. adapt on the unlabelled stream, chunk by chunk; after each chunk, measure on the fixed test set"
echo "   (AUROC in %; TPR/FPR: share of out-of-scope/in-scope test queries flagged at the detector's own threshold)"
head -1 "$OUT/table.txt"
s=$SECONDS
measure "descriptions only" 0
seen=0
for k in $(seq 1 "$CHUNKS"); do
  if ! "$AK" adapt --detector "$OUT/detector.safetensors" --observations "$OUT/stream-$k.txt" > "$OUT/adapt-$k.log" 2>&1; then
    cat "$OUT/adapt-$k.log" >&2; exit 1
  fi
  seen=$(( seen + $(wc -l < "$OUT/stream-$k.txt") ))
  measure "chunk $k ($seen queries)" "$k"
done
echo "  ($(( SECONDS - s )) s for $CHUNKS adapt steps and $(( CHUNKS + 1 )) scorings of $(wc -l < "$OUT/test.txt") test queries)"
echo
echo "summary (also in $OUT/table.txt):"
cat "$OUT/table.txt"
echo
echo "detector after the last chunk:"
cat "$OUT/adapt-$CHUNKS.log"

echo
echo "== 4. the paper's protocol numbers (AUC@x% = mean test AUROC over the first x% of the stream, seed 0)"
t "$AK" coldstart eval "$DATA" --method all --seed 0

echo
echo "outputs: $OUT"
echo "  detector:    $OUT/detector.safetensors"
echo "  table:       $OUT/table.txt"
echo "  test scores: $OUT/scores-0.json .. scores-$CHUNKS.json"
