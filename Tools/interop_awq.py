#!/usr/bin/env python3
"""Interop check of QuantGate's AWQ (INT4, group 128, asymmetric, AutoAWQ "gemm" layout) against llm-compressor.

What it does, on the example model (or --model):
  1. `quantgate quantize --target l40s` (AWQ) calibrated on --calib-data (64 x 512 tokens), timed end to end
     (wall clock of the whole command, calibration included; a stale OUT.calibration.h5 is removed first so the
     cache is never reused), and the same target with `--rtn` (round to nearest on the same asymmetric grid, no
     scaling, no clipping) as the floor AWQ has to beat.
  2. llm-compressor's AWQ on the same model with the *same calibration token windows* (read from our plain
     calibration cache, which `quantgate calibrate` writes; dataset `tokens`, fed in our order through a ready
     DataLoader), in a child process (llm-compressor keeps a global session). llm-compressor 0.14 splits AWQ in
     two modifiers: `AWQModifier` (llmcompressor.modifiers.transform.awq: the smoothing transform; default
     Llama mappings input_layernorm->q/k/v, v_proj->o_proj (skipped when shapes differ, GQA),
     post_attention_layernorm->gate/up, up_proj->down_proj; duo_scaling True, n_grid 20) followed by a
     `QuantizationModifier` with W4A16_ASYM written out: INT4 asymmetric, strategy group, group_size 128,
     weight observer memoryless_minmax, lm_head left. It has no clipping search (ALGORITHMS.md §2.6).
     Timed twice: the `oneshot` call alone (inside the child) and the child process end to end. On a machine
     without a CUDA driver, IntermediatesCache.pin_memory is made a no-op in the child (llm-compressor 0.14 pins
     the cached batches unconditionally, which raises with a CUDA build of torch and no driver; values unchanged).
  3. Perplexity on --text by transformers on CPU (f32, non-overlapping windows of --ctx, transformers'
     recipe) of: the base model; llm-compressor's checkpoint (compressed-tensors pack-quantized with packed
     zero points, which transformers decompresses on load; every decompressed Linear is checked against
     compressed-tensors' own `PackedQuantizationCompressor.decompress`, and if transformers cannot load it, a
     plain f32 checkpoint built from that decompression is evaluated instead); ours and the RTN baseline
     through a plain f32 checkpoint: every quantized Linear's weight from Tools/awq_reference.py's
     reference_dequantize(dir) (AutoAWQ's own dequantize_gemm), every other tensor from OUR directory (AWQ
     divides the RMSNorm weights by the scales and may scale biases, so the base model's would be wrong).
     If transformers can load the AWQ directory itself (transformers 5.24 loads it through GPTQModel's AWQ
     kernels; needs gptqmodel and accelerate), that is evaluated too ("via transformers").
  4. Readers agree: AutoAWQ's `dequantize_gemm` (and GPTQModel's AWQ torch kernel, when importable) on our
     checkpoints == our reader's weights (`quantgate inspect --dump-dequantized`), bit for bit in f32.
     `quantgate eval --protocol hf` of the base model and of our AWQ checkpoint agrees with transformers
     within 0.5 %.
  5. Summary; it fails (exit 1) unless our AWQ delta is at most llm-compressor's + --margin (0.5) percentage
     points and step 4 agrees. The wall time ratio ours / llm-compressor oneshot and AWQ vs RTN are printed.
  --skip-ours runs steps 2-3 for the base model and llm-compressor only (the windows come from an existing
  --work/calibration.h5, or `quantgate calibrate` writes it).
  --autoawq-reference also runs AutoAWQ 0.2.9's own AwqQuantizer.quantize() by hand on CPU in a child (scaling
  with AutoAWQ's grid α = k/20, k < 20, plus its clipping search; same windows; see run_autoawq; its CPU α-search
  bug is corrected with awq_reference.copy_state_on_cpu) and evaluates its checkpoint like ours: the algorithm
  QuantGate follows, where llm-compressor has a different grid and no clipping. Each of AutoAWQ's α searches is
  recorded (WORK/autoawq.report.json: the 20 losses, the chosen ratio) and compared group by group with ours
  (OUT/quantization_report.json).
  --reuse takes llm-compressor's (and AutoAWQ's) checkpoint and timing from an earlier run in --work (llm-compressor's
  oneshot takes ~10 min on 2 cores for bard-5m).

Needs torch, transformers, safetensors, h5py, compressed-tensors and llmcompressor (the /tmp/ctenv venv of
Tools/interop_gptq.py: `pip install --no-deps llmcompressor compressed-tensors` into a venv with
`--system-site-packages`, plus accelerate, loguru and datasets), AutoAWQ's sdist for Tools/awq_reference.py
(see there), and optionally gptqmodel 7.7.0 (second reader, transformers loading the AWQ directory).
Run from the repository root:
  /tmp/ctenv/bin/python Tools/interop_awq.py [--quantgate .build/release/quantgate] [--work DIR] [--skip-ours]
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
from awq_reference import reference_dequantize  # noqa: E402
from interop_fp8 import common_arguments, load, quantgate_perplexity, transformers_perplexity  # noqa: E402  (shared helpers)
from interop_gptq import calibration_windows, check_transformers_load, dequantizing_config, sh, timed  # noqa: E402

GROUP_SIZE = 128
AWQ_TENSORS = (".qweight", ".qzeros", ".scales")
CT_TENSORS = (".weight_packed", ".weight_scale", ".weight_zero_point", ".weight_shape", ".weight_g_idx")


def ours(args, work, name, extra):
    """Our AWQ (or RTN with extra) checkpoint and the command's wall time (calibration included)."""
    out = os.path.join(work, name)
    stale = out + ".calibration.h5"  # quantize's default cache: never let a previous run's cache shorten ours
    if os.path.exists(stale):
        os.remove(stale)
    seconds = timed([args.quantgate, "quantize", args.model, "--target", "l40s", "--data", args.calib_data,
                     "--samples", "64", "--seq-len", "512", "--out", out, "--force", "--quiet", "--json"] + extra,
                    stdout=subprocess.DEVNULL)
    return out, seconds


def reference(args, work, name, windows_file, mode="awq"):
    """llm-compressor (mode "awq") or AutoAWQ ("autoawq") in a child process (llm-compressor keeps a global
    session): checkpoint, seconds of the quantization call inside the child, child end to end. With --reuse, a
    checkpoint and timing record left in --work by an earlier run are taken as they are."""
    out = os.path.join(work, name)
    timing = out + ".timing.json"
    if args.reuse and os.path.exists(timing) and os.path.isdir(out):
        record = json.load(open(timing))
        print(f"reusing {out} (--reuse)")
        return out, record["seconds"], record.get("child_seconds", float("nan"))
    seconds = timed([sys.executable, __file__, "--run-llmcompressor", mode, "--model", args.model,
                     "--windows", windows_file, "--out", out, "--timing", timing])
    record = json.load(open(timing))
    record["child_seconds"] = seconds
    json.dump(record, open(timing, "w"))
    return out, record["seconds"], seconds


def awq_recipe():
    """[AWQModifier, QuantizationModifier] with every setting that matters written out (W4A16_ASYM's defaults)."""
    from compressed_tensors.quantization import QuantizationArgs, preset_name_to_scheme
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from llmcompressor.modifiers.transform.awq import AWQModifier, default_mappings

    weights = dict(num_bits=4, type="int", symmetric=False, strategy="group", group_size=GROUP_SIZE,
                   dynamic=False, observer="memoryless_minmax")
    preset = preset_name_to_scheme("W4A16_ASYM", ["Linear"]).weights.model_dump()
    explicit = QuantizationArgs(**weights).model_dump()
    differs = {k for k in preset if k != "observer" and preset[k] != explicit[k]}
    if differs:
        raise SystemExit(f"W4A16_ASYM preset differs from the explicit arguments in {sorted(differs)}: {preset}")
    return [AWQModifier(mappings=default_mappings, duo_scaling=True, n_grid=20),
            QuantizationModifier(config_groups={"group_0": {"targets": ["Linear"], "weights": weights}},
                                 ignore=["lm_head"])]


def run_llmcompressor(mode, model, windows_file, out, timing):
    import torch
    from llmcompressor import oneshot
    from torch.utils.data import DataLoader

    assert mode == "awq", mode
    if not torch.cuda.is_available():
        # AWQModifier._apply_smoothing pins every cached batch (IntermediatesCache.pin_memory) for faster
        # host-to-device copies; with a CUDA build of torch and no driver, Tensor.pin_memory() raises
        # "Found no NVIDIA driver". Pinning changes no value, so on a CPU-only machine it is skipped.
        from llmcompressor.pipelines.cache import IntermediatesCache
        IntermediatesCache.pin_memory = lambda self, batch_index, input_names=None: None
    windows = json.load(open(windows_file))
    # A ready DataLoader in our order: llm-compressor would otherwise shuffle or re-sort the windows.
    rows = [{"input_ids": torch.tensor(w), "attention_mask": torch.ones(len(w), dtype=torch.long)} for w in windows]
    recipe = awq_recipe()
    start = time.perf_counter()
    oneshot(model=model, recipe=recipe, dataset=DataLoader(rows, batch_size=1, shuffle=False),
            num_calibration_samples=len(rows), max_seq_length=max(len(w) for w in windows),
            output_dir=out, save_compressed=True)
    seconds = time.perf_counter() - start
    record = {"seconds": seconds, "what": "llm-compressor oneshot", "windows": len(rows),
              "torch_threads": torch.get_num_threads()}
    with open(timing, "w") as handle:
        json.dump(record, handle)
    print(json.dumps(record), flush=True)


def run_autoawq(model_dir, windows_file, out, timing):
    """AutoAWQ 0.2.9's own AwqQuantizer.quantize() driven by hand on CPU (Tools/awq_reference.py loads it):
    the HF model in float32, AutoAWQ's LlamaAWQForCausalLM for the layer groups, init_quant on our windows
    (a list of token lists: AutoAWQ concatenates and re-cuts them into the same 512-token blocks), the α search
    made correct on CPU (awq_reference.copy_state_on_cpu), clipping on, then AutoAWQ's _apply_quant (which casts
    each Linear to fp16 before quantizing, as AutoAWQ does). Saved like save_quantized: config.json with
    AwqConfig's transformers dict, the non-quantized tensors in fp16."""
    import torch
    from awq_reference import copy_state_on_cpu, load_autoawq_llama, make_quantizer
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM

    windows = json.load(open(windows_file))
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    model.config.use_cache = False  # no KV cache object in the captured layer kwargs
    q = make_quantizer(w_bit=4, group_size=GROUP_SIZE, zero_point=True, duo_scaling=True, version="gemm")
    llama = load_autoawq_llama()
    q.awq_model = llama()
    q.awq_model.model_type = "llama"
    q.model, q.tokenizer = model, None
    q.calib_data, q.split, q.text_column = windows, "train", "text"
    q.max_calib_samples, q.max_calib_seq_len = len(windows), max(len(w) for w in windows)
    copy_state_on_cpu(q)
    # Record each α search (AutoAWQ returns only the scales): the 20 losses, in ratio order, and the group.
    groups, losses = [], []
    cls, search = type(q), q._search_best_scale

    def compute_loss(fp16_output, int_w_output, device):
        losses.append(cls._compute_loss(q, fp16_output, int_w_output, device))
        return losses[-1]

    def search_best_scale(module, prev_op, layers, inp, module2inspect=None, kwargs={}):
        losses.clear()
        prev_name, names, scales = search(module, prev_op, layers, inp, module2inspect, kwargs)
        prefix = next(f"model.layers.{i}." for i, m in enumerate(q.modules) if m is module)
        k = min(range(len(losses)), key=lambda i: (losses[i], i))
        groups.append({"previous": prefix + prev_name, "linears": [prefix + n for n in names], "ratio": k / len(losses),
                       "loss": losses[k], "lossAtZero": losses[0], "losses": list(losses),
                       "minScale": scales.min().item(), "maxScale": scales.max().item()})
        return prev_name, names, scales

    q._compute_loss, q._search_best_scale = compute_loss, search_best_scale
    start = time.perf_counter()
    with torch.no_grad():
        q.modules, q.module_kwargs, q.inps = q.init_quant(n_samples=q.max_calib_samples, max_seq_len=q.max_calib_seq_len)
        q.quantize()
    seconds = time.perf_counter() - start
    json.dump({"groups": groups}, open(out.rstrip("/") + ".report.json", "w"), indent=1)
    tensors = {}
    for name, value in model.state_dict().items():
        is_packed = name.endswith((".qweight", ".qzeros"))
        tensors[name] = value.contiguous() if is_packed else value.to(torch.float16).contiguous()
    if "lm_head.weight" not in tensors:
        raise SystemExit("lm_head.weight missing from the state dict")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for name in os.listdir(model_dir):
        if name.endswith(".json") and name not in ("config.json", "model.safetensors.index.json") and "perplexity" not in name:
            shutil.copy(os.path.join(model_dir, name), out)
    config = json.load(open(os.path.join(model_dir, "config.json")))
    config["dtype"] = "float16"
    config["quantization_config"] = {"quant_method": "awq", "zero_point": True, "group_size": GROUP_SIZE, "bits": 4,
                                     "version": "gemm", "modules_to_not_convert": None}
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    record = {"seconds": seconds, "what": "AutoAWQ init_quant + quantize", "windows": len(windows),
              "torch_threads": torch.get_num_threads()}
    with open(timing, "w") as handle:
        json.dump(record, handle)
    print(json.dumps(record), flush=True)


def compressed_tensors_decompress(directory):
    """{module: f32 [out, in]} by compressed-tensors' own PackedQuantizationCompressor.decompress (packed
    zero points unpacked by it), with the scales upcast to f32 so (q - z) * s is exact."""
    import torch
    from compressed_tensors.compressors import BaseCompressor
    from compressed_tensors.quantization import QuantizationConfig

    config = QuantizationConfig.model_validate(json.load(open(os.path.join(directory, "config.json")))["quantization_config"])
    if config.format != "pack-quantized":
        raise SystemExit(f"expected a pack-quantized checkpoint, found format {config.format}")
    (scheme,) = config.config_groups.values()
    compressor = BaseCompressor.get_value_from_registry(config.format)
    tensors = load(directory)
    weights = {}
    for name in tensors:
        if not name.endswith(".weight_packed"):
            continue
        module = name[: -len(".weight_packed")]
        state = {k: tensors[module + "." + k] for k in ("weight_packed", "weight_scale", "weight_zero_point", "weight_shape")
                 if module + "." + k in tensors}
        state["weight_scale"] = state["weight_scale"].float()
        weights[module] = compressor.decompress(state, scheme)["weight"].float()
    return weights


def plain_checkpoint(source, weights, out, base):
    """A plain f32 checkpoint: every quantized Linear's weight from `weights` ({"X.weight" or "X": [out, in]}),
    every other tensor from `source` (the quantized directory: its norms / biases carry AWQ's scaling), the
    configuration and tokenizer files from `source` (from `base` where `source` lacks one). The tensor names
    and shapes must be the base model's."""
    import torch
    from safetensors.torch import save_file

    aux = AWQ_TENSORS + CT_TENSORS
    tensors = {k: v.float().contiguous() for k, v in load(source).items() if not k.endswith(aux)}
    for name, value in weights.items():
        key = name if name.endswith(".weight") else name + ".weight"
        tensors[key] = value.to(torch.float32).contiguous()
    reference = load(base)
    problems = sorted(set(reference) ^ set(tensors))
    problems += [k for k in reference if k in tensors and tuple(reference[k].shape) != tuple(tensors[k].shape)]
    if problems:
        raise SystemExit(f"{out}: tensors differ from the base model's in name or shape: {problems[:8]}")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for directory in (base, source):  # source's files win
        for name in os.listdir(directory):
            if name.endswith(".json") and name != "model.safetensors.index.json" and "quant" not in name:
                shutil.copy(os.path.join(directory, name), out)
    config = json.load(open(os.path.join(out, "config.json")))
    config.pop("quantization_config", None)
    for key in ("torch_dtype", "dtype"):
        if key in config:
            config[key] = "float32"
    json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
    save_file(tensors, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    return out


def check_reader(args, directory, work):
    """AutoAWQ's dequantize_gemm (and GPTQModel's AWQ kernel when importable) against our reader's weights
    (`quantgate inspect --dump-dequantized`): equal bit for bit in f32. Returns (ok, AutoAWQ's weights)."""
    import numpy as np
    import torch
    dump = os.path.join(work, os.path.basename(directory) + "-dump")
    if os.path.exists(dump):
        shutil.rmtree(dump)
    sh([args.quantgate, "inspect", directory, "--dump-dequantized", dump], stdout=subprocess.DEVNULL)
    readers = {"AutoAWQ dequantize_gemm": reference_dequantize(directory, "autoawq")}
    try:
        readers["GPTQModel AwqTorchLinear"] = reference_dequantize(directory, "gptqmodel")
    except ImportError as error:
        print(f"    GPTQModel's AWQ kernel unavailable ({error}); AutoAWQ's reader only")
    ok = True
    for label, weights in readers.items():
        mismatched = 0
        for key, theirs in sorted(weights.items()):
            path = os.path.join(dump, key + ".f32")
            if not os.path.exists(path):
                print(f"    {key}: not in our dump {dump}")
                mismatched += 1
                continue
            mine = torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(tuple(theirs.shape)))
            if not torch.equal(mine, theirs.float()):
                mismatched += 1
                print(f"    {key}: our reader differs from {label} (max |diff| {(mine - theirs).abs().max().item():.3g})")
        print(f"{label} on {os.path.basename(directory)}: {len(weights) - mismatched}/{len(weights)} Linears equal to "
              f"our reader bit for bit")
        ok = ok and mismatched == 0 and len(weights) > 0
    return ok, readers["AutoAWQ dequantize_gemm"]


def transformers_direct(directory, text, ctx):
    """Perplexity of the AWQ directory loaded by transformers itself (GPTQModel kernels), or None."""
    os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")
    os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")
    try:
        return transformers_perplexity(directory, text, ctx)
    except Exception as error:  # noqa: BLE001 - report and go on with the plain checkpoint
        print(f"    transformers cannot load {os.path.basename(directory)} directly: {type(error).__name__}: {error}")
        return None


def compare_ratios(ours_report, autoawq_report):
    """Per scaling group: our α (quantization_report.json) against AutoAWQ's (run_autoawq's record)."""
    if not (os.path.exists(ours_report) and os.path.exists(autoawq_report)):
        print(f"    α comparison skipped: {ours_report if not os.path.exists(ours_report) else autoawq_report} missing")
        return
    theirs = {g["previous"]: g for g in json.load(open(autoawq_report))["groups"]}
    same = total = 0
    for group in json.load(open(ours_report)).get("groups", []):
        if "ratio" not in group:
            continue  # a group we skip (v_proj -> o_proj under GQA); AutoAWQ skips it too
        other = theirs.get(group["previous"])
        total += 1
        if other is None:
            print(f"    {group['previous']}: no AutoAWQ search")
            continue
        same += group["ratio"] == other["ratio"]
        print(f"    α {group['previous']:48s} ours {group['ratio']:.2f} (loss {group.get('loss', float('nan')):.4g}) "
              f"AutoAWQ {other['ratio']:.2f} (loss {other['loss']:.4g})")
    print(f"α equal to AutoAWQ's in {same}/{total} scaling groups (AutoAWQ: {len(theirs)} searches)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(parser)
    parser.add_argument("--margin", type=float, default=0.5,
                        help="percentage points our perplexity delta may exceed llm-compressor's (default 0.5)")
    parser.add_argument("--autoawq-reference", action="store_true",
                        help="also run AutoAWQ's own AwqQuantizer (scaling + clipping) by hand on CPU and evaluate it")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse llm-compressor's / AutoAWQ's checkpoints and timings left in --work by an earlier run")
    parser.add_argument("--skip-ours", action="store_true",
                        help="only llm-compressor and the base model (windows from WORK/calibration.h5 or `quantgate calibrate`)")
    parser.add_argument("--run-llmcompressor", help=argparse.SUPPRESS)
    parser.add_argument("--windows", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--timing", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_llmcompressor == "autoawq":
        return run_autoawq(args.model, args.windows, args.out, args.timing)
    if args.run_llmcompressor:
        return run_llmcompressor(args.run_llmcompressor, args.model, args.windows, args.out, args.timing)

    work = args.work or tempfile.mkdtemp(prefix="quantgate-awq-")
    os.makedirs(work, exist_ok=True)
    calibration = os.path.join(work, "calibration.h5")
    mine = {}
    if not args.skip_ours:
        mine["AWQ"] = ours(args, work, "ours-awq", [])
        mine["RTN"] = ours(args, work, "ours-rtn", ["--rtn"])
    # The same windows, from the plain calibration cache (the Hessians are not needed here).
    windows_file = calibration_windows(args, calibration, hessian=False)
    theirs, their_oneshot, their_total = reference(args, work, "lc-awq", windows_file)
    autoawq = reference(args, work, "autoawq", windows_file, "autoawq") if args.autoawq_reference else None

    import torch
    ok = True
    expected = compressed_tensors_decompress(theirs)
    theirs_eval, theirs_load = theirs, dequantizing_config()
    if not check_transformers_load(theirs, expected):
        print("    evaluating a plain checkpoint of compressed-tensors' decompression (rounded to bf16) instead")
        theirs_eval, theirs_load = plain_checkpoint(theirs, {k: v.to(torch.bfloat16) for k, v in expected.items()},
                                                    theirs + "-f32", args.model), {}

    print(f"\nperplexity on {os.path.basename(args.text)}, non-overlapping windows of {args.ctx}, transformers f32 on CPU")
    base = transformers_perplexity(args.model, args.text, args.ctx)
    print(f"{'model':40s} {'perplexity':>10s} {'delta':>9s}")
    print(f"{'base':40s} {base:10.4f}")
    their_ppl = transformers_perplexity(theirs_eval, args.text, args.ctx, **theirs_load)
    their_delta = 100 * (their_ppl / base - 1)
    print(f"{'llm-compressor AWQ (W4A16_ASYM g128)':40s} {their_ppl:10.4f} {their_delta:+8.3f}%")
    if autoawq is not None:
        weights = reference_dequantize(autoawq[0], "autoawq")
        plain = plain_checkpoint(autoawq[0], weights, autoawq[0] + "-f32", args.model)
        ppl = transformers_perplexity(plain, args.text, args.ctx)
        print(f"{'AutoAWQ 0.2.9 AwqQuantizer (by hand)':40s} {ppl:10.4f} {100 * (ppl / base - 1):+8.3f}%")
    if autoawq is not None and "AWQ" in mine:
        compare_ratios(os.path.join(mine["AWQ"][0], "quantization_report.json"), autoawq[0] + ".report.json")
    deltas = {}
    for label, (directory, _) in mine.items():
        reader_ok, weights = check_reader(args, directory, work)
        ok = reader_ok and ok
        plain = plain_checkpoint(directory, weights, os.path.join(work, os.path.basename(directory) + "-f32"), args.model)
        ppl = transformers_perplexity(plain, args.text, args.ctx)
        deltas[label] = 100 * (ppl / base - 1)
        print(f"{'QuantGate ' + label + ' (AutoAWQ dequantizer)':40s} {ppl:10.4f} {deltas[label]:+8.3f}%")
        direct = transformers_direct(directory, args.text, args.ctx)
        if direct is not None:
            print(f"{'QuantGate ' + label + ' via transformers':40s} {direct:10.4f} {100 * (direct / base - 1):+8.3f}%"
                  f"   (GPTQModel kernel: fp16-rounded weights)")
    if mine:
        # Our own evaluator on the base model and on our AWQ checkpoint, against transformers.
        for label, directory, reference_ppl in (("base", args.model, base),
                                                ("AWQ", mine["AWQ"][0], base * (1 + deltas["AWQ"] / 100))):
            qg = quantgate_perplexity(args, directory)
            agree = abs(qg / reference_ppl - 1)
            print(f"quantgate eval {label}: {qg:.4f} vs transformers {reference_ppl:.4f} ({100 * agree:.3f} % apart)")
            if agree > 0.005:
                print(f"    FAIL: quantgate eval and transformers disagree by more than 0.5 % on {label}")
                ok = False

    print(f"\nwall time: llm-compressor oneshot {their_oneshot:.2f} s, its child process end to end {their_total:.2f} s")
    if autoawq is not None:
        print(f"wall time: AutoAWQ init_quant + quantize {autoawq[1]:.2f} s, its child process end to end {autoawq[2]:.2f} s")
    if mine:
        our_seconds = mine["AWQ"][1]
        print(f"wall time: QuantGate AWQ (quantize, calibration included) {our_seconds:.2f} s, RTN {mine['RTN'][1]:.2f} s; "
              f"ours / llm-compressor oneshot = {our_seconds / their_oneshot:.3f}; "
              f"ours / llm-compressor end to end = {our_seconds / their_total:.3f}")
        print(f"AWQ vs RTN: delta {deltas['AWQ']:+.3f} % vs {deltas['RTN']:+.3f} % "
              f"({'AWQ better' if deltas['AWQ'] < deltas['RTN'] else 'AWQ NOT better'})")
        if deltas["AWQ"] > their_delta + args.margin:
            print(f"    FAIL: our delta {deltas['AWQ']:+.3f} % exceeds llm-compressor's {their_delta:+.3f} % + {args.margin}")
            ok = False
    else:
        print("QuantGate skipped (--skip-ours)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
