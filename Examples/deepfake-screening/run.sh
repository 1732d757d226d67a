#!/usr/bin/env bash
# Deepfake screening: a bank of real images only, then score generated images against it.
# Usage: Examples/deepfake-screening/run.sh [DATA_DIR] [OUT_DIR]
#   DATA_DIR  the realfake folder holding imagenet-real/real, aibingo/fake, bias-ai-university/fake;
#             default ../shared/data/realfake
#   OUT_DIR   where the bank, scores and heatmaps go; default a fresh mktemp -d
set -euo pipefail
export LC_ALL=C   # sorted file lists are the same on every machine

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${1:-$ROOT/../shared/data/realfake}"
OUT="${2:-}"
N_FIT="${N_FIT:-124}"    # real images that fit the bank (half of imagenet-real)
N_TEST="${N_TEST:-124}"  # held-out real images for eval (the other half)

for d in imagenet-real/real aibingo/fake bias-ai-university/fake; do
  if [[ ! -d "$DATA/$d" ]]; then
    echo "error: $DATA/$d not found: pass the realfake data folder as the first argument" >&2
    echo "       (expected: imagenet-real/real, aibingo/fake/<generator>, bias-ai-university/fake/<generator>; see ../shared/data/README.md)" >&2
    exit 1
  fi
done
if [[ -z "$OUT" ]]; then OUT="$(mktemp -d)"; else mkdir -p "$OUT"; fi

AK="${ANOMALYKIT:-$ROOT/.build/release/anomalykit}"
if [[ ! -x "$AK" ]]; then
  echo "building anomalykit (swift build -c release --product anomalykit) ..."
  (cd "$ROOT" && swift build -c release --product anomalykit)
fi

# Disjoint halves of the 248 real photos (sorted names): even positions fit the bank, odd ones are held out.
REAL=("$DATA/imagenet-real/real"/*.png)
FIT=(); TEST=()
for i in "${!REAL[@]}"; do
  if (( i % 2 == 0 && ${#FIT[@]} < N_FIT )); then FIT+=("${REAL[$i]}"); fi
  if (( i % 2 == 1 && ${#TEST[@]} < N_TEST )); then TEST+=("${REAL[$i]}"); fi
done
FAKE=("$DATA/aibingo/fake" "$DATA/bias-ai-university/fake")
echo "real images: ${#FIT[@]} fit the bank, ${#TEST[@]} held out; generated: aibingo (DALL-E, Midjourney, Stable Diffusion) + bias-ai-university (ChatGPT-image, Midjourney-v7, Whisk)"

t() { local s=$SECONDS; "$@"; echo "  ($(( SECONDS - s )) s)"; }

echo
echo "== 1. fit a real-only bank (--preset deepfake: stages 1-3 at native resolution, JPEG 90 harmonisation, random 10% of patches)"
t "$AK" fit --preset deepfake "${FIT[@]}" --out "$OUT/real.safetensors"

echo
echo "== 2. eval: held-out real photos vs generated images (every image re-encoded as JPEG 90 first, from the bank's recipe)"
t "$AK" eval --bank "$OUT/real.safetensors" --normal "${TEST[@]}" --anomalous "${FAKE[@]}" --scores-out "$OUT/scores.csv"

echo
echo "== 3. AUROC per generator (from $OUT/scores.csv)"
python3 "$ROOT/Examples/deepfake-screening/per_generator_auroc.py" "$OUT/scores.csv"

echo
echo "== 4. heatmaps: two held-out real photos and one image from each aibingo generator"
HM=("${TEST[0]}" "${TEST[1]}")
for g in dalle midjourney stable-diffusion; do f=("$DATA/aibingo/fake/$g"/*.png); HM+=("${f[0]}"); done
t "$AK" score --bank "$OUT/real.safetensors" "${HM[@]}" --heatmaps "$OUT/heatmaps"

echo
echo "outputs: $OUT"
echo "  bank:     $OUT/real.safetensors"
echo "  scores:   $OUT/scores.csv"
echo "  heatmaps: $OUT/heatmaps/"
ls "$OUT/heatmaps" | sed 's/^/    /'
