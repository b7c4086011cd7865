#!/usr/bin/env bash
# Compares scour on a ~1 GiB .tar.gz and .tar.zst with the system pipelines
# `gzip -dc | rg -a -F -f PATTERNS` and `zstd -dc | rg -a -F -f PATTERNS`, where PATTERNS
# are the same literal patterns scour searches for (every encoding of the secret).
#
#   benches/archives.sh            # ~1 GiB of real files from /usr, best of 3 runs
#   SIZE_MIB=256 RUNS=1 benches/archives.sh
#
# Needs gzip, zstd, tar and ripgrep (installed with `cargo install ripgrep` if missing).
# Timings on a shared machine are noisy: compare the columns, not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
# WORK=dir keeps the generated data there and reuses it on the next run.
if [ -n "${WORK:-}" ]; then
    work=$WORK
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi

command -v rg >/dev/null || cargo install ripgrep --locked --quiet
cargo build --release --quiet
scour=target/release/scour

[ -f "$work/secret" ] || head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 > "$work/secret"
SCOUR_BENCH_SECRET=$(cat "$work/secret")
export SCOUR_BENCH_SECRET
if [ -f examples/dump_patterns.rs ]; then
    cargo run --release --quiet --example dump_patterns > "$work/patterns"
else
    echo "note: examples/dump_patterns.rs missing; rg searches the raw secret only" >&2
    printf '%s\n' "$SCOUR_BENCH_SECRET" > "$work/patterns"
fi

# Real files (text and binary) from /usr up to SIZE_MIB, plus one that holds the secret.
if [ ! -f "$work/data.tar.zst" ]; then
    mkdir -p "$work/planted"
    printf 'DEPLOY_TOKEN=%s\n' "$SCOUR_BENCH_SECRET" > "$work/planted/.env"
    find /usr -xdev -type f -size -32M -printf '%s %p\n' 2>/dev/null |
        awk -v limit=$((SIZE_MIB << 20)) '{ total += $1; if (total > limit) exit; print $2 }' > "$work/list" || true  # awk stops early: find gets SIGPIPE
    tar -cf "$work/data.tar" -T "$work/list" -C "$work/planted" .env 2>/dev/null || true
    gzip -6 -c "$work/data.tar" > "$work/data.tar.gz"
    zstd -q -3 -T0 -c "$work/data.tar" > "$work/data.tar.zst"
    rm "$work/data.tar"
fi
echo "tar of $(wc -l < "$work/list") files, $SIZE_MIB MiB; gz $(($(stat -c%s "$work/data.tar.gz") >> 20)) MiB, zst $(($(stat -c%s "$work/data.tar.zst") >> 20)) MiB; $(nproc) CPUs"

best() { # best wall-clock seconds of RUNS runs of a shell command
    local best=""
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s.%N)
        bash -c "$1" > /dev/null 2>&1 || true
        end=$(date +%s.%N)
        best=$(echo "$start $end $best" | awk '{ t = $2 - $1; if ($3 == "" || t < $3) print t; else print $3 }')
    done
    printf '%.2f' "$best"
}

for kind in gz zst; do
    file="$work/data.tar.$kind"
    tool=$([ "$kind" = gz ] && echo "gzip -dc" || echo "zstd -dc")
    pipeline=$(best "$tool '$file' | rg -a -F -c -f '$work/patterns'")
    ours=$(best "$scour scan --secret-env SCOUR_BENCH_SECRET -q --format json -o '$work/report.json' '$file'")
    "$scour" scan --secret-env SCOUR_BENCH_SECRET -q --format json -o "$work/report.json" "$file" || true
    verdict=$(grep -o '"verdict": *"[a-z]*"' "$work/report.json" | head -1)
    echo "data.tar.$kind: scour ${ours}s ($verdict)   $tool | rg ${pipeline}s"
done
