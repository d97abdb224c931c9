#!/usr/bin/env python3
"""GPTQ column orders compared on the same windows: static act-order (the a100 default), group act-order (the
old default, `desc_act: true`, which vLLM 0.32 refuses), no act-order, round-to-nearest, and llm-compressor's
GPTQModifier (W4A16, actorder "static": the same algorithm family, what vLLM users quantize with).

  1. `quantgate quantize --target a100` with `--act-order static|group|off` and `--rtn`, 64 x 512 calibration
     windows of --calib-data.
  2. llm-compressor's GPTQ on the *same* windows (Tools/interop_gptq.py's child: read from our plain calibration
     cache), its compressed-tensors checkpoint unpacked by compressed-tensors' own helper to codes x scale, in f32
     (exact: 4-bit codes times bf16 scales), substituted into the base model as a plain f32 checkpoint.
  3. One `quantgate eval` of the base model against all five: the same token windows for every candidate, mean and
     p99 KL divergence (baseline || candidate), top-1 agreement, perplexity delta with its paired bootstrap interval,
     for the llama.cpp protocol (--ctx 512) and the hf protocol (windows of 512, every token scored).

Needs torch, transformers, safetensors, h5py, compressed-tensors and llmcompressor (for step 2; e.g. a venv with
torch 2.13 CPU, transformers 5.17, compressed-tensors 0.19.0, and `pip install --no-deps llmcompressor==0.14.0.1`).
Run from the repository root:  python Tools/gptq_act_order_study.py [--quantgate .build/release/quantgate] [--work DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_fp8 import common_arguments  # noqa: E402
from interop_gptq import calibration_windows, compressed_tensors_dequantize, plain_checkpoint, reference, sh  # noqa: E402

ORDERS = [("static (default)", ["--act-order", "static"]), ("group (desc_act true)", ["--act-order", "group"]),
          ("off", ["--act-order", "off"]), ("round-to-nearest", ["--rtn"])]


def quantize(args, work, name, flags):
    out = os.path.join(work, name)
    calibration = [] if "--rtn" in flags else ["--data", args.calib_data, "--samples", "64", "--seq-len", "512"]
    if not os.path.exists(out):
        sh([args.quantgate, "quantize", args.model, "--target", "a100", "--out", out, "--quiet"] + calibration + flags,
           stdout=subprocess.DEVNULL)
    return out


def evaluate(args, work, candidates, protocol):
    """`quantgate eval`'s JSON report (kept in WORK, so a rerun only prints)."""
    path = os.path.join(work, f"report-{protocol}.json")
    if not os.path.exists(path):
        extra = ["--stride", str(args.ctx)] if protocol == "hf" else []
        result = sh([args.quantgate, "eval", args.model] + candidates + ["--text", args.text, "--protocol", protocol, "--ctx", str(args.ctx),
                                                                          "--no-tasks", "--no-smoke", "--json", "--quiet"] + extra,
                    capture_output=True, text=True)
        with open(path, "w") as handle:
            handle.write(result.stdout)
    return json.load(open(path))


def metric(candidate, name):
    for entry in candidate["metrics"]:
        if entry["id"] == name:
            return entry
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(parser, work_help="working directory (default: a temporary one); artefacts already there are reused")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="quantgate-act-order-")
    os.makedirs(work, exist_ok=True)

    labels, candidates = [], []
    for label, flags in ORDERS:
        labels.append("QuantGate " + label)
        candidates.append(quantize(args, work, "gptq-" + label.split()[0], flags))
    windows = calibration_windows(args, os.path.join(work, "calibration.h5"), hessian=False)
    theirs = os.path.join(work, "lc-gptq")
    if not os.path.exists(theirs):
        reference(args, work, "lc-gptq", windows)
    labels.append("llm-compressor GPTQ (actorder static)")
    candidates.append(plain_checkpoint(args.model, compressed_tensors_dequantize(theirs), theirs + "-f32"))

    for protocol in ("llama.cpp", "hf"):
        report = evaluate(args, work, candidates, protocol)
        base = report["baselineResults"]["perplexity"]
        print(f"\n{protocol} protocol, ctx {args.ctx}, {os.path.basename(args.text)}; baseline perplexity {base:.4f}")
        print(f"{'candidate':40s} {'ppl':>10s} {'delta % [95% CI]':>28s} {'mean KLD':>10s} {'p99 KLD':>9s} {'top-1 %':>8s}")
        for label, candidate in zip(labels, report["candidates"]):
            ppl = metric(candidate, "perplexity_delta_pct")
            kld, p99, top1 = metric(candidate, "mean_kld"), metric(candidate, "p99_kld"), metric(candidate, "top1_agreement_pct")
            print(f"{label:40s} {ppl['candidate']:10.4f} {ppl['value']:+9.4f} [{ppl['lower']:+.4f}, {ppl['upper']:+.4f}] "
                  f"{kld['value']:10.6f} {p99['value']:9.5f} {top1['value']:8.2f}")


if __name__ == "__main__":
    sys.exit(main())
