#!/usr/bin/env bash
# Builds the libFuzzer targets with AddressSanitizer, seeds each with real
# files, runs them one after another (one job each, to spare shared CPUs)
# and prints executions, coverage and findings per target.
#
#   Fuzz/run.sh [TARGET...] [-runs N]
#
# TARGET is png, jpeg, safetensors, npy, json, descriptions, text or banks
# (default: all); N is the executions per target (default 100000).
# FUZZ_WORK=DIR keeps the corpora, logs and crash artefacts in DIR (default:
# a new /tmp/anomalykit-fuzz.XXXXXX, kept and printed at the end).
# FUZZ_SKIP_BUILD=1 reuses the last build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
shared="$root/../shared/data"
fixtures="$root/Tests/Fixtures"
regressions="$fixtures/fuzz-regressions"

all=(png jpeg safetensors npy json descriptions text banks)
runs=100000
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -runs) runs="$2"; shift 2 ;;
    -runs=*) runs="${1#-runs=}"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

executable() {
  case "$1" in
    png) echo FuzzPNG ;; jpeg) echo FuzzJPEG ;; safetensors) echo FuzzSafeTensors ;;
    npy) echo FuzzNPY ;; json) echo FuzzJSON ;; descriptions) echo FuzzDescriptions ;;
    text) echo FuzzTextLines ;; banks) echo FuzzBankFiles ;;
    *) echo "unknown target '$1' (expected one of: ${all[*]})" >&2; exit 2 ;;
  esac
}
# Longest input per target: a few real files fit whole; longer seeds are cut.
max_len() {
  case "$1" in
    png|jpeg) echo 65536 ;; safetensors|banks) echo 131072 ;; npy) echo 8192 ;;
    json|descriptions) echo 16384 ;; text) echo 2048 ;;
  esac
}
for t in "${targets[@]}"; do executable "$t" >/dev/null; done

# Sanitizer-coverage and ASan on every Swift and C module (ours and the C
# shims; the system libpng/libjpeg are not instrumented, only called).
flags=(-c release -j 2 -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address)
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  swift build --package-path "$here" "${flags[@]}"
fi
bin="$(swift build --package-path "$here" "${flags[@]}" --show-bin-path)"

work="${FUZZ_WORK:-$(mktemp -d /tmp/anomalykit-fuzz.XXXXXX)}"
mkdir -p "$work"

# copy DEST FILE...: copies the files that exist into DEST.
copy() { local dest="$1"; shift; mkdir -p "$dest"; for f in "$@"; do [ -f "$f" ] && cp "$f" "$dest/" || true; done; }
# safetensors_header FILE DEST: the JSON header of a safetensors file.
safetensors_header() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null || true
import struct, sys
data = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', data[:8])[0]
open(sys.argv[2], 'wb').write(data[8:8 + n])
PY
}

seed() {  # seed TARGET DIR: real inputs for TARGET (never copied into the repository)
  local t="$1" d="$2"
  mkdir -p "$d"
  case "$t" in
    png)
      copy "$d" "$fixtures"/images/*.png "$fixtures"/efficientnet/*.png "$fixtures"/faces/*.png
      if [ -d "$shared/images/cifar10/train" ]; then
        for f in $(ls "$shared"/images/cifar10/train/*/000[0-2].png); do cp "$f" "$d/cifar-$(basename "$(dirname "$f")")-$(basename "$f")"; done
      fi
      if [ -d "$shared/industrial/magnetic-tile" ]; then
        copy "$d" $(find "$shared/industrial/magnetic-tile" -name '*.png' -size -60k | sort | head -6)
      fi ;;
    jpeg)
      copy "$d" "$fixtures"/images/*.jpg
      copy "$d" $(find "$shared" -iname '*.jpg' -size -60k 2>/dev/null | sort | head -12) ;;
    safetensors)
      copy "$d" "$fixtures"/tensorfiles/*.safetensors "$fixtures"/density/*.safetensors "$fixtures"/coldstart/*.safetensors \
        "$fixtures"/minilm/*.safetensors "$here"/Seeds/banks/*.safetensors ;;
    npy)
      copy "$d" "$fixtures"/tensorfiles/*.npy ;;
    json)
      copy "$d" "$fixtures"/faces/reference.json "$fixtures"/tiny-ladeda/official.json "$fixtures"/faces-landmarks/*.json \
        "$shared"/coldstart/banking77-oos/descriptions.json "$shared"/coldstart/banking77-raw/categories.json
      for f in "$fixtures"/tensorfiles/*.safetensors "$fixtures"/density/*.safetensors "$fixtures"/coldstart/*.safetensors \
        "$here"/Seeds/banks/*.safetensors; do
        [ -f "$f" ] && safetensors_header "$f" "$d/header-$(basename "$f" .safetensors).json"
      done ;;
    descriptions)
      copy "$d" "$shared"/coldstart/banking77-oos/descriptions.json "$here"/Seeds/text/*
      [ -f "$shared/coldstart/banking77-oos/train/seq.in" ] && head -40 "$shared/coldstart/banking77-oos/train/seq.in" >"$d/lines.txt"
      ;;
    text)
      copy "$d" "$here"/Seeds/text/*
      for f in train/seq.in test/seq.in id-oos/test/seq.in; do
        p="$shared/coldstart/banking77-oos/$f"
        [ -f "$p" ] && head -100 "$p" >"$d/banking77-$(echo "$f" | tr / -)"
      done ;;
    banks)
      copy "$d" "$here"/Seeds/banks/*.safetensors "$fixtures"/density/*.safetensors "$fixtures"/coldstart/*.safetensors ;;
  esac
  # Every input that ever crashed, hung or over-allocated stays a seed.
  [ -d "$regressions/$t" ] && copy "$d" "$regressions/$t"/*
  [ -d "$fixtures/fuzz-seeds/$t" ] && copy "$d" "$fixtures/fuzz-seeds/$t"/*
  return 0
}

summary=()
for t in "${targets[@]}"; do
  exe="$(executable "$t")"
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  rm -rf "$dir/seeds"
  seed "$t" "$dir/seeds"
  echo "== $t ($exe): $(ls "$dir/seeds" | wc -l) seeds, $runs runs, work folder $dir"
  set +e
  "$bin/$exe" -runs="$runs" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" "$dir/seeds" >"$dir/log" 2>&1
  status=$?
  set -e
  final="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -1 || true)"
  [ -z "$final" ] && final="$(grep -E '^#[0-9]+' "$dir/log" | tail -1 || true)"
  execs="$(awk '/^stat::number_of_executed_units/ {print $2}' "$dir/log" | tail -1)"
  speed="$(awk '/^stat::average_exec_per_sec/ {print $2}' "$dir/log" | tail -1)"
  findings="$(ls "$dir/artifacts" | tr '\n' ' ')"
  summary+=("$t: exit $status, ${execs:-?} execs, ${speed:-?} exec/s, corpus $(ls "$dir/corpus" | wc -l) files | ${final:-no final line} | findings: ${findings:-none}")
  if [ $status -ne 0 ]; then
    echo "   $t stopped with status $status; the log ends:"
    tail -30 "$dir/log" | sed 's/^/   /'
  fi
done

echo
echo "== summary (work folder $work)"
for line in "${summary[@]}"; do echo "$line"; done
