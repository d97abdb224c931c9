#!/usr/bin/env python3
"""Interop check of QuantGate's GPTQ (INT4, group 128, symmetric, act-order) against llm-compressor.

What it does, on the example model (or --model):
  1. `quantgate quantize --target a100` (GPTQ) calibrated on --calib-data (64 x 512 tokens), timed end to end
     (wall clock of the whole command, calibration included: GPTQ calibrates sequentially itself and reads no
     cache), and the same target with `--rtn` (round to nearest on the same grid, no calibration) as the floor
     GPTQ has to beat.
  2. llm-compressor's GPTQModifier on the same model with the *same calibration token windows* (read from our
     plain calibration cache, which `quantgate calibrate` writes afterwards; dataset `tokens`, fed in our order through a ready DataLoader), in a child process
     (llm-compressor keeps a global session). Settings, all spelled out though they are llm-compressor's
     defaults for `scheme="W4A16"`: INT4 symmetric, strategy group, group_size 128, weight observer
     memoryless_minmax, actorder "static", dampening_frac 0.01, block_size 128, lm_head left. Timed twice:
     the `oneshot` call alone (inside the child) and the child process end to end (imports, load, save).
     Why "static": compressed-tensors 0.19 removed actorder "group" (GPTQModel's desc_act=True with g_idx;
     setting it raises). "static" (= "weight") quantizes the columns in descending diag(H) order as act-order
     does, but keeps the groups as runs of 128 *original* columns, with scales fixed by the observer before
     GPTQ runs, so no g_idx is written. It is the nearest act-order llm-compressor still has.
  3. Perplexity on --text by transformers on CPU (f32, non-overlapping windows of --ctx, transformers'
     recipe) of: the base model; llm-compressor's checkpoint (compressed-tensors pack-quantized, which
     transformers decompresses on load; every decompressed Linear is checked against compressed-tensors' own
     unpacking x scale, and if transformers cannot load it the check falls back to evaluating a plain f32
     checkpoint built from that unpacking); ours and the RTN baseline (transformers would need gptqmodel for
     the `gptq` format, so Tools/gptq_reference.py's reference_dequantize(dir) gives each Linear's weights,
     which replace the base model's in a plain f32 checkpoint that transformers evaluates). Also, as a
     yardstick that still separates methods where the perplexity of a small model barely moves: RTN with
     llm-compressor's own scales, and for every variant the proxy loss mean ||(Q - W) X||^2 / ||W X||^2 over
     the Linears, X the base model's Linear inputs on the calibration windows (the cache's XᵀX).
  4. GPTQModel's own CPU kernel (Tools/gptq_reference.py) unpacks our checkpoints to exactly our reader's weights
     (`quantgate inspect --dump-dequantized`), bit for bit in f32.
     `quantgate eval --protocol hf` of the base model and of our GPTQ checkpoint agrees with transformers
     within 0.5 %.
  5. Summary; it fails (exit 1) unless our delta is at most llm-compressor's + --margin (0.5) percentage points
     and step 4 agrees, and our `quantize` wall time (calibration, load and write included) is at most 1/3 of llm-compressor's
     `oneshot` call alone (--no-time-gate: report it only, e.g. on a shared machine).
  --skip-ours runs steps 2-3 for the base model and llm-compressor only (the windows come from an existing
  --work/calibration.h5, or `quantgate calibrate` writes it).

Needs torch, transformers, safetensors, h5py, compressed-tensors and llmcompressor (llmcompressor 0.14 pins
older torch/transformers; `pip install --no-deps llmcompressor compressed-tensors` into a venv with
`--system-site-packages`, plus accelerate, loguru and datasets, works with torch 2.15 / transformers 5.24).
Our wall time depends on OpenBLAS's kernels: Debian's OpenBLAS 0.3.21 detects some virtual CPUs as "Prescott" (SSE3)
and runs GEMMs several times slower; `quantgate bench forward` prints the kernel family, and OPENBLAS_CORETYPE
(e.g. SkylakeX, Haswell) fixes it for our runs (torch uses its own GEMMs). gptqmodel must be importable (see
Tools/gptq_reference.py for its install).
Run from the repository root:  python3 Tools/interop_gptq.py [--quantgate .build/release/quantgate] [--work DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gptq_reference import reference_dequantize  # noqa: E402
from interop_fp8 import common_arguments, load, quantgate_perplexity, transformers_perplexity  # noqa: E402  (shared helpers)

GROUP_SIZE = 128


def sh(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, **kw):
    start = time.perf_counter()
    sh(cmd, **kw)
    return time.perf_counter() - start


def ours(args, work, name, extra):
    """Our GPTQ (or RTN with extra) checkpoint and the command's wall time."""
    out = os.path.join(work, name)
    seconds = timed([args.quantgate, "quantize", args.model, "--target", "a100", "--data", args.calib_data,
                     "--samples", "64", "--seq-len", "512", "--calibration", os.path.join(work, "calibration.h5"),
                     "--out", out, "--force", "--quiet", "--json"] + extra, stdout=subprocess.DEVNULL)
    return out, seconds


def calibration_windows(args, calibration, hessian=True):
    """The 64 x 512 calibration windows as a JSON file beside `calibration`, read from our plain calibration cache
    (which `quantgate calibrate` writes when it is absent; `hessian` keeps the base model's XᵀX for the proxy)."""
    import h5py
    if not os.path.exists(calibration):
        sh([args.quantgate, "calibrate", args.model, "--data", args.calib_data, "--samples", "64", "--seq-len", "512",
            "--out", calibration, "--quiet"] + ([] if hessian else ["--no-hessian"]), stdout=subprocess.DEVNULL)
    windows_file = os.path.join(os.path.dirname(calibration), "windows.json")
    with h5py.File(calibration, "r") as f:
        json.dump(f["tokens"][()].astype(int).tolist(), open(windows_file, "w"))
    return windows_file


def reference(args, work, name, windows_file):
    """llm-compressor in a child process (it keeps a global session): checkpoint, oneshot seconds, end to end."""
    out = os.path.join(work, name)
    timing = out + ".timing.json"
    seconds = timed([sys.executable, __file__, "--run-llmcompressor", "gptq", "--model", args.model,
                     "--windows", windows_file, "--out", out, "--timing", timing])
    return out, json.load(open(timing))["oneshot_seconds"], seconds


def gptq_modifier():
    """GPTQModifier with every setting that matters written out (they equal the W4A16 preset's defaults)."""
    from compressed_tensors.quantization import QuantizationArgs, preset_name_to_scheme
    from llmcompressor.modifiers.quantization import GPTQModifier

    weights = dict(num_bits=4, type="int", symmetric=True, strategy="group", group_size=GROUP_SIZE,
                   dynamic=False, actorder="static", observer="memoryless_minmax")
    # Our explicit arguments are the preset plus actorder / observer (which GPTQModifier and the
    # calibration code would fill in); fail loudly if a release changes the preset under us.
    preset = preset_name_to_scheme("W4A16", ["Linear"]).weights.model_dump()
    explicit = QuantizationArgs(**weights).model_dump()
    differs = {k for k in preset if k not in ("actorder", "observer") and preset[k] != explicit[k]}
    if differs:
        raise SystemExit(f"W4A16 preset differs from the explicit arguments in {sorted(differs)}: {preset}")
    return GPTQModifier(config_groups={"group_0": {"targets": ["Linear"], "weights": weights}}, ignore=["lm_head"],
                        block_size=128, dampening_frac=0.01, actorder="static")


def run_llmcompressor(mode, model, windows_file, out, timing):
    import torch
    from llmcompressor import oneshot
    from torch.utils.data import DataLoader

    assert mode == "gptq", mode
    windows = json.load(open(windows_file))
    # A ready DataLoader in our order: llm-compressor would otherwise shuffle or re-sort the windows.
    rows = [{"input_ids": torch.tensor(w), "attention_mask": torch.ones(len(w), dtype=torch.long)} for w in windows]
    modifier = gptq_modifier()
    start = time.perf_counter()
    oneshot(model=model, recipe=modifier, dataset=DataLoader(rows, batch_size=1, shuffle=False),
            num_calibration_samples=len(rows), max_seq_length=max(len(w) for w in windows),
            output_dir=out, save_compressed=True)
    seconds = time.perf_counter() - start
    record = {"oneshot_seconds": seconds, "windows": len(rows), "torch_threads": torch.get_num_threads()}
    with open(timing, "w") as handle:
        json.dump(record, handle)
    print(json.dumps(record), flush=True)


def compressed_tensors_dequantize(directory):
    """Each quantized Linear's weights (f32, [out, in]) by compressed-tensors' own unpacking x group scale."""
    import torch
    from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32

    config = json.load(open(os.path.join(directory, "config.json")))["quantization_config"]
    if config.get("format") != "pack-quantized":
        raise SystemExit(f"expected a pack-quantized checkpoint, found format {config.get('format')}")
    (group,) = config["config_groups"].values()
    bits, group_size = group["weights"]["num_bits"], group["weights"]["group_size"]
    tensors = load(directory)
    weights = {}
    for name in tensors:
        if not name.endswith(".weight_packed"):
            continue
        module = name[: -len(".weight_packed")]
        shape = torch.Size(tensors[module + ".weight_shape"].tolist())
        codes = unpack_from_int32(tensors[name], bits, shape).float()
        scale = tensors[module + ".weight_scale"].float()
        g_idx = tensors.get(module + ".weight_g_idx")
        columns = (g_idx.long() if g_idx is not None else torch.arange(shape[1]) // group_size)
        zero = tensors.get(module + ".weight_zero_point")
        if zero is not None and zero.abs().max().item() != 0:
            codes = codes - zero.float()[:, columns]
        weights[module] = codes * scale[:, columns]
    return weights


def plain_checkpoint(base, weights, out):
    """The base model with `weights` (module -> f32 [out, in]) substituted, as a plain f32 checkpoint."""
    import torch
    from safetensors.torch import save_file

    tensors = {k: v.float().contiguous() for k, v in load(base).items()}
    missing = [m for m in weights if m + ".weight" not in tensors]
    if missing:
        raise SystemExit(f"{out}: Linears not in the base model: {missing[:5]}")
    for module, value in weights.items():
        if tuple(value.shape) != tuple(tensors[module + ".weight"].shape):
            raise SystemExit(f"{module}: shape {tuple(value.shape)} != base {tuple(tensors[module + '.weight'].shape)}")
        tensors[module + ".weight"] = value.to(torch.float32).contiguous()
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for name in os.listdir(base):
        if name.endswith(".json") and name != "model.safetensors.index.json":
            shutil.copy(os.path.join(base, name), out)
    config = json.load(open(os.path.join(out, "config.json")))
    config.pop("quantization_config", None)
    for key in ("torch_dtype", "dtype"):
        if key in config:
            config[key] = "float32"
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    return out


def dequantizing_config():
    """transformers' load option that decompresses compressed-tensors weights into plain Linears."""
    from transformers import CompressedTensorsConfig
    return {"quantization_config": CompressedTensorsConfig(dequantize=True)}


def check_transformers_load(directory, expected):
    """Whether transformers loads llm-compressor's checkpoint into plain Linears equal to `expected`."""
    import torch
    from transformers import AutoModelForCausalLM
    try:
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, **dequantizing_config()).eval()
    except Exception as error:  # noqa: BLE001 - any failure means: evaluate the fallback instead
        print(f"transformers cannot load {directory}: {type(error).__name__}: {error}")
        return False
    worst, checked, problems = 0.0, 0, []
    modules = dict(model.named_modules())
    for name, value in expected.items():
        module = modules.get(name)
        if type(module) is not torch.nn.Linear or tuple(module.weight.shape) != tuple(value.shape):
            problems.append(name)
            continue
        # transformers decompresses in the checkpoint dtype (bf16) and up-casts: compare at that precision.
        worst = max(worst, (module.weight.detach().float() - value.to(torch.bfloat16).float()).abs().max().item())
        checked += 1
    ok = not problems and checked == len(expected) and worst == 0.0
    print(f"transformers' decompression of llm-compressor's checkpoint: {checked}/{len(expected)} Linears dense, "
          f"max |difference| to compressed-tensors' unpacking x scale (in bf16) {worst:.3g}"
          + (f"; not plain Linears or wrong shape: {problems[:5]}" if problems else ""))
    return ok


def proxy_loss(calibration, base, weights):
    """Mean over Linears of ||(Q - W) X||² / ||W X||² on the calibration inputs (the cached XᵀX of the base
    model's Linear inputs): GPTQ's own objective, a yardstick that still separates methods where the
    perplexity of a small model barely moves."""
    import h5py
    import torch
    tensors = load(base)
    ratios = []
    with h5py.File(calibration, "r") as f:
        if not int(f.attrs.get("hessian", 0)):
            return None
        for module, value in sorted(weights.items()):
            h = torch.from_numpy(f[module]["hessian"][()]).double()
            w = tensors[module + ".weight"].double()
            d = value.double() - w
            ratios.append(((d @ h) * d).sum().item() / ((w @ h) * w).sum().item())
    return sum(ratios) / len(ratios)


def our_weights(directory):
    return reference_dequantize(directory)


def check_reader(args, directory, weights, work):
    """GPTQModel's own CPU kernel (reference_dequantize, scales upcast so scale * (q - z) is exact) against our
    reader's weights (`quantgate inspect --dump-dequantized`): equal bit for bit in f32."""
    import numpy as np
    import torch
    dump = os.path.join(work, os.path.basename(directory) + "-dump")
    sh([args.quantgate, "inspect", directory, "--dump-dequantized", dump], stdout=subprocess.DEVNULL)
    mismatched = 0
    for module, theirs in sorted(weights.items()):
        mine = torch.from_numpy(np.fromfile(os.path.join(dump, module + ".weight.f32"), dtype="<f4").reshape(tuple(theirs.shape)))
        if not torch.equal(mine, theirs.float()):
            mismatched += 1
            print(f"    {module}: our reader differs from GPTQModel's kernel (max |diff| {(mine - theirs).abs().max().item():.3g})")
    print(f"GPTQModel's kernel on {os.path.basename(directory)}: {len(weights) - mismatched}/{len(weights)} Linears equal to our reader bit for bit")
    return mismatched == 0 and len(weights) > 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(parser)
    parser.add_argument("--margin", type=float, default=0.5,
                        help="percentage points our perplexity delta may exceed llm-compressor's (default 0.5)")
    parser.add_argument("--no-time-gate", action="store_true", help="report the wall time ratio without failing on it")
    parser.add_argument("--skip-ours", action="store_true",
                        help="only llm-compressor and the base model (windows from WORK/calibration.h5 or `quantgate calibrate`)")
    parser.add_argument("--run-llmcompressor", help=argparse.SUPPRESS)
    parser.add_argument("--windows", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--timing", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_llmcompressor:
        return run_llmcompressor(args.run_llmcompressor, args.model, args.windows, args.out, args.timing)

    work = args.work or tempfile.mkdtemp(prefix="quantgate-gptq-")
    os.makedirs(work, exist_ok=True)
    calibration = os.path.join(work, "calibration.h5")
    mine = {}
    if not args.skip_ours:
        # GPTQ calibrates sequentially itself (no cache is read), so its wall time includes calibration, as
        # llm-compressor's oneshot includes its own.
        mine["GPTQ"] = ours(args, work, "ours-gptq", [])
        mine["RTN"] = ours(args, work, "ours-rtn", ["--rtn"])
    # The same windows (and the base model's Hessians, for the proxy), from the plain calibration cache.
    windows_file = calibration_windows(args, calibration)
    theirs, their_oneshot, their_total = reference(args, work, "lc-gptq", windows_file)

    import torch
    ok = True
    expected = compressed_tensors_dequantize(theirs)
    theirs_eval, theirs_load = theirs, dequantizing_config()
    if not check_transformers_load(theirs, expected):
        print("    evaluating a plain checkpoint of compressed-tensors' unpacking x scale (rounded to bf16) instead")
        theirs_eval, theirs_load = plain_checkpoint(args.model, {k: v.to(torch.bfloat16) for k, v in expected.items()},
                                                    theirs + "-f32"), {}
    # RTN with llm-compressor's own scales: what its GPTQ improves on.
    base_tensors, their_tensors = load(args.model), load(theirs)
    their_rtn = {}
    for module, value in expected.items():
        w = base_tensors[module + ".weight"].float()
        scale = their_tensors[module + ".weight_scale"].float().repeat_interleave(GROUP_SIZE, dim=1)[:, :w.shape[1]]
        their_rtn[module] = torch.clamp(torch.round(w / scale), -8, 7) * scale

    print(f"\nperplexity on {os.path.basename(args.text)}, non-overlapping windows of {args.ctx}, transformers f32 on CPU;"
          f" proxy = mean over Linears of ||(Q-W)X||^2 / ||WX||^2 on the calibration windows")
    base = transformers_perplexity(args.model, args.text, args.ctx)
    print(f"{'model':34s} {'perplexity':>10s} {'delta':>9s} {'proxy':>9s}")
    print(f"{'base':34s} {base:10.4f}")
    their_ppl = transformers_perplexity(theirs_eval, args.text, args.ctx, **theirs_load)
    their_delta = 100 * (their_ppl / base - 1)
    proxy = proxy_loss(calibration, args.model, expected)
    print(f"{'llm-compressor GPTQ':34s} {their_ppl:10.4f} {their_delta:+8.3f}% {proxy if proxy is not None else float('nan'):9.5f}")
    rtn_ppl = transformers_perplexity(plain_checkpoint(args.model, their_rtn, os.path.join(work, "lc-scales-rtn-f32")),
                                      args.text, args.ctx)
    proxy = proxy_loss(calibration, args.model, their_rtn)
    print(f"{'RTN with llm-compressor scales':34s} {rtn_ppl:10.4f} {100 * (rtn_ppl / base - 1):+8.3f}% "
          f"{proxy if proxy is not None else float('nan'):9.5f}")
    deltas = {}
    for label, (directory, _) in mine.items():
        weights = our_weights(directory)
        ok = check_reader(args, directory, weights, work) and ok
        plain = plain_checkpoint(args.model, weights, os.path.join(work, os.path.basename(directory) + "-f32"))
        ppl = transformers_perplexity(plain, args.text, args.ctx)
        deltas[label] = 100 * (ppl / base - 1)
        proxy = proxy_loss(calibration, args.model, weights)
        print(f"{'QuantGate ' + label:34s} {ppl:10.4f} {deltas[label]:+8.3f}% {proxy if proxy is not None else float('nan'):9.5f}")
    if mine:
        # Our own evaluator on the base model and on our GPTQ checkpoint, against transformers.
        for label, directory, reference_ppl in (("base", args.model, base),
                                                ("GPTQ", mine["GPTQ"][0], base * (1 + deltas["GPTQ"] / 100))):
            qg = quantgate_perplexity(args, directory)
            agree = abs(qg / reference_ppl - 1)
            print(f"quantgate eval {label}: {qg:.4f} vs transformers {reference_ppl:.4f} ({100 * agree:.3f} % apart)")
            if agree > 0.005:
                print(f"    FAIL: quantgate eval and transformers disagree by more than 0.5 % on {label}")
                ok = False

    print(f"\nwall time: llm-compressor oneshot {their_oneshot:.2f} s, its child process end to end {their_total:.2f} s")
    if mine:
        our_seconds = mine["GPTQ"][1]
        ratio = our_seconds / their_oneshot
        print(f"wall time: QuantGate GPTQ (quantize, calibration included) {our_seconds:.2f} s, RTN {mine['RTN'][1]:.2f} s; "
              f"ours / llm-compressor oneshot = {ratio:.3f} (goal <= 0.333: {'met' if ratio <= 1 / 3 else 'NOT met'}); "
              f"ours / llm-compressor end to end = {our_seconds / their_total:.3f}")
        if ratio > 1 / 3 and not args.no_time_gate:
            print(f"    FAIL: our wall time is {ratio:.3f} x llm-compressor's oneshot, the goal is <= 1/3")
            ok = False
        if deltas["GPTQ"] > their_delta + args.margin:
            print(f"    FAIL: our delta {deltas['GPTQ']:+.3f} % exceeds llm-compressor's {their_delta:+.3f} % + {args.margin}")
            ok = False
        if deltas["GPTQ"] > deltas["RTN"]:
            print(f"    note: our GPTQ delta {deltas['GPTQ']:+.3f} % is worse than our RTN's {deltas['RTN']:+.3f} %")
    else:
        print("QuantGate skipped (--skip-ours)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
