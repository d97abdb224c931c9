#!/usr/bin/env python3
"""Reference dequantization of a GPTQ checkpoint ("gptq" v1 or "gptq_v2"), by the reference software's own CPU code.

`reference_dequantize(checkpoint_dir, via=...)` returns {module name: torch.float32 tensor [out, in]} for every
GPTQ Linear (every `X.qweight` with `X.qzeros`, `X.scales`, `X.g_idx`) in the *.safetensors files of the
directory. bits / group_size / sym / desc_act / checkpoint_format come from config.json `quantization_config`
(or quantize_config.json). Nothing here re-implements GPTQ unpacking; each path calls the reference's code:

  via="gptqmodel"       GPTQModel's torch kernel, the one its loader picks on CPU (BACKEND.GPTQ_TORCH):
                        `gptqmodel.nn_modules.qlinear.torch.TorchLinear` built with the layer's shapes, the four
                        tensors loaded with `load_state_dict`, GPTQModel's own v1->v2 zero conversion
                        (`gptqmodel.utils.model.convert_gptq_v1_to_v2_format_module`, a packed-word add of
                        0x11111111 / 0x01010101 / 0x55555555) when the checkpoint is v1, `post_init()`, and then
                        the module's forward on an identity matrix (checked against its `dequantize_weight()`).
                        The scales buffer is upcast to float32 before the forward so the product
                        scale * (q - z) is exact; with dtype=torch.float16 the kernel runs natively in fp16
                        (the result is then the f32 value rounded to fp16).
  via="gptqmodel-file"  GPTQModel's offline safetensors dequantizer
                        `gptqmodel.utils.model_dequant.convert_gptq_file` (the `gptqmodel` dequantize tool);
                        it undoes the v1 offset per field ((z + 1) & maxq), not per word.
  via="llamacpp"        llama.cpp's `dequant_gptq` (conversion/base.py `ModelBase.dequant_model`, the code used
                        by convert_hf_to_gguf.py), run on a stand-in model object that holds just the tensors and
                        the quantization_config. It adds 1 to v1 zeros without masking.

For a v1 checkpoint whose true zero points include 0 (possible only with sym=False) the three readers disagree:
GPTQModel writes v1 by subtracting 0x11111111 from the whole packed word, so a zero of 0 borrows from the next
field. Its torch kernel adds the word back and recovers every zero; the per-field readers do not (see
Tools/make_golden_gptq.py and the fixture's metadata).

Setup (CPU only; torch, transformers and safetensors come from the system site-packages, unchanged):
  python3 -m venv --system-site-packages /tmp/gptqenv
  /tmp/gptqenv/bin/pip install --no-deps gptqmodel==7.7.0 pypcre logbar device-smi threadpoolctl accelerate \\
      tokenicer defuser pillow
  # for --via llamacpp: llama.cpp's sources, e.g. the vendor/ tree of the llama-cpp-python sdist
  /tmp/gptqenv/bin/pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d /tmp/lcp
  tar xzf /tmp/lcp/llama_cpp_python-0.3.36.tar.gz -C /tmp/lcp
  export LLAMA_CPP_DIR=/tmp/lcp/llama_cpp_python-0.3.36/vendor/llama.cpp

Usage:
  /tmp/gptqenv/bin/python Tools/gptq_reference.py CHECKPOINT_DIR [--via gptqmodel|gptqmodel-file|llamacpp|all]
      [--llama-cpp DIR] [--out OUT.safetensors] [--compile]
With --via all every path runs and the per-module agreement (max |diff|, count of differing elements) is printed.
--out writes the --via (first path for all) result as `X.weight` f32 tensors.

torch.compile: TorchLinear.post_init() wraps dequantize_weight in torch.compile (inductor), which costs ~40 s per
shape on 2 cores. Unless --compile (or compile=True) is given, TORCHDYNAMO_DISABLE=1 is set before GPTQModel is
imported, so the same Python code runs eagerly. The compiled and eager results were checked to be identical.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import pathlib
import sys
import types

VIAS = ("gptqmodel", "gptqmodel-file", "llamacpp")
_SUFFIXES = ("qweight", "qzeros", "scales", "g_idx")


def _quiet_env(compile: bool) -> None:
    os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")  # the pure-Python packer; no JIT C++ build
    if not compile:
        os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")


def read_quant_config(checkpoint_dir) -> dict:
    """The `quantization_config` dict of config.json, or quantize_config.json's contents."""
    d = pathlib.Path(checkpoint_dir)
    if (d / "config.json").exists():
        qc = json.loads((d / "config.json").read_text()).get("quantization_config")
        if qc:
            return qc
    if (d / "quantize_config.json").exists():
        return json.loads((d / "quantize_config.json").read_text())
    raise FileNotFoundError(f"{d}: no quantization_config in config.json and no quantize_config.json")


def quant_params(qc: dict) -> dict:
    """Normalised GPTQ parameters; checkpoint_format falls back to `format`, then to "gptq" (v1)."""
    fmt = str(qc.get("checkpoint_format") or qc.get("format") or "gptq").strip().lower()
    if qc.get("sym") is None:
        print("warning: quantization_config has no `sym`; assuming True (AutoGPTQ's default)", file=sys.stderr)
    return {
        "bits": int(qc.get("bits", qc.get("w_bit", 4))),
        "group_size": int(qc.get("group_size", qc.get("q_group_size", 128))),
        "sym": bool(qc.get("sym", True)),
        "desc_act": bool(qc.get("desc_act", False)),
        "checkpoint_format": fmt,
    }


def load_tensors(checkpoint_dir) -> dict:
    from safetensors.torch import load_file

    files = sorted(glob.glob(os.path.join(str(checkpoint_dir), "*.safetensors")))
    if not files:
        raise FileNotFoundError(f"{checkpoint_dir}: no *.safetensors")
    tensors = {}
    for f in files:
        tensors.update(load_file(f))
    return tensors


def gptq_modules(tensors: dict) -> list[str]:
    names = sorted(k[: -len(".qweight")] for k in tensors if k.endswith(".qweight"))
    for n in names:
        missing = [s for s in _SUFFIXES if f"{n}.{s}" not in tensors]
        if missing:
            raise KeyError(f"GPTQ module {n} lacks {missing}")
    return names


# --------------------------------------------------------------------------------------------------------------
# GPTQModel: TorchLinear kernel


def _via_gptqmodel(tensors, names, p, dtype):
    import torch
    from gptqmodel.nn_modules.qlinear.torch import TorchLinear
    from gptqmodel.utils.model import convert_gptq_v1_to_v2_format_module

    out = {}
    for n in names:
        qweight = tensors[f"{n}.qweight"]
        in_f = tensors[f"{n}.g_idx"].shape[0]
        out_f = qweight.shape[1]
        has_bias = f"{n}.bias" in tensors
        mod = TorchLinear(
            bits=p["bits"], group_size=p["group_size"], sym=p["sym"], desc_act=p["desc_act"],
            in_features=in_f, out_features=out_f, bias=has_bias, pack_dtype=torch.int32,
        )
        sd = {s: tensors[f"{n}.{s}"].clone() for s in _SUFFIXES}
        if has_bias:
            sd["bias"] = tensors[f"{n}.bias"].to(torch.float16).clone()
        mod.load_state_dict(sd, strict=True)
        if p["checkpoint_format"] == "gptq":
            convert_gptq_v1_to_v2_format_module(mod, bits=p["bits"], pack_dtype=torch.int32)
        elif p["checkpoint_format"] == "gptq_v2":
            mod.qzero_format(format=2)
        else:
            raise ValueError(f"{n}: checkpoint_format {p['checkpoint_format']!r} is not gptq / gptq_v2")
        mod.post_init()
        mod.eval()
        mod.bias = None  # the weight alone: forward(I) = W^T
        if dtype == torch.float32:
            mod.scales = mod.scales.to(torch.float32)
            mod.clear_weight_cache()
        with torch.inference_mode():
            w_t = mod(torch.eye(in_f, dtype=dtype))  # [in, out]
            direct = mod.dequantize_weight()
        if not torch.equal(w_t, direct.to(dtype)):
            raise AssertionError(f"{n}: TorchLinear forward(I) != dequantize_weight()")
        out[n] = w_t.T.contiguous().to(torch.float32)
    return out


# --------------------------------------------------------------------------------------------------------------
# GPTQModel: offline safetensors dequantizer


def _via_gptqmodel_file(checkpoint_dir, names, qc):
    import torch
    from gptqmodel.utils.model_dequant import convert_gptq_file

    out = {}
    for f in sorted(glob.glob(os.path.join(str(checkpoint_dir), "*.safetensors"))):
        res = convert_gptq_file(pathlib.Path(f), torch.float32, qc, "cpu")
        for n in names:
            if f"{n}.weight" in res:
                out[n] = res[f"{n}.weight"].to(torch.float32).contiguous()
    return out


# --------------------------------------------------------------------------------------------------------------
# llama.cpp: convert_hf_to_gguf.py's dequant_gptq


def find_llama_cpp(llama_cpp_dir=None) -> pathlib.Path:
    cands = [llama_cpp_dir, os.environ.get("LLAMA_CPP_DIR")]
    cands += sorted(glob.glob("/tmp/lcp/llama_cpp_python-*/vendor/llama.cpp"))
    for c in cands:
        if c and (pathlib.Path(c) / "conversion" / "base.py").exists():
            return pathlib.Path(c)
    raise FileNotFoundError("llama.cpp sources (with conversion/base.py) not found: pass --llama-cpp or set "
                            "LLAMA_CPP_DIR (see the module docstring)")


def llama_cpp_commit(root: pathlib.Path) -> str:
    """The commit of a llama.cpp tree (the llama-cpp-python sdist keeps vendor/llama.cpp/.git), else "unknown"."""
    import subprocess

    try:
        r = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    except OSError:
        return "unknown"
    return r.stdout.strip() if r.returncode == 0 else "unknown"


def _via_llamacpp(tensors, names, qc, llama_cpp_dir):
    root = find_llama_cpp(llama_cpp_dir)
    for pth in (str(root), str(root / "gguf-py")):
        if pth not in sys.path:
            sys.path.insert(0, pth)
    from conversion.base import ModelBase  # noqa: E402  (llama.cpp's own module)

    model_tensors = {}
    for n in names:
        for s in _SUFFIXES:
            t = tensors[f"{n}.{s}"]
            model_tensors[f"{n}.{s}"] = (lambda t=t: t.clone())
    stub = types.SimpleNamespace(
        _is_nvfp4=False, hparams={"quantization_config": qc}, model_tensors=model_tensors,
        lazy=False, _fp8_as_q8=False, _fp8_dequantized=set(),
    )
    ModelBase.dequant_model(stub)  # replaces X.qweight/... by a lazy X.weight = dequant_gptq(...)
    import torch

    return {n: stub.model_tensors[f"{n}.weight"]().to(torch.float32).contiguous() for n in names}


# --------------------------------------------------------------------------------------------------------------


def reference_dequantize(checkpoint_dir, via: str = "gptqmodel", *, dtype=None, llama_cpp_dir=None,
                         compile: bool = False) -> dict:
    """{module name: f32 [out, in]} for every GPTQ Linear of `checkpoint_dir`, by the reference path `via`."""
    _quiet_env(compile)
    import torch

    dtype = torch.float32 if dtype is None else dtype
    qc = read_quant_config(checkpoint_dir)
    p = quant_params(qc)
    if str(qc.get("quant_method", "gptq")).lower() != "gptq":
        raise ValueError(f"quant_method {qc.get('quant_method')!r} is not gptq")
    tensors = load_tensors(checkpoint_dir)
    names = gptq_modules(tensors)
    if via == "gptqmodel":
        return _via_gptqmodel(tensors, names, p, dtype)
    if via == "gptqmodel-file":
        return _via_gptqmodel_file(checkpoint_dir, names, qc)
    if via == "llamacpp":
        return _via_llamacpp(tensors, names, qc, llama_cpp_dir)
    raise ValueError(f"via must be one of {VIAS}")


def reference_versions(llama_cpp_dir=None) -> dict:
    import importlib.metadata as md

    v = {}
    for pkg in ("gptqmodel", "torch", "transformers", "safetensors"):
        try:
            v[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            v[pkg] = None
    try:
        root = find_llama_cpp(llama_cpp_dir)
        v["llama.cpp"] = llama_cpp_commit(root)
        v["llama.cpp_dir"] = str(root)
    except FileNotFoundError:
        v["llama.cpp"] = None
    return v


def compare(a: dict, b: dict) -> dict:
    """{name: (max |a-b|, number of differing elements)} over the modules both hold."""
    res = {}
    for n in sorted(set(a) & set(b)):
        d = (a[n] - b[n]).abs()
        res[n] = (float(d.max()), int((d != 0).sum()))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint_dir")
    ap.add_argument("--via", default="gptqmodel", choices=VIAS + ("all",))
    ap.add_argument("--llama-cpp", default=None, help="llama.cpp source tree (has conversion/base.py)")
    ap.add_argument("--out", default=None, help="write the result as X.weight f32 tensors to this safetensors file")
    ap.add_argument("--compile", action="store_true", help="keep GPTQModel's torch.compile of dequantize_weight")
    args = ap.parse_args(argv)

    vias = VIAS if args.via == "all" else (args.via,)
    results = {}
    for v in vias:
        try:
            results[v] = reference_dequantize(args.checkpoint_dir, v, llama_cpp_dir=args.llama_cpp,
                                              compile=args.compile)
        except (ImportError, FileNotFoundError) as e:
            if args.via != "all":
                raise
            print(f"[{v}] unavailable: {e}")
    print(json.dumps({"versions": reference_versions(args.llama_cpp),
                      "params": quant_params(read_quant_config(args.checkpoint_dir))}))
    first = next(iter(results))
    for n, w in results[first].items():
        line = f"{n}: [{w.shape[0]}, {w.shape[1]}] via {first}"
        for v in list(results)[1:]:
            mx, cnt = compare(results[first], results[v])[n]
            line += f" | vs {v}: max|diff| {mx:.6g}, {cnt} differ"
        print(line)
    if args.out:
        from safetensors.torch import save_file

        save_file({f"{n}.weight": w for n, w in results[first].items()}, args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
