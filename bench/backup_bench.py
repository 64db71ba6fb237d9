"""devkit backup create / restore / verify against GNU tar and sha256sum, same run, same data.

Two generated trees in a temp dir (removed afterwards): 20,000 small JSON files, and a large
tree (default 500 MB: JSON-lines logs, CSV metrics and some incompressible binary). Each tool
runs as a real process (devkit through ``python -m devkit``), best of ``--repeats`` runs.
Prints seconds, sizes and the ratios; goals: create <= 1.0x tar -czf (large) and <= 1.5x
(small) at a size within 10 % of tar's; restore <= 1.0x tar -xzf (large) and <= 2.0x (small);
verify <= 1.0x sha256sum over the same files.

The verify baseline is ``find TREE -type f -print0 | xargs -0 sha256sum``: hashing every source
file once, straight from disk. devkit's verify does more (it inflates the whole archive, checks
every tar header and the gzip trailer, and hashes every member), so a second, informational
line times ``gzip -dc ARCHIVE | sha256sum``: the least work that reads the same archive to its end
and hashes every byte. ``records`` (20,000 experiment records of 1-4 KB each) is reported beside
the 100-400-byte ``small`` set; its goals are the small set's. ``python -c pass`` is printed too:
the start-up floor every devkit run pays.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOALS = {
    ("small", "create"): 1.5,
    ("large", "create"): 1.0,
    ("small", "restore"): 2.0,
    ("large", "restore"): 1.0,
    ("small", "verify"): 1.0,
    ("large", "verify"): 1.0,
}
GOALS.update({("records", action): GOALS[("small", action)] for action in ("create", "restore", "verify")})


def make_small(folder, count=20000):
    """``count`` small JSON experiment records in 100 folders."""
    rng = random.Random(1)
    for i in range(count):
        sub = os.path.join(folder, f"exp{i % 100:03d}")
        os.makedirs(sub, exist_ok=True)
        record = {
            "id": i,
            "model": rng.choice(["llama3", "qwen2", "mistral"]),
            "temperature": rng.random(),
            "scores": [round(rng.random(), 4) for _ in range(rng.randint(5, 40))],
            "ok": rng.random() > 0.1,
        }
        with open(os.path.join(sub, f"run{i:05d}.json"), "w", encoding="utf-8") as handle:
            json.dump(record, handle)


def make_records(folder, count=20000):
    """``count`` typical experiment records of 1-4 KB: config, per-step metrics and a few notes."""
    rng = random.Random(3)
    for i in range(count):
        sub = os.path.join(folder, f"exp{i % 100:03d}")
        os.makedirs(sub, exist_ok=True)
        steps = rng.randint(8, 40)
        record = {
            "id": f"run-{i:05d}",
            "config": {
                "model": rng.choice(["llama3-8b", "qwen2-7b", "mistral-7b"]),
                "lr": rng.choice([1e-4, 3e-4]),
                "batch": rng.choice([8, 16, 32]),
                "seed": rng.randint(0, 10**6),
                "prompt": "eval-v3",
            },
            "metrics": [
                {"step": s * 100, "loss": round(rng.uniform(0.1, 3), 4), "acc": round(rng.random(), 4)}
                for s in range(steps)
            ],
            "notes": rng.choice(["baseline", "warm restart", "longer context", ""]),
        }
        with open(os.path.join(sub, f"run{i:05d}.json"), "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=1)


def make_large(folder, total_mb):
    """About ``total_mb`` MB: 60 % JSON-lines logs, 25 % CSV metrics, 15 % random binary, in 10 MB files."""
    rng = random.Random(2)
    os.makedirs(folder, exist_ok=True)
    for i in range(max(1, total_mb // 10)):
        kind = "bin" if i % 7 == 6 else ("csv" if i % 4 == 3 else "jsonl")
        with open(os.path.join(folder, f"part{i:03d}.{kind}"), "wb") as handle:
            handle.write(_chunk(kind, rng, 10 << 20))


def _chunk(kind, rng, size):
    if kind == "bin":
        return os.urandom(size)
    lines, total = [], 0
    while total < size:
        if kind == "csv":
            line = f"{rng.randint(1_700_000_000, 1_800_000_000)},{rng.choice('abcd')},{rng.random():.6f},{rng.randint(0, 4096)}\n"
        else:
            line = (
                json.dumps(
                    {
                        "ts": rng.random() * 1e9,
                        "model": rng.choice(["llama3", "qwen2"]),
                        "prompt_tokens": rng.randint(1, 4000),
                        "latency_ms": round(rng.expovariate(0.01), 2),
                        "status": rng.choice(["ok", "ok", "ok", "error"]),
                    }
                )
                + "\n"
            )
        lines.append(line)
        total += len(line)
    return "".join(lines).encode()[:size]


def timed(argv, cwd, env=None):
    """Seconds one command takes (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def best(repeats, run, reset):
    """The fastest of ``repeats`` runs of ``run()``, calling ``reset()`` and ``sync`` before each.

    Neither tool fsyncs what it extracts, so without the sync a run would pay for writing back the
    dirty pages the run before it left (tar's or devkit's), and whichever runs second would look slower.
    """
    times = []
    for _ in range(repeats):
        reset()
        if hasattr(os, "sync"):
            os.sync()
        times.append(run())
    return min(times)


def _fresh(path):
    def reset():
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)

    return reset


def measure(work, tree, repeats):
    """Times and sizes of devkit and the baselines on ``work/tree``."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    devkit = [sys.executable, "-m", "devkit"]
    out, tar_out = os.path.join(work, "out"), os.path.join(work, "tar-out")
    dk_create = best(
        repeats,
        lambda: timed(devkit + ["backup", "create", "--source", tree, "--dest", out], work, env),
        _fresh(out),
    )
    name = [n for n in os.listdir(out) if n.endswith(".tar.gz")][0]
    archive = os.path.join(out, name)
    tar_archive = os.path.join(tar_out, "t.tar.gz")
    tar_create = best(repeats, lambda: timed(["tar", "-czf", tar_archive, tree], work), _fresh(tar_out))
    restore_dir, tar_dir = os.path.join(work, "restored"), os.path.join(work, "tar-x")
    dk_restore = best(
        repeats,
        lambda: timed(devkit + ["restore", archive, "--target", restore_dir], work, env),
        lambda: shutil.rmtree(restore_dir, ignore_errors=True),
    )
    tar_restore = best(repeats, lambda: timed(["tar", "-xzf", archive, "-C", tar_dir], work), _fresh(tar_dir))
    dk_verify = best(repeats, lambda: timed(devkit + ["backup", "verify", archive], work, env), lambda: None)
    sha = best(
        repeats,
        lambda: timed(["sh", "-c", f"find '{tree}' -type f -print0 | xargs -0 sha256sum"], work),
        lambda: None,
    )
    inflate = best(
        repeats, lambda: timed(["sh", "-c", f"gzip -dc '{archive}' | sha256sum"], work), lambda: None
    )
    sizes = (os.path.getsize(archive), os.path.getsize(tar_archive))
    levels = level_table(archive) if os.environ.get("BENCH_LEVELS") else None
    for path in (out, tar_out, restore_dir, tar_dir):
        shutil.rmtree(path, ignore_errors=True)
    return {
        "create": (dk_create, tar_create),
        "restore": (dk_restore, tar_restore),
        "verify": (dk_verify, sha),
        "sizes": sizes,
        "levels": levels,
        "inflate": inflate,
    }


def level_table(archive, levels=(3, 4, 5, 6)):
    """Seconds and compressed bytes of the archive's tar stream at each gzip level, relative to level 6."""
    import zlib

    sys.path.insert(0, ROOT)
    from devkit.maintenance.archive import CHUNK, GzipReader

    rows = {}
    for level in levels:
        deflate, size, seconds = zlib.compressobj(level, zlib.DEFLATED, 31), 0, 0.0
        with GzipReader(archive) as reader:
            for chunk in iter(lambda: reader.read(CHUNK), b""):
                started = time.perf_counter()
                size += len(deflate.compress(chunk))
                seconds += time.perf_counter() - started
        rows[level] = (seconds, size + len(deflate.flush()))
    return rows


def report(label, result):
    """Print one tree's lines: seconds, ratio and goal per action, then the sizes."""
    for action, baseline in (("create", "tar -czf"), ("restore", "tar -xzf"), ("verify", "sha256sum")):
        ours, theirs = result[action]
        goal = GOALS[(label, action)]
        verdict = "ok" if ours / theirs <= goal else "MISSED"
        print(
            f"{label:7} {action:7} devkit {ours:7.2f} s  {baseline:9} {theirs:7.2f} s  "
            f"ratio {ours / theirs:5.2f}  (goal <= {goal})  {verdict}"
        )
    for level, (seconds, size) in (result["levels"] or {}).items():
        base_s, base_size = result["levels"][6]
        print(
            f"{label:7} gzip level {level}: {seconds / base_s:4.2f}x the time of level 6, "
            f"{size / base_size:5.3f}x the size"
        )
    ours, theirs = result["verify"][0], result["inflate"]
    print(
        f"{label:7} verify  devkit {ours:7.2f} s  gzip -dc | sha256sum {theirs:7.2f} s  ratio {ours / theirs:5.2f}"
        "  (same archive read to its end and hashed; for information)"
    )
    ours, theirs = result["sizes"]
    verdict = "ok" if abs(ours / theirs - 1) <= 0.10 else "MISSED"
    print(
        f"{label:7} size    devkit {ours / 1e6:8.1f} MB  tar {theirs / 1e6:8.1f} MB  ratio {ours / theirs:5.3f}  "
        f"(goal within 10 %)  {verdict}"
    )


def _load():
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "unknown"


def main():
    """Generate the trees, measure, print, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-mb", type=int, default=500, help="size of the large tree (default 500)")
    parser.add_argument("--small-files", type=int, default=20000, help="files in the small tree")
    parser.add_argument("--repeats", type=int, default=2, help="runs per measurement; the best counts")
    parser.add_argument("--levels", action="store_true", help="also time gzip levels 3-6 on each tree's data")
    args = parser.parse_args()
    if args.levels:
        os.environ["BENCH_LEVELS"] = "1"
    if not all(shutil.which(tool) for tool in ("tar", "sha256sum", "gzip")):
        sys.exit("skipped: GNU tar, gzip and sha256sum are needed")
    work = tempfile.mkdtemp(prefix="devkit-backup-bench-")
    try:
        start = best(args.repeats, lambda: timed([sys.executable, "-c", "pass"], work), lambda: None)
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, repeats {args.repeats}, "
            f"python -c pass {start:.2f} s, load {_load()}"
        )
        for label, maker in (
            ("small", lambda p: make_small(p, args.small_files)),
            ("records", lambda p: make_records(p, args.small_files)),
            ("large", lambda p: make_large(p, args.large_mb)),
        ):
            tree = os.path.join(work, label)
            maker(tree)
            report(label, measure(work, label, args.repeats))
            shutil.rmtree(tree)
        print(f"load {_load()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
