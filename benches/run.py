#!/usr/bin/env python3
"""Every performance row of scour against its reference, side by side, in one run.

    python3 benches/run.py [--runs 5] [--work DIR] [--small-files 1000000] [--rows a,b,...]

Builds (once, cached in --work, default target/bench) a ~518 MiB tree of text and binary
files, a list of 1,000 random secrets, a git repository with a few thousand commits, the
tree as .tar.zst and .tar.gz, a 1 TiB sparse file and a tree of small files; then for each
row runs scour and its reference alternately, --runs times each (warm page cache), and
prints a markdown table of the medians (wall time, peak RSS, ratio, goal) and writes
docs/benchmarks.svg. Nothing is downloaded; needs rg, git, zstd, gzip, tar, /usr/bin/time.
Timings on a shared machine are noisy: the ratio of paired runs is the figure to read.
"""
import argparse, base64, json, os, random, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCOUR = os.path.join(ROOT, "target", "release", "scour")
WORDS = [b"error", b"request", b"user", b"config", b"token", b"value", b"items",
         b"status", b"cache", b"retry", b"GET", b"/api/v1/items", b"200", b"ms"]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def text_blob(rnd, size):
    out, total = [], 0
    while total < size:
        line = b" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 14)))
        line += b" id=%d\n" % rnd.getrandbits(40)
        out.append(line)
        total += len(line)
    return b"".join(out)


def plant(secret):
    """The secret raw, base64 after `user:` and JSON-escaped."""
    return (b"\npassword=" + secret + b"\nauth=" + base64.b64encode(b"user:" + secret)
            + b"\n" + json.dumps({"k": secret.decode()}).encode() + b"\n")


def make_big_tree(root, secret):
    rnd = random.Random(7)
    target, written, n = 518 << 20, 0, 0  # 518 MiB: about 548 MB in 360 files
    while written < target:
        kind = n % 20
        d = os.path.join(root, f"d{n % 17:02d}", f"s{n % 5}")
        os.makedirs(d, exist_ok=True)
        if kind < 11:
            data, name = text_blob(rnd, rnd.randint(256 << 10, 2 << 20)), f"f{n}.log"
        elif kind < 19:
            data, name = rnd.randbytes(rnd.randint(256 << 10, 2 << 20)), f"b{n}.bin"
        else:  # CI-log-like
            line = b"2025-04-07T12:57:33.2904078Z ##[group]Run step\n"
            data, name = line * rnd.randint(100_000, 250_000), f"big{n}.txt"
        if n % 97 == 13:
            data += plant(secret)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        written += len(data)
        n += 1


def make_small_tree(root, secret, count):
    rnd = random.Random(11)
    blobs = [text_blob(rnd, rnd.randint(200, 3000)) for _ in range(997)]
    for i in range(count):
        d = os.path.join(root, f"d{i % 1000:03d}")
        if i < 1000:
            os.makedirs(d, exist_ok=True)
        data = blobs[i % 997] + b"%d\n" % i
        if i % 100_003 == 7:
            data += plant(secret)
        with open(os.path.join(d, f"f{i}.txt"), "wb") as f:
            f.write(data)


def make_git_repo(path, secret, commits):
    """A repository whose history rewrites 200 text files a few lines at a time."""
    rnd = random.Random(5)
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "init", "-q", "--bare", path], check=True, env=env)
    files = {f"src/m{i:03d}.txt": text_blob(rnd, 48 << 10) for i in range(200)}
    stream = []
    for c in range(commits):
        name = f"src/m{rnd.randrange(200):03d}.txt"
        lines = files[name].split(b"\n")
        at = rnd.randrange(len(lines))
        lines[at:at + 3] = [text_blob(rnd, 200).rstrip(b"\n")]
        if c == commits // 2:
            lines.insert(at, b"token = " + secret)
        files[name] = b"\n".join(lines)
        changed = files.items() if c == 0 else [(name, files[name])]
        msg = b"edit %d" % c
        stream.append(b"commit refs/heads/main\ncommitter b <b@example.com> %d +0000\n"
                      b"data %d\n%s\n" % (1_700_000_000 + c, len(msg), msg))
        for n, data in changed:
            stream.append(b"M 100644 inline %s\ndata %d\n%s\n" % (n.encode(), len(data), data))
    subprocess.run(["git", "-C", path, "fast-import", "--quiet"], input=b"".join(stream),
                   check=True, env=env)
    subprocess.run(["git", "-C", path, "gc", "-q"], check=True, env=env)


def timed(argv, shell=False, env=None):
    """Wall seconds and peak RSS (MiB) of one run."""
    out = "/tmp/scour-bench-time"
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", out]
    cmd += ["sh", "-c", argv] if shell else argv
    started = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wall = time.monotonic() - started
    # scour exits 0, 1 or 3 and rg 0 or 1 on a real run; 2 is an error (a reference that
    # failed at once would make a ratio of nothing).
    if done.returncode not in (0, 1, 3):
        sys.exit(f"benchmark command failed ({done.returncode}): {argv}\n"
                 f"{done.stderr.decode(errors='replace')[-2000:]}")
    with open(out) as f:
        fields = f.read().split()
    return wall, int(fields[-1]) / 1024


class Row:
    def __init__(self, name, scour, reference=None, goal="", limit=None, shell_ref=False,
                 prepare=None):
        self.name, self.scour, self.reference, self.goal = name, scour, reference, goal
        self.limit, self.shell_ref, self.prepare = limit, shell_ref, prepare


def run_row(row, runs, env):
    ours, theirs = [], []
    for _ in range(runs):
        if row.prepare:
            row.prepare()
        ours.append(timed(row.scour, env=env))
        if row.reference:
            theirs.append(timed(row.reference, shell=row.shell_ref, env=env))
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    result = {"name": row.name, "goal": row.goal, "scour_s": med(ours, 0),
              "scour_rss": max(x[1] for x in ours)}
    if theirs:
        result["ref_s"] = med(theirs, 0)
        result["ratio"] = statistics.median(a[0] / b[0] for a, b in zip(ours, theirs))
    elif row.limit:
        result["ratio"] = result["scour_s"] / row.limit
    return result


def svg_chart(results, path):
    """Horizontal bars: scour's time relative to its reference (or goal), 1.0 marked."""
    rows = [r for r in results if "ratio" in r]
    width, bar_h, left = 760, 26, 330
    height = 40 + bar_h * len(rows) + 30
    scale = (width - left - 60) / max(2.0, max(r["ratio"] for r in rows) * 1.1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<text x="10" y="20" font-size="14">scour time / reference time '
             f'(median of paired runs; lower is better)</text>']
    for i, r in enumerate(rows):
        y = 34 + i * bar_h
        w = r["ratio"] * scale
        colour = "#2a7" if r.get("met") else "#d64"
        parts.append(f'<text x="10" y="{y + 16}">{escape(r["name"])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{bar_h - 8}" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 16}">{r["ratio"]:.2f}x</text>')
    x1 = left + scale
    parts.append(f'<line x1="{x1:.1f}" y1="30" x2="{x1:.1f}" y2="{height - 20}" '
                 f'stroke="#333" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x1 - 10:.1f}" y="{height - 6}">1.0</text></svg>')
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def goal_met(r):
    goal = r["goal"]
    if not goal or "ratio" not in r:
        return None
    bound = float(goal.split("≤")[-1].split("<")[-1].strip().rstrip("×xs ").split()[0])
    return r["ratio"] <= bound if "×" in goal else r["scour_s"] < bound


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench"))
    ap.add_argument("--small-files", type=int, default=1_000_000)
    ap.add_argument("--git-commits", type=int, default=3000)
    ap.add_argument("--rows", default="", help="comma-separated row keys to run (default all)")
    ap.add_argument("--chart", default=os.path.join(ROOT, "docs", "benchmarks.svg"))
    args = ap.parse_args()
    for tool in ["rg", "git", "zstd", "gzip", "tar"]:
        if not shutil.which(tool):
            sys.exit(f"benches/run.py needs {tool} on PATH (apt-get install {tool if tool != 'rg' else 'ripgrep'})")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "dump_patterns"],
                   cwd=ROOT, check=True)

    work = args.work
    os.makedirs(work, exist_ok=True)
    secrets_file = os.path.join(work, "secrets1000.txt")
    if not os.path.exists(secrets_file):
        rnd = random.Random(3)
        with open(secrets_file, "w") as f:
            for _ in range(1000):
                f.write("".join(rnd.choice(ALNUM) for _ in range(32)) + "\n")
    with open(secrets_file) as f:
        secret = f.readline().strip()
    env = dict(os.environ, SCOUR_BENCH_SECRET=secret)
    one_secret = os.path.join(work, "secret1.txt")
    with open(one_secret, "w") as f:
        f.write(secret + "\n")
    patterns = os.path.join(work, "patterns.txt")
    with open(patterns, "wb") as f:
        subprocess.run([os.path.join(ROOT, "target/release/examples/dump_patterns")], env=env,
                       stdout=f, stderr=subprocess.DEVNULL, check=True)

    big = os.path.join(work, "big")
    if not os.path.isdir(big):
        print("building the 518 MiB tree", file=sys.stderr)
        make_big_tree(big, secret.encode())
    small = os.path.join(work, f"small{args.small_files}")
    wanted = set(args.rows.split(",")) if args.rows else None
    want = lambda key: wanted is None or key in wanted
    if want("small") and not os.path.isdir(small):
        print(f"building {args.small_files} small files", file=sys.stderr)
        make_small_tree(small, secret.encode(), args.small_files)
    repo = os.path.join(work, "history.git")
    if want("git") and not os.path.isdir(repo):
        print("building the git repository", file=sys.stderr)
        make_git_repo(repo, secret.encode(), args.git_commits)
    tar_zst, tar_gz = os.path.join(work, "tree.tar.zst"), os.path.join(work, "tree.tar.gz")
    if want("zst") and not os.path.exists(tar_zst):
        subprocess.run(f"tar -C {big} -cf - . | zstd -q -3 -T0 -o {tar_zst}", shell=True, check=True)
    if want("gz") and not os.path.exists(tar_gz):
        subprocess.run(f"tar -C {big} -cf - . | gzip -6 > {tar_gz}", shell=True, check=True)
    # In a directory: a file given as PATH itself gets a content digest in the report's
    # subject, and a digest needs every byte, holes included.
    sparse = os.path.join(work, "sparse")
    os.makedirs(sparse, exist_ok=True)
    if want("sparse") and not os.path.exists(os.path.join(sparse, "disk.img")):
        with open(os.path.join(sparse, "disk.img"), "wb") as f:
            f.truncate(1 << 40)
            f.seek((1 << 40) - 4096)
            f.write(b"key=" + secret.encode() + b"\n")
    ledger = os.path.join(work, "ledger.jsonl")
    secrets100k = os.path.join(work, "secrets100k.txt")
    if want("ledger") and not os.path.exists(secrets100k):
        rnd = random.Random(9)
        with open(secrets100k, "w") as f:
            for _ in range(100_000):
                f.write("".join(rnd.choice(ALNUM) for _ in range(32)) + "\n")

    scan = lambda *extra: [SCOUR, "scan", "-q", "--format", "json", "-o", "/dev/null", *extra]
    rg1 = ["rg", "-a", "--no-ignore", "--hidden", "-F", "-c", "-e", secret]
    rows = {
        "tree": Row("518 MiB tree, 1 secret, all variants vs rg -F -e (1 literal)",
                    scan("--secret-env", "SCOUR_BENCH_SECRET", big), rg1 + [big], "≤ 1.0×"),
        "tree-f": Row("518 MiB tree vs rg -F -f (its single-line variants)",
                      scan("--secret-env", "SCOUR_BENCH_SECRET", big),
                      ["rg", "-a", "--no-ignore", "--hidden", "-F", "-c", "-f", patterns, big],
                      "≤ 0.2×"),
        "layers": Row("518 MiB tree, every layer on vs decode/carve/entropy off",
                      scan("--secret-env", "SCOUR_BENCH_SECRET", big),
                      "SCOUR_BENCH_NO_LAYERS=1 " + " ".join(
                          scan("--secret-env", "SCOUR_BENCH_SECRET", big)),
                      "≤ 1.1×", shell_ref=True),
        "many": Row("518 MiB tree, 1,000 secrets vs 1 secret",
                    scan("--secret-file", secrets_file, big),
                    scan("--secret-file", one_secret, big), "≤ 1.5×"),
        "git": Row(f"git history ({args.git_commits} commits) vs git cat-file | rg -F -f",
                   scan("--secret-env", "SCOUR_BENCH_SECRET", repo),
                   f"git -C {repo} cat-file --batch-all-objects --batch --unordered"
                   f" | rg -a -c -F -f {patterns}", "≤ 0.5×", shell_ref=True),
        "zst": Row("tree as .tar.zst vs zstd -dc | rg -F -e",
                   scan("--secret-env", "SCOUR_BENCH_SECRET", tar_zst),
                   f"zstd -dc {tar_zst} | rg -a -c -F -e {secret}", "≤ 1.0×", shell_ref=True),
        "gz": Row("tree as .tar.gz vs gzip -dc | rg -F -e",
                  scan("--secret-env", "SCOUR_BENCH_SECRET", tar_gz),
                  f"gzip -dc {tar_gz} | rg -a -c -F -e {secret}", "≤ 0.5×", shell_ref=True),
        "small": Row(f"{args.small_files:,} small files vs rg -F -e",
                     scan("--secret-env", "SCOUR_BENCH_SECRET", small), rg1 + [small], "≤ 1.0×"),
        "sparse": Row("directory holding a 1 TiB sparse file, secret in its last 4 KiB",
                      scan("--secret-env", "SCOUR_BENCH_SECRET", sparse), goal="< 2 s", limit=2.0),
        "ledger": Row("ledger add of 100,000 secrets",
                      [SCOUR, "ledger", "add", "--ledger", ledger, "--secret-file", secrets100k],
                      goal="< 5 s", limit=5.0,
                      prepare=lambda: os.path.exists(ledger) and os.remove(ledger)),
    }
    results = []
    print("| work | scour | peak RSS | reference | ratio | goal | met |")
    print("|---|---|---|---|---|---|---|")
    for key, row in rows.items():
        if not want(key):
            continue
        if row.reference and not row.shell_ref:
            subprocess.run(row.reference, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = run_row(row, args.runs, env)
        r["met"] = goal_met(r)
        results.append(r)
        ref = f'{r["ref_s"]:.2f} s' if "ref_s" in r else "–"
        ratio = f'{r["ratio"]:.2f}×' if "ref_s" in r else "–"
        met = {True: "yes", False: "no", None: "–"}[r["met"]]
        print(f'| {r["name"]} | {r["scour_s"]:.2f} s | {r["scour_rss"]:.0f} MiB | {ref} | '
              f'{ratio} | {r["goal"]} | {met} |', flush=True)
    os.makedirs(os.path.dirname(args.chart), exist_ok=True)
    svg_chart(results, args.chart)
    print(f"\n{os.cpu_count()} CPUs; medians of {args.runs} paired runs; chart: {args.chart}")


if __name__ == "__main__":
    main()
