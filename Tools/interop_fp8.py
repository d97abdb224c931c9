#!/usr/bin/env python3
"""Interop check of QuantGate's FP8 (compressed-tensors) artefacts against the reference software.

What it does, on the example model (or --model):
  1. `quantgate quantize --target h100` in three schemes: channel/static (the default), tensor/static and
     channel/dynamic, calibrated on --calib-data (64 x 512 tokens).
  2. llm-compressor's own FP8 of the same model, with the *same calibration token windows* (read from our
     calibration cache), in the matching schemes: config_groups channel weights + static tensor inputs with
     the `static_minmax` observer (a running max, what QuantGate computes), the `FP8` preset, and the
     `FP8_DYNAMIC` preset.
  3. Layout: same tensor names, dtypes and shapes; the `quantization_config` of both equal key by key
     (QuantGate leaves out `scale_dtype`/`zp_dtype`, which compressed-tensors 0.11-0.12 reject).
     Bytes: E4M3 codes and weight scales compared; input scales compared (relative difference: they come
     from two different forward passes, ours in f32, theirs in bf16).
  4. compressed-tensors decompresses our checkpoint (its float compressor, per Linear): the result equals
     our reader's weights (`quantgate inspect --dump-dequantized`) rounded to the model dtype, bit for bit;
     in f32, our reader's weights equal code x scale exactly.
  5. transformers loads our checkpoint on CPU (W8A8 emulation: weights decompressed, every Linear's input
     fake-quantized with input_scale) and its perplexity on --text (non-overlapping windows of --ctx)
     agrees with `quantgate eval --protocol hf` within 0.5 %; our perplexity delta is at most
     llm-compressor's + 0.1 % (both measured by transformers).
  With --golden FILE: writes the SHA-256 of llm-compressor's codes and scales per Linear (channel and
  tensor schemes) for the Swift golden test (Tests/QuantGateQuantizeTests/FP8GoldenTests.swift).

Needs torch, transformers, safetensors, h5py, compressed-tensors and llmcompressor (llmcompressor 0.14 pins
older torch/transformers; `pip install --no-deps llmcompressor compressed-tensors` into a venv with
`--system-site-packages`, plus accelerate, loguru and datasets, works with torch 2.15 / transformers 5.24).
Run from the repository root:  python3 Tools/interop_fp8.py [--quantgate .build/release/quantgate]
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile


def sh(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def ours(args, work, name, extra):
    out = os.path.join(work, name)
    sh([args.quantgate, "quantize", args.model, "--target", "h100", "--data", args.calib_data, "--samples", "64",
        "--seq-len", "512", "--calibration", os.path.join(work, "calibration.h5"), "--out", out, "--force", "--quiet",
        "--json"] + extra, stdout=subprocess.DEVNULL)
    return out


def reference(args, work, name, mode, windows_file):
    """llm-compressor in a child process (it keeps a global session)."""
    out = os.path.join(work, name)
    sh([sys.executable, __file__, "--run-llmcompressor", mode, "--model", args.model, "--windows", windows_file, "--out", out])
    return out


def run_llmcompressor(mode, model, windows_file, out):
    import torch
    from llmcompressor import oneshot
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from torch.utils.data import DataLoader

    windows = json.load(open(windows_file))
    fp8 = dict(num_bits=8, type="float", symmetric=True, dynamic=False)
    if mode == "channel-static":
        modifier = QuantizationModifier(config_groups={"group_0": {
            "targets": ["Linear"], "weights": dict(fp8, strategy="channel"),
            "input_activations": dict(fp8, strategy="tensor", observer="static_minmax")}}, ignore=["lm_head"])
    elif mode == "tensor-static":
        modifier = QuantizationModifier(targets="Linear", scheme="FP8", ignore=["lm_head"])
    else:
        modifier = QuantizationModifier(targets="Linear", scheme="FP8_DYNAMIC", ignore=["lm_head"])
    kwargs = dict(model=model, recipe=modifier, output_dir=out, save_compressed=True)
    if mode != "channel-dynamic":
        # A ready DataLoader in our order: llm-compressor would otherwise shuffle or re-sort the windows.
        rows = [{"input_ids": torch.tensor(w), "attention_mask": torch.ones(len(w), dtype=torch.long)} for w in windows]
        kwargs.update(dataset=DataLoader(rows, batch_size=1, shuffle=False), num_calibration_samples=len(rows))
    oneshot(**kwargs)


def load(directory):
    from safetensors.torch import load_file
    tensors = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".safetensors"):
            tensors.update(load_file(os.path.join(directory, name)))
    return tensors


def compare_layout(mine, theirs, label):
    import torch
    a, b = load(mine), load(theirs)
    problems = [f"only in ours: {k}" for k in sorted(set(a) - set(b))] + [f"only in theirs: {k}" for k in sorted(set(b) - set(a))]
    for k in sorted(set(a) & set(b)):
        if a[k].dtype != b[k].dtype or tuple(a[k].shape) != tuple(b[k].shape):
            problems.append(f"{k}: ours {a[k].dtype} {tuple(a[k].shape)}, theirs {b[k].dtype} {tuple(b[k].shape)}")
    ca = json.load(open(os.path.join(mine, "config.json")))["quantization_config"]
    cb = json.load(open(os.path.join(theirs, "config.json")))["quantization_config"]
    for group in cb.get("config_groups", {}).values():
        for args in (group.get("weights"), group.get("input_activations")):
            for key in ("scale_dtype", "zp_dtype"):
                if args is not None and args.get(key) is None:
                    args.pop(key, None)
    if ca != cb:
        problems.append(f"quantization_config differs:\n  ours   {json.dumps(ca, sort_keys=True)}\n  theirs {json.dumps(cb, sort_keys=True)}")
    codes = [k for k in b if b[k].dtype == torch.float8_e4m3fn]
    equal = sum((a[k].view(torch.uint8) == b[k].view(torch.uint8)).sum().item() for k in codes if k in a)
    total = sum(b[k].numel() for k in codes)
    scales = [k for k in b if k.endswith("weight_scale")]
    scales_equal = sum((a[k] == b[k]).sum().item() for k in scales if k in a)
    scales_total = sum(b[k].numel() for k in scales)
    inputs = [k for k in b if k.endswith("input_scale") and k in a]
    rel = max((abs(a[k].float().item() / b[k].float().item() - 1) for k in inputs), default=0.0)
    print(f"{label}: layout {'identical' if not problems else 'DIFFERS'}; E4M3 codes equal {equal}/{total} "
          f"({100 * equal / max(1, total):.3f} %); weight scales equal {scales_equal}/{scales_total}; "
          f"input scales: max relative difference {100 * rel:.2f} % over {len(inputs)}")
    for p in problems:
        print("   ", p)
    return not problems and equal == total and scales_equal == scales_total


def check_decompression(args, directory, work):
    """compressed-tensors' float decompressor on our checkpoint vs our reader's dump."""
    import numpy as np
    import torch
    from compressed_tensors.compressors import BaseCompressor
    from compressed_tensors.quantization import QuantizationConfig

    dump = os.path.join(work, "dump")
    sh([args.quantgate, "inspect", directory, "--dump-dequantized", dump], stdout=subprocess.DEVNULL)
    config = QuantizationConfig.model_validate(json.load(open(os.path.join(directory, "config.json")))["quantization_config"])
    scheme = next(iter(config.config_groups.values()))
    compressor = BaseCompressor.get_value_from_registry(scheme.format)
    tensors = load(directory)
    checked = mismatched = 0
    for name, tensor in tensors.items():
        if tensor.dtype != torch.float8_e4m3fn:
            continue
        module = name[: -len(".weight")]
        theirs = compressor.decompress({"weight": tensor, "weight_scale": tensors[module + ".weight_scale"]}, scheme)["weight"]
        mine = torch.from_numpy(np.fromfile(os.path.join(dump, name + ".f32"), dtype="<f4").reshape(tuple(tensor.shape)))
        exact = tensor.float() * tensors[module + ".weight_scale"].float()
        checked += 1
        if not torch.equal(mine.to(theirs.dtype), theirs) or not torch.equal(mine, exact):
            mismatched += 1
            print(f"    {name}: differs from compressed-tensors' decompression")
    print(f"compressed-tensors decompression of our checkpoint: {checked - mismatched}/{checked} Linears equal to our reader "
          f"(bit for bit in {theirs.dtype}; and ours == code x scale exactly in f32)")
    return mismatched == 0 and checked > 0


def transformers_perplexity(directory, text, ctx, **load_kwargs):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, **load_kwargs).eval()
    ids = tokenizer(open(text, encoding="utf-8").read(), return_tensors="pt").input_ids[0]
    # transformers' perplexity recipe with stride = ctx: non-overlapping windows, every token but each
    # window's first scored.
    nll, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids), ctx):
            window = ids[start:start + ctx]
            if len(window) < 2:
                break
            logits = model(window.unsqueeze(0)).logits[0, :-1].float()
            nll += torch.nn.functional.cross_entropy(logits, window[1:], reduction="sum").item()
            count += len(window) - 1
    return math.exp(nll / count)


def quantgate_perplexity(args, directory):
    result = sh([args.quantgate, "eval", directory, "--text", args.text, "--protocol", "hf", "--ctx", str(args.ctx),
                 "--stride", str(args.ctx), "--json", "--quiet"], capture_output=True, text=True)
    return json.loads(result.stdout)["perplexity"]


def golden(path, channel, tensor):
    import torch
    record = {"how": "python3 Tools/interop_fp8.py --golden: llm-compressor 0.14 / compressed-tensors 0.19 oneshot on "
                     "Tests/Fixtures/bard-5m; SHA-256 of each Linear's F8_E4M3 bytes and its weight_scale bytes (bf16 LE)"}
    for label, directory in (("channel", channel), ("tensor", tensor)):
        tensors = load(directory)
        entry = {}
        for name, value in sorted(tensors.items()):
            if value.dtype == torch.float8_e4m3fn:
                module = name[: -len(".weight")]
                scale = tensors[module + ".weight_scale"]
                entry[module] = {"codes": hashlib.sha256(value.view(torch.uint8).numpy().tobytes()).hexdigest(),
                                 "scales": hashlib.sha256(scale.view(torch.int16).numpy().tobytes()).hexdigest()}
        record[label] = entry
    with open(path, "w") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote", path)


def common_arguments(parser, work_help="working directory (default: a temporary one)"):
    """The options every interop script shares: our binary, the model, calibration data, evaluation text, window, work."""
    parser.add_argument("--quantgate", default=".build/release/quantgate")
    parser.add_argument("--model", default="Tests/Fixtures/bard-5m")
    parser.add_argument("--calib-data", default="Calibration/train/shakespeare")
    parser.add_argument("--text", default="Calibration/eval/hamlet.txt")
    parser.add_argument("--ctx", type=int, default=512)
    parser.add_argument("--work", help=work_help)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(parser)
    parser.add_argument("--golden", help="also write the golden file of llm-compressor's codes and scales")
    parser.add_argument("--run-llmcompressor", help=argparse.SUPPRESS)
    parser.add_argument("--windows", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_llmcompressor:
        return run_llmcompressor(args.run_llmcompressor, args.model, args.windows, args.out)

    import h5py
    work = args.work or tempfile.mkdtemp(prefix="quantgate-fp8-")
    os.makedirs(work, exist_ok=True)
    mine = {"channel-static": ours(args, work, "qg-channel-static", []),
            "tensor-static": ours(args, work, "qg-tensor-static", ["--weight-scales", "tensor"]),
            "channel-dynamic": ours(args, work, "qg-channel-dynamic", ["--activations", "dynamic"])}
    windows_file = os.path.join(work, "windows.json")
    with h5py.File(os.path.join(work, "calibration.h5"), "r") as f:
        json.dump(f["tokens"][()].astype(int).tolist(), open(windows_file, "w"))
    theirs = {mode: reference(args, work, "lc-" + mode, mode, windows_file) for mode in mine}

    ok = True
    for mode in mine:
        ok &= compare_layout(mine[mode], theirs[mode], f"{mode:16s}")
    ok &= check_decompression(args, mine["channel-static"], work)

    base_hf = transformers_perplexity(args.model, args.text, args.ctx)
    base_qg = quantgate_perplexity(args, args.model)
    print(f"\nperplexity on {os.path.basename(args.text)}, non-overlapping windows of {args.ctx} (hf protocol)")
    print(f"{'model':28s} {'transformers':>12s} {'quantgate':>10s} {'agree':>7s} {'delta (tf)':>10s}")
    print(f"{'baseline':28s} {base_hf:12.4f} {base_qg:10.4f} {100 * abs(base_qg / base_hf - 1):6.3f}%")
    for mode in mine:
        row = {}
        for who, directory in (("QuantGate", mine[mode]), ("llm-compressor", theirs[mode])):
            hf, qg = transformers_perplexity(directory, args.text, args.ctx), quantgate_perplexity(args, directory)
            agree = abs(qg / hf - 1)
            row[who] = 100 * (hf / base_hf - 1)
            print(f"{who + ' ' + mode:28s} {hf:12.4f} {qg:10.4f} {100 * agree:6.3f}% {row[who]:+9.3f}%")
            ok &= agree <= 0.005
        if row["QuantGate"] > row["llm-compressor"] + 0.1:
            print(f"    FAIL: our delta {row['QuantGate']:+.3f} % exceeds llm-compressor's {row['llm-compressor']:+.3f} % + 0.1")
            ok = False
    if args.golden:
        golden(args.golden, theirs["channel-static"], theirs["tensor-static"])
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
