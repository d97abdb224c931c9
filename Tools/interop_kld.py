#!/usr/bin/env python3
"""QuantGate's distribution metrics against llama.cpp's `llama-perplexity --kl-divergence`.

Both tools score the same GGUF files on the same text with the same protocol (n_ctx chunks, BOS first,
second half scored) and the same baseline (an F16 GGUF of the example model):

1. `quantgate quantize` writes the example model as F16 (the baseline), Q8_0, Q4_K_M (importance matrix
   from the model's training text) and Q2_K.
2. llama.cpp: `llama-perplexity -m F16 --kl-divergence-base base.kld`, then for each candidate
   `llama-perplexity -m CANDIDATE --kl-divergence-base base.kld --kl-divergence`; its "Mean KLD" and
   "Same top p" lines are read.
3. QuantGate: `quantgate eval F16 Q8_0 Q4_K_M Q2_K --protocol llama.cpp --ctx N --no-tasks --no-smoke --json`;
   `mean_kld` and `top1_agreement_pct` are read from the report.
4. Each pair must agree within 5 % relative (the acceptance bound); the table is printed.

Usage:
  swift build -c release
  python3 Tools/interop_kld.py --llama-bin /path/to/llama.cpp/build/bin [--quantgate .build/release/quantgate] [--ctx 512]
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "Tests" / "Fixtures" / "bard-5m"
TEXT = ROOT / "Calibration" / "eval" / "hamlet.txt"
CALIBRATION = ROOT / "Calibration" / "train" / "shakespeare"
TYPES = ["Q8_0", "Q4_K_M", "Q2_K"]


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def llama_kld(llama_bin, base_gguf, candidate, base_file, ctx):
    """llama.cpp's mean KLD and same-top-1 percentage for one candidate."""
    out = run(llama_bin / "llama-perplexity", "-m", candidate, "-f", TEXT, "-c", ctx, "-b", ctx,
              "--kl-divergence-base", base_file, "--kl-divergence", "-t", "2")
    kld = re.search(r"Mean\s+KLD:\s+([0-9.eE+-]+)", out)
    top = re.search(r"Same top p:\s+([0-9.]+)", out)
    if not kld or not top:
        sys.exit(f"could not read llama-perplexity's KL-divergence summary:\n{out[-3000:]}")
    return float(kld.group(1)), float(top.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llama-bin", type=pathlib.Path, required=True, help="directory with llama-perplexity")
    parser.add_argument("--quantgate", type=pathlib.Path, default=ROOT / ".build" / "release" / "quantgate")
    parser.add_argument("--ctx", type=int, default=512)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        base = tmp / "bard-F16.gguf"
        run(args.quantgate, "quantize", MODEL, "--format", "gguf:F16", "--out", base, "--quiet")
        candidates = []
        for kind in TYPES:
            path = tmp / f"bard-{kind}.gguf"
            run(args.quantgate, "quantize", MODEL, "--format", f"gguf:{kind}", "--data", CALIBRATION,
                "--samples", "64", "--calibration", tmp / "calibration.h5", "--out", path, "--quiet")
            candidates.append(path)

        base_file = tmp / "base.kld"
        run(args.llama_bin / "llama-perplexity", "-m", base, "-f", TEXT, "-c", args.ctx, "-b", args.ctx,
            "--kl-divergence-base", base_file, "-t", "2")
        theirs = {p.name: llama_kld(args.llama_bin, base, p, base_file, args.ctx) for p in candidates}

        report = json.loads(run(args.quantgate, "eval", base, *candidates, "--text", TEXT, "--protocol", "llama.cpp",
                                "--ctx", args.ctx, "--no-tasks", "--no-smoke", "--json", "--quiet"))
        ours = {}
        for candidate in report["candidates"]:
            metrics = {m["id"]: m for m in candidate["metrics"]}
            ours[candidate["name"]] = (metrics["mean_kld"]["value"], metrics["top1_agreement_pct"]["value"])

    failed = False
    print(f"text {TEXT.name}, ctx {args.ctx}, baseline F16 GGUF; tokens scored by QuantGate: {report['settings']['tokensScored']}")
    print(f"{'candidate':18} {'KLD llama.cpp':>14} {'KLD ours':>12} {'rel':>8}   {'top-1 llama.cpp':>15} {'top-1 ours':>11} {'rel':>8}")
    for name, (kld_ref, top_ref) in theirs.items():
        kld, top = ours[name]
        rel_kld, rel_top = abs(kld - kld_ref) / kld_ref, abs(top - top_ref) / top_ref
        ok = rel_kld <= args.tolerance and rel_top <= args.tolerance
        failed |= not ok
        print(f"{name:18} {kld_ref:14.6f} {kld:12.6f} {100 * rel_kld:7.2f}%   {top_ref:14.3f}% {top:10.3f}% {100 * rel_top:7.2f}%  {'PASS' if ok else 'FAIL'}")
    print("FAIL" if failed else f"PASS (every figure within {100 * args.tolerance:.0f} % relative)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
