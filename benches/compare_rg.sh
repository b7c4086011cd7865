#!/usr/bin/env bash
# Times `scour scan` against ripgrep on the same generated tree and the same literal patterns.
#
#   benches/compare_rg.sh [SIZE_MIB]      (default 1024)
#
# Generates a mixed tree (text logs, source-like files, random binary blobs, a few large files)
# under $BENCH_DIR (default: a temp dir), plants a benchmark-only secret in a few encodings, then
# runs each tool three times (warm cache) and reports the best wall time, bytes/s, peak RSS and
# the scour/rg ratio. rg gets every single-line pattern scour searches for
# (`cargo run --example dump_patterns`); the line-wrapped base64 patterns cannot be expressed as
# `rg -F -f` lines, so scour does slightly more work than rg here.
set -euo pipefail
size_mib=${1:-1024}
cd "$(dirname "$0")/.."
export SCOUR_BENCH_SECRET='bench-Pass/+= &%"word9'
export CARGO_TERM_COLOR=never

command -v rg >/dev/null || cargo install --quiet ripgrep
cargo build --release --quiet
cargo build --release --quiet --example dump_patterns
scour=target/release/scour

dir=${BENCH_DIR:-$(mktemp -d)}
tree="$dir/tree"
if [ ! -d "$tree" ]; then
  echo "generating a ${size_mib} MiB tree in $tree" >&2
  python3 - "$tree" "$size_mib" <<'PY'
import os, sys, random, base64
root, size_mib = sys.argv[1], int(sys.argv[2])
target = size_mib << 20
rnd = random.Random(7)
secret = os.environ["SCOUR_BENCH_SECRET"].encode()
words = [b"error", b"request", b"user", b"config", b"token", b"value", b"items", b"status", b"cache", b"retry"]
written, n = 0, 0
while written < target:
    kind = n % 100
    d = os.path.join(root, f"d{n % 97:02d}", f"s{n % 13}")
    os.makedirs(d, exist_ok=True)
    if kind < 70:   # text: logs and source-like files, 4-64 KiB
        lines = []
        size = rnd.randint(4 << 10, 64 << 10)
        total = 0
        while total < size:
            line = b" ".join(rnd.choice(words) for _ in range(rnd.randint(4, 14))) + b" id=%d\n" % rnd.getrandbits(40)
            lines.append(line); total += len(line)
        data = b"".join(lines)
        name = f"f{n}.log"
    elif kind < 98: # binary blobs, 16-128 KiB
        data = rnd.randbytes(rnd.randint(16 << 10, 128 << 10))
        name = f"b{n}.bin"
    else:           # occasional large file, 2-8 MiB, CI-log-like text
        data = (b"2025-04-07T12:57:33.2904078Z ##[group]Run step\n" * rnd.randint(40000, 170000))
        name = f"big{n}.txt"
    if n % 1000 == 17:
        data += b"\npassword=" + secret + b"\nauth=" + base64.b64encode(b"user:" + secret) + b"\n"
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written += len(data); n += 1
print(f"{n} files, {written} bytes", file=sys.stderr)
PY
fi
patterns="$dir/patterns"
target/release/examples/dump_patterns > "$patterns"
bytes=$(du -sb "$tree" | cut -f1)

measure() { # label, command...
  local label=$1; shift
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$dir/time" "$@" > /dev/null 2>&1 || true
    read -r t m < <(tail -n 1 "$dir/time")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  printf '%-8s %7.2f s  %8.0f MiB/s  peak RSS %6.1f MiB\n' "$label" "$best" \
    "$(awk "BEGIN{print $bytes/1048576/($best>0?$best:0.001)}")" "$(awk "BEGIN{print $rss/1024}")"
  echo "$best" > "$dir/$label.best"
}

cat "$tree"/*/*/* > /dev/null  # warm the page cache
echo "tree: $bytes bytes, $(find "$tree" -type f | wc -l) files; $(wc -l < "$patterns") rg patterns; $(nproc) cores"
measure rg rg -a --no-ignore --hidden -F -c -f "$patterns" "$tree"
measure scour "$scour" scan --secret-env SCOUR_BENCH_SECRET --quiet --format json "$tree"
awk -v s="$(cat "$dir/scour.best")" -v r="$(cat "$dir/rg.best")" \
  'BEGIN{printf "scour / rg wall-time ratio: %.2f\n", s / (r > 0 ? r : 0.001)}'
