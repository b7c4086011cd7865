#!/usr/bin/env bash
# Incremental sweep benchmark: the first `--cache` sweep of an N-file tree, then a second
# sweep of the unchanged tree, which reuses every proof. Prints both times and the ratio.
#   benches/cache_sweep.sh [FILES (default 50000)] [BYTES PER FILE (default 4096)]
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-50000}
size=${2:-4096}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/tree" "$files" "$size" <<'PY'
import os, random, sys
root, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789 \n"
for n in range(files):
    d = os.path.join(root, f"d{n % 200}", f"e{n % 13}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{n}.txt"), "wb") as f:
        f.write(bytes(rng.choice(alphabet) for _ in range(size)) if n < 64 else os.urandom(size))
PY
head -c 24 /dev/urandom | base64 > "$work/secret"
# Proofs are trusted only for files older than 2 s (the racy-timestamp rule).
sleep 3
sweep() {
  local start end
  start=$(date +%s.%N)
  ./target/release/scour scan --quiet --secret-file "$work/secret" --cache "$work/cache" \
    --format json -o "$work/$1.json" "$work/tree" || test $? -eq 0
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
first=$(sweep first)
second=$(sweep second)
reused=$(python3 -c "import json;print(json.load(open('$work/second.json'))['cache']['units_reused'])")
echo "files: $files x $size bytes"
echo "first sweep:  ${first} s"
echo "second sweep: ${second} s (units reused: $reused)"
echo "speed-up: $(echo "scale=1; $first / $second" | bc)x"
