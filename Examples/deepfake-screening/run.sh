#!/usr/bin/env bash
# Deepfake screening: a detector fitted on real photos only, then score generated images against it.
# Usage: Examples/deepfake-screening/run.sh [DATA_DIR] [OUT_DIR]
#   DATA_DIR  ../shared/data (holding realfake/ and faces/); default ../shared/data beside the repository
#   OUT_DIR   where the detector and scores go; default a fresh mktemp -d
set -euo pipefail
export LC_ALL=C   # sorted file lists are the same on every machine

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${1:-$ROOT/../shared/data}"
OUT="${2:-}"

for d in realfake/imagenet-real/real realfake/ml72/real faces/identities/images realfake/aibingo/fake realfake/bias-ai-university/fake; do
  if [[ ! -d "$DATA/$d" ]]; then
    echo "error: $DATA/$d not found: pass the shared data folder (holding realfake/ and faces/) as the first argument" >&2
    echo "       (see ../shared/data/README.md)" >&2
    exit 1
  fi
done
if [[ -z "$OUT" ]]; then OUT="$(mktemp -d)"; else mkdir -p "$OUT"; fi

AK="${ANOMALYKIT:-$ROOT/.build/release/anomalykit}"
if [[ ! -x "$AK" ]]; then
  echo "building anomalykit (swift build -c release --product anomalykit) ..."
  (cd "$ROOT" && swift build -c release --product anomalykit)
fi

# Three real sources; in each, even positions (sorted names) fit the detector and odd ones are held out.
FIT=(); TEST=()
for src in realfake/imagenet-real/real realfake/ml72/real faces/identities/images; do
  files=("$DATA/$src"/*.png)
  for i in "${!files[@]}"; do
    if (( i % 2 == 0 )); then FIT+=("${files[$i]}"); else TEST+=("${files[$i]}"); fi
  done
done
FAKE=("$DATA/realfake/aibingo/fake" "$DATA/realfake/bias-ai-university/fake")
echo "real photos: ${#FIT[@]} fit the detector, ${#TEST[@]} held out (ImageNet, ml72, faces)"
echo "generated: aibingo (DALL-E, Midjourney, Stable Diffusion) + bias-ai-university (ChatGPT-image, Midjourney-v7, Whisk)"

t() { local s=$SECONDS; "$@"; echo "  ($(( SECONDS - s )) s)" >&2; }

echo
echo "== 1. fit on real photos only (default cues noise:lower + minder_pool:upper, JPEG 90 harmonisation, 5% false alarms on reals)"
t "$AK" deepfake fit "${FIT[@]}" --out "$OUT/real.safetensors"

echo
echo "== 2. score held-out real photos and generated images (JSON: fused score, verdict, each cue's z and evidence)"
t "$AK" deepfake score --bank "$OUT/real.safetensors" --json "${TEST[@]}" "${FAKE[@]}" > "$OUT/scores.json"

echo
echo "== 3. AUROC per generator and the verdicts (from $OUT/scores.json)"
python3 "$ROOT/Examples/deepfake-screening/per_generator_auroc.py" "$OUT/scores.json"

echo
echo "== 4. one image from each aibingo generator, as a screening service would see it"
ONE=()
for g in dalle midjourney stable-diffusion; do f=("$DATA/realfake/aibingo/fake/$g"/*.png); ONE+=("${f[0]}"); done
"$AK" deepfake score --bank "$OUT/real.safetensors" "${TEST[0]}" "${ONE[@]}"

echo
echo "outputs: $OUT"
echo "  detector: $OUT/real.safetensors"
echo "  scores:   $OUT/scores.json"
