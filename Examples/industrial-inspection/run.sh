#!/usr/bin/env bash
# Industrial inspection: a normal-only patch bank on Magnetic Tile.
# Usage: Examples/industrial-inspection/run.sh [DATA_DIR] [OUT_DIR]
#   DATA_DIR  Magnetic Tile (MT_Free/images, MT_<defect>/images); default ../shared/data/industrial/magnetic-tile
#   OUT_DIR   where the bank, scores and heatmaps go; default a fresh mktemp -d
set -euo pipefail
export LC_ALL=C   # sorted file lists are the same on every machine

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${1:-$ROOT/../shared/data/industrial/magnetic-tile}"
OUT="${2:-}"
N_FIT="${N_FIT:-200}"      # normal images that fit the bank
N_TEST="${N_TEST:-100}"    # held-out normal images for eval
DEFECTS=(MT_Blowhole MT_Break MT_Crack MT_Fray MT_Uneven)

if [[ ! -d "$DATA/MT_Free/images" ]]; then
  echo "error: $DATA/MT_Free/images not found: pass the Magnetic Tile folder as the first argument" >&2
  echo "       (expected layout: MT_Free/images/*.png and MT_<defect>/images/*.png; see ../shared/data/README.md)" >&2
  exit 1
fi
for d in "${DEFECTS[@]}"; do
  [[ -d "$DATA/$d/images" ]] || { echo "error: $DATA/$d/images not found" >&2; exit 1; }
done
if [[ -z "$OUT" ]]; then OUT="$(mktemp -d)"; else mkdir -p "$OUT"; fi

AK="${ANOMALYKIT:-$ROOT/.build/release/anomalykit}"
if [[ ! -x "$AK" ]]; then
  echo "building anomalykit (swift build -c release --product anomalykit) ..."
  (cd "$ROOT" && swift build -c release --product anomalykit)
fi

# Deterministic, spread-out subsets of the 952 normal images (sorted names):
# every 4th image (i % 4 == 0) fits the bank; a disjoint set (i % 4 == 2) is the held-out normal test set.
FREE=("$DATA/MT_Free/images"/*.png)
FIT=(); TEST=()
for i in "${!FREE[@]}"; do
  if (( i % 4 == 0 && ${#FIT[@]} < N_FIT )); then FIT+=("${FREE[$i]}"); fi
  if (( i % 4 == 2 && ${#TEST[@]} < N_TEST )); then TEST+=("${FREE[$i]}"); fi
done
ANOM=(); for d in "${DEFECTS[@]}"; do ANOM+=("$DATA/$d/images"); done
echo "normal images: ${#FIT[@]} fit the bank, ${#TEST[@]} held out; defect classes: ${DEFECTS[*]}"

t() { local s=$SECONDS; "$@"; echo "  ($(( SECONDS - s )) s)"; }

echo
echo "== 1. fit a patch bank on normal images only (defaults: stages 3+5, greedy 1% coreset, threshold at the 99th percentile"
echo "      of cross-fitted normal scores; --resize stretch keeps the tile borders, as in the benchmark)"
# The recipe this example was measured with (issue 3): 224 px, signed sqrt. The toolkit's patch defaults
# are now 320 px without a transform, chosen across four industrial sets (Notebooks-export/industrial.md).
t "$AK" fit --patches --resize stretch --input-size 224 --transform sqrt "${FIT[@]}" --out "$OUT/tiles.safetensors"
"$AK" info "$OUT/tiles.safetensors" | grep -iE 'threshold|rows|coreset|scorer' || true

echo
echo "== 2. eval: held-out normals vs all defect images"
t "$AK" eval --bank "$OUT/tiles.safetensors" --normal "${TEST[@]}" --anomalous "${ANOM[@]}" --scores-out "$OUT/scores.csv"

echo
echo "== 3. image AUROC per defect class, and how many images the threshold flags (from $OUT/scores.csv)"
THRESHOLD="$("$AK" info "$OUT/tiles.safetensors" | sed -n 's/^ *threshold = //p')"
python3 "$ROOT/Examples/industrial-inspection/per_class_auroc.py" "$OUT/scores.csv" "$THRESHOLD"

echo
echo "== 4. heatmaps for one image of each defect class and one held-out normal"
HM=(); for d in "${DEFECTS[@]}"; do f=("$DATA/$d/images"/*.png); HM+=("${f[0]}"); done
HM+=("${TEST[0]}")
t "$AK" score --bank "$OUT/tiles.safetensors" "${HM[@]}" --heatmaps "$OUT/heatmaps"

echo
echo "outputs: $OUT"
echo "  bank:     $OUT/tiles.safetensors"
echo "  scores:   $OUT/scores.csv"
echo "  heatmaps: $OUT/heatmaps/"
ls "$OUT/heatmaps" | sed 's/^/    /'
