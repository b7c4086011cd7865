#!/usr/bin/env bash
# Benchmark: scan the full history of a repository with scour, and compare with the
# baseline pipeline every object inflated once by git, then searched by ripgrep:
#
#   git cat-file --batch-all-objects --batch --unordered | rg -a -c -F -f PATTERNS
#
# Usage: benches/git_history.sh [REPO]
#   REPO  a repository (bare or not) to scan; default: a generated one, built once from the
#         crate sources in ~/.cargo/registry (one commit per crate, then many edit commits,
#         packed by gc) under target/bench-git/history.git.
# Env:    SCOUR_BENCH_SECRET (default: a fixed fake token), THREADS (default: all cores).
# Needs:  git, /usr/bin/time, ripgrep (installed with `cargo install ripgrep` if missing).
# Reports wall time, objects/s, inflated bytes/s and peak RSS for both. Run it on a quiet
# machine: timings on a shared one are noise.
set -euo pipefail
cd "$(dirname "$0")/.."

export SCOUR_BENCH_SECRET="${SCOUR_BENCH_SECRET:-ghp_benchmarkNotARealToken0123456789abcd}"
work="target/bench-git"
mkdir -p "$work"
repo="${1:-$work/history.git}"

git_() {
  GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 git -c user.name=bench -c user.email=bench@example.com \
    -c init.defaultBranch=main -c gc.auto=0 -c commit.gpgsign=false "$@"
}

generate() {
  local src tree
  src=$(ls -d "$HOME"/.cargo/registry/src/*/ | head -n1)
  tree="$work/history-tree"
  rm -rf "$tree" "$repo"
  git_ init -q "$tree"
  echo "generating $repo from $src (once)…" >&2
  for crate in $(ls "$src" | sort); do
    mkdir -p "$tree/crates"
    cp -r "$src/$crate" "$tree/crates/$crate"
    git_ -C "$tree" add -A crates
    git_ -C "$tree" commit -qm "add $crate" --allow-empty
  done
  # Many small edits over time: new versions of existing blobs, like a real history.
  mapfile -t files < <(cd "$tree" && find crates -name '*.rs' -size +2k | sort)
  for round in $(seq 1 300); do
    for k in 0 1 2 3 4 5 6 7; do
      f="${files[$(( (round * 131 + k * 977) % ${#files[@]} ))]}"
      echo "// edit $round.$k" >> "$tree/$f"
    done
    git_ -C "$tree" commit -qam "edit round $round"
  done
  git_ clone -q --mirror "$tree" "$repo"
  git_ -C "$repo" gc -q --prune=now
  rm -rf "$tree"
}

[ -e "$repo" ] || generate

cargo build --release -q --bin scour
cargo run --release -q --example dump_patterns > "$work/patterns"
command -v rg >/dev/null || cargo install ripgrep --locked

objects=$(git_ -C "$repo" count-objects -v | awk '/^(count|in-pack):/ {n += $2} END {print n}')
echo "repository: $repo ($objects objects, $(du -sh "$repo" | cut -f1) on disk), $(nproc) cores"

measure() { # label, command...
  local label=$1; shift
  local log="$work/time-$label.txt"
  /usr/bin/time -v "$@" > "$work/out-$label.txt" 2> "$log" || true
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$label: ${wall}s wall, peak RSS $((rss / 1024)) MiB" >&2
  echo "$wall"
}

threads=${THREADS:-$(nproc)}
scour_wall=$(measure scour ./target/release/scour scan --quiet --threads "$threads" \
  --secret-env SCOUR_BENCH_SECRET --format json --output "$work/report.json" "$repo")
baseline_wall=$(measure baseline sh -c \
  "git -C '$repo' cat-file --batch-all-objects --batch --unordered | rg -a -c -F -f '$work/patterns'")

python3 - "$work/report.json" "$scour_wall" "$baseline_wall" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
scour, baseline = float(sys.argv[2]), float(sys.argv[3])
repos = [r for root in report["coverage"]["roots"] for r in root.get("repositories", [])]
objects = sum(r["commits"] + r["trees"] + r["blobs"] + r["tags"] for r in repos)
inflated = sum(r["bytes_inflated"] for r in repos)
print(f"scour:    {objects} objects, {inflated / 2**20:.0f} MiB inflated in {scour:.2f} s "
      f"= {objects / scour:,.0f} objects/s, {inflated / 2**20 / scour:.0f} MiB/s; verdict {report['verdict']}")
print(f"baseline: {baseline:.2f} s ({scour / baseline:.2f}x scour's time)")
PY
