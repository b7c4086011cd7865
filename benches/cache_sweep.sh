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
# Wall time and CPU time (user + system): on a shared machine the CPU time is the fair figure.
sweep() {
  /usr/bin/time -f "%e %U %S" -o "$work/$1.time" ./target/release/scour scan --quiet \
    --secret-file "$work/secret" --cache "$work/cache" --format json -o "$work/$1.json" \
    "$work/tree" || true
  # (time prefixes a line when scour exits non-zero; the figures are the last line)
  read -r wall user sys < <(tail -n 1 "$work/$1.time")
  echo "$wall $(echo "$user + $sys" | bc)"
}
read -r first_wall first_cpu < <(sweep first)
read -r second_wall second_cpu < <(sweep second)
reused=$(python3 -c "import json;print(json.load(open('$work/second.json'))['cache']['units_reused'])")
echo "files: $files x $size bytes"
echo "first sweep:  ${first_wall} s wall, ${first_cpu} s CPU"
echo "second sweep: ${second_wall} s wall, ${second_cpu} s CPU (units reused: $reused)"
echo "speed-up: $(echo "scale=1; $first_wall / $second_wall" | bc)x wall, $(echo "scale=1; $first_cpu / $second_cpu" | bc)x CPU"
