#!/usr/bin/env python3
"""AutoAWQ's own CPU code, importable without `import awq`; reference dequantization of AWQ "gemm" checkpoints.

AutoAWQ (casper-hansen/AutoAWQ, deprecated; last release 0.2.9) cannot be imported on a CPU-only machine with
torch 2.15 / transformers 5.24: `import awq` imports every model class, the CUDA extensions and `datasets`.
`load_autoawq()` therefore registers empty stand-in packages `awq`, `awq.utils`, `awq.modules`,
`awq.modules.linear` and `awq.quantize` whose __path__ points into the unpacked sdist, so that the real
submodules import from their files without running the package __init__ files, and then imports (unchanged):

  awq/utils/packing_utils.py   unpack_awq, reverse_awq_order, dequantize_gemm (pure torch)
  awq/utils/module.py, awq/utils/utils.py   (get_best_device is replaced by a function returning "cpu" before
                               the modules below bind it, so a machine with a GPU gives the same numbers)
  awq/modules/linear/gemm.py   WQLinear_GEMM.from_linear, the packer (`awq.modules.triton` and `awq_ext` are
                               made unimportable while it loads: the naive torch path, no kernels)
  awq/quantize/scale.py        apply_scale / apply_clip (imports transformers' Llama/Gemma/Bloom/Cohere classes)
  awq/quantize/quantizer.py    AwqQuantizer (with `awq.utils.calib_data` replaced by a stub when `datasets` is
                               missing; nothing here loads calibration data through AutoAWQ)
No AutoAWQ code is copied into this repository: everything is loaded from the sdist at run time.
`make_quantizer(...)` builds an AwqQuantizer with `object.__new__` (its __init__ would load a model and the pile
calibration set) and sets only the attributes its methods read: w_bit, group_size, zero_point, version,
duo_scaling, max_chunk_memory, n_parallel_calib_samples, apply_clip, export_compatible, modules_to_not_convert.

`reference_dequantize(checkpoint_dir, via=...)` returns {"PREFIX.weight": torch.float32 [out, in]} for every AWQ
Linear (PREFIX.qweight int32 [in, out/8], PREFIX.qzeros int32 [in/g, out/8], PREFIX.scales f16 [in/g, out]) of
the directory's *.safetensors (sharded or not); config.json `quantization_config` must say quant_method awq,
bits 4, zero_point true, version/format gemm. The readers:

  via="autoawq"        AutoAWQ's `dequantize_gemm(qweight, qzeros, scales.float(), 4, g).T` (f32 scales, so
                       (q - z) * s is exact in f32; the kernel would compute it in fp16).
  via="gptqmodel"      GPTQModel 7.7.0's AWQ torch kernel `gptqmodel.nn_modules.qlinear.torch_awq.AwqTorchLinear`
                       (what its loader, and so transformers 5.24, picks on CPU): the buffers are loaded with
                       `load_state_dict`, `post_init()` runs, and the weight is GPTQModel's own copy of
                       `dequantize_gemm` (gptqmodel/quantization/awq/utils/packing_utils.py, an independent
                       unpacker: `& 15` masks, `count` argument) on the module's buffers with f32 scales. The
                       module's forward on an fp16 identity (its compute dtype) is checked to equal that
                       result rounded to fp16.
  via="gptqmodel-file" GPTQModel's offline dequantizer `gptqmodel.utils.model_dequant.convert_awq_file` (the
                       `gptqmodel` dequantize tool). In 7.7.0 it unpacks qweight and qzeros with `unpack_cols`
                       (nibble i -> column 8c+i) and does NOT undo the AWQ interleave [0,2,4,6,1,3,5,7]: output
                       row 8c+i gets the codes and zero of row 8c+ORDER[i] but its own scale (checked exactly
                       on bard-5m), so it disagrees with the other two readers (kept to show it).

`transformers_load(checkpoint_dir)` loads an AWQ checkpoint with transformers 5.24 on CPU (AwqConfig goes
through GPTQModel, which must be importable, plus accelerate): AutoModelForCausalLM.from_pretrained(dir,
dtype=float32, device_map="cpu"). This works: GPTQModel 7.7.0's auto-selection picks `TorchAtenAwqLinear`
(gptqmodel/nn_modules/qlinear/torch_aten_kernel_awq.py) for every quantized Linear. With float32 activations it
runs its "train" path: GPTQModel's `dequantize_gemm` with the fp16 scales (so (q - z) * s is rounded to fp16)
cast to float32, then a float32 matmul; each Linear's weight is AutoAWQ's f32 dequantization rounded to fp16,
exactly (checked on bard-5m). With dtype=float16 it switches to torch's fused
`_weight_int4pack_mm_for_cpu` (q * s + precomputed offset, in fp16), which differs from that by up to 2 fp16 ulp.

Setup (CPU only):
  mkdir -p /tmp/autoawq && cd /tmp/autoawq && pip download autoawq==0.2.9 --no-deps -d . \\
      && tar xzf autoawq-0.2.9.tar.gz          # the sdist; nothing is installed
  (or set AUTOAWQ_DIR / pass --autoawq to a directory holding awq/utils/packing_utils.py)
  GPTQModel for --via gptqmodel / gptqmodel-file and transformers_load: the /tmp/gptqenv or /tmp/ctenv venv of
  Tools/gptq_reference.py (gptqmodel 7.7.0, accelerate).

Usage (from the repository root):
  python3 Tools/awq_reference.py CHECKPOINT_DIR                       # AutoAWQ's reader only (torch)
  /tmp/ctenv/bin/python Tools/awq_reference.py CHECKPOINT_DIR --via all [--transformers] [--out OUT.safetensors]
Prints each quantized Linear's shapes and checks it dequantizes (finite, shapes as the format says); with
--via all every reader runs and the per-module agreement (max |diff|, count of differing elements) is printed;
--transformers also loads the directory with transformers (float32) and compares each quantized Linear's
forward on an identity with AutoAWQ's result rounded to fp16 (expected: 0 differ).
"""
from __future__ import annotations

import argparse
import glob
import importlib
import json
import os
import pathlib
import re
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gptq_reference import compare  # noqa: E402  (stdlib-only module: {name: (max |a-b|, differing)})

VIAS = ("autoawq", "gptqmodel", "gptqmodel-file")
_SUFFIXES = ("qweight", "qzeros", "scales")
_STUB_PACKAGES = ("awq", "awq.utils", "awq.modules", "awq.modules.linear", "awq.quantize")
_LOADED = {}


# --------------------------------------------------------------------------------------------------------------
# Loading AutoAWQ from its sdist


def find_autoawq(autoawq_dir=None) -> pathlib.Path:
    """The directory that holds AutoAWQ's `awq/` package (argument, $AUTOAWQ_DIR, /tmp/autoawq/autoawq-*)."""
    cands = [autoawq_dir, os.environ.get("AUTOAWQ_DIR")]
    cands += sorted(glob.glob("/tmp/autoawq/autoawq-*"), reverse=True)
    for c in cands:
        if c and (pathlib.Path(c) / "awq" / "utils" / "packing_utils.py").exists():
            return pathlib.Path(c).resolve()
    raise FileNotFoundError("AutoAWQ's sources (awq/utils/packing_utils.py) not found: pass --autoawq or set "
                            "AUTOAWQ_DIR (see the module docstring)")


def autoawq_version(root: pathlib.Path) -> str:
    m = re.search(r'__version__\s*=\s*"([^"]+)"', (root / "awq" / "__init__.py").read_text())
    return m.group(1) if m else "unknown"


class _Blocked:
    """Temporarily make modules unimportable (sys.modules[name] = None) or replace them, then restore."""

    def __init__(self, replacements: dict):
        self.replacements = replacements
        self.saved = {}

    def __enter__(self):
        for name, value in self.replacements.items():
            self.saved[name] = sys.modules.get(name, _Blocked)
            sys.modules[name] = value

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is _Blocked:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = value


def _cpu_device():
    return "cpu"


def load_autoawq(autoawq_dir=None, quantizer: bool = True) -> types.SimpleNamespace:
    """AutoAWQ's packing_utils and gemm modules (torch only) and, with quantizer=True, scale and quantizer
    (these import transformers). Returns a namespace: packing_utils, gemm, WQLinear_GEMM, [scale, quantizer,
    AwqQuantizer], version, root."""
    root = find_autoawq(autoawq_dir)
    key = str(root)
    ns = _LOADED.get(key)
    if ns is None:
        existing = sys.modules.get("awq")
        if existing is not None and getattr(existing, "__quantgate_stub__", None) != key:
            raise RuntimeError(f"a different `awq` package is already imported ({getattr(existing, '__file__', '?')})")
        for name in _STUB_PACKAGES:
            if name not in sys.modules:
                pkg = types.ModuleType(name)
                pkg.__path__ = [str(root.joinpath(*name.split(".")))]
                pkg.__package__ = name
                pkg.__quantgate_stub__ = key
                sys.modules[name] = pkg
                parent, _, child = name.rpartition(".")
                if parent:
                    setattr(sys.modules[parent], child, pkg)
        sys.modules["awq"].__version__ = autoawq_version(root)
        packing_utils = importlib.import_module("awq.utils.packing_utils")
        importlib.import_module("awq.utils.module")
        # awq/utils/utils.py imports accelerate only for simple_dispatch_model (unused here).
        try:
            import accelerate  # noqa: F401
            blocked = {}
        except ImportError:
            blocked = {"accelerate": types.ModuleType("accelerate")}
        with _Blocked(blocked):
            utils = importlib.import_module("awq.utils.utils")
        utils.get_best_device = _cpu_device  # before gemm / quantizer / scale bind the name
        with _Blocked({"awq_ext": None, "awq.modules.triton": None, "awq.modules.triton.gemm": None}):
            gemm = importlib.import_module("awq.modules.linear.gemm")
        linear_pkg = sys.modules["awq.modules.linear"]
        linear_pkg.WQLinear_GEMM = gemm.WQLinear_GEMM
        ns = types.SimpleNamespace(packing_utils=packing_utils, gemm=gemm, WQLinear_GEMM=gemm.WQLinear_GEMM,
                                   utils=utils, version=autoawq_version(root), root=root)
        _LOADED[key] = ns
    if quantizer and not hasattr(ns, "quantizer"):
        linear_pkg = sys.modules["awq.modules.linear"]
        with _Blocked({"awq_ext": None, "awq_v2_ext": None, "marlin_cuda": None}):
            for sub, cls in (("gemv", "WQLinear_GEMV"), ("marlin", "WQLinear_Marlin"), ("gemv_fast", "WQLinear_GEMVFast")):
                try:
                    setattr(linear_pkg, cls, getattr(importlib.import_module(f"awq.modules.linear.{sub}"), cls))
                except Exception:  # noqa: BLE001 - only "gemm" is used; the names must merely exist
                    setattr(linear_pkg, cls, None)
        try:
            importlib.import_module("datasets")
            calib = {}
        except ImportError:
            stub = types.ModuleType("awq.utils.calib_data")

            def get_calib_dataset(*a, **k):
                raise RuntimeError("AutoAWQ's calibration loader needs `datasets`; not used by QuantGate's tools")

            stub.get_calib_dataset = get_calib_dataset
            calib = {"awq.utils.calib_data": stub}
        if calib:
            sys.modules.update(calib)
        ns.scale = importlib.import_module("awq.quantize.scale")
        ns.quantizer = importlib.import_module("awq.quantize.quantizer")
        ns.AwqQuantizer = ns.quantizer.AwqQuantizer
    return ns


def make_quantizer(w_bit=4, group_size=128, zero_point=True, duo_scaling=True, version="gemm",
                   max_chunk_memory=1024 * 1024 * 1024, n_parallel_calib_samples=None, autoawq_dir=None):
    """An AutoAWQ AwqQuantizer without a model: only the attributes its methods read (defaults as
    AutoAWQForCausalLM.quantize passes them: w_bit 4, q_group_size 128, zero_point True, version "gemm",
    duo_scaling True, max_chunk_memory 1 GiB, n_parallel_calib_samples None)."""
    awq = load_autoawq(autoawq_dir, quantizer=True)
    q = object.__new__(awq.AwqQuantizer)
    q.awq_model = q.model = q.tokenizer = None
    q.w_bit, q.group_size, q.zero_point, q.version = w_bit, group_size, zero_point, version
    q.duo_scaling = duo_scaling
    q.max_chunk_memory = max_chunk_memory
    q.n_parallel_calib_samples = n_parallel_calib_samples
    q.apply_clip = True
    q.export_compatible = False
    q.modules_to_not_convert = []
    return q


def copy_state_on_cpu(q) -> None:
    """Make AwqQuantizer `q`'s α search correct on CPU, as it is on a GPU.

    `_compute_best_scale` saves `org_sd = {k: v.cpu() for k, v in module2inspect.state_dict().items()}` and
    restores it after every candidate. On a GPU `.cpu()` copies; on CPU it returns the tensors themselves, which
    share storage with the parameters, and the candidate's `fc.weight.mul_(scales_view)` scales that storage in
    place: every "restore" then writes W * s(ratio 0) back, candidates 1..19 are evaluated on Q(W s_0 s_k)/s_k
    against the output of the unscaled W, and the Linears are left holding W * s_0 (Tools/make_golden_awq.py
    records the effect). This wraps `_compute_best_scale` on the instance so that, during the call,
    module2inspect.state_dict returns clones; AutoAWQ's own code runs otherwise unchanged."""
    cls = type(q)

    def compute_best_scale(x, w_mean, x_mean, module2inspect, linears2scale, fp16_output, kwargs={}):
        own = module2inspect.state_dict
        module2inspect.state_dict = lambda *a, **k: {n: t.clone() for n, t in own(*a, **k).items()}
        try:
            return cls._compute_best_scale(q, x, w_mean, x_mean, module2inspect, linears2scale, fp16_output, kwargs)
        finally:
            del module2inspect.state_dict

    q._compute_best_scale = compute_best_scale


def load_autoawq_llama(autoawq_dir=None):
    """AutoAWQ's `LlamaAWQForCausalLM` (awq/models/llama.py: get_model_layers, move_embed,
    get_layers_for_scaling) without awq/models/base.py: `awq.models.base`, `awq.utils.fused_utils` and
    `awq.modules.fused.*` (fused inference modules, imported by llama.py but not used to quantize) are stand-ins,
    so BaseAWQForCausalLM is a plain class and the result is used only for its static methods."""
    load_autoawq(autoawq_dir, quantizer=True)
    root = find_autoawq(autoawq_dir)
    if "awq.models.llama" in sys.modules:
        return sys.modules["awq.models.llama"].LlamaAWQForCausalLM
    for name, attrs in (("awq.models", None), ("awq.modules.fused", None),
                        ("awq.models.base", {"BaseAWQForCausalLM": type("BaseAWQForCausalLM", (), {})}),
                        ("awq.utils.fused_utils", {"fuse_qkv": None}),
                        ("awq.modules.fused.block", {"LlamaLikeBlock": None}),
                        ("awq.modules.fused.model", {"LlamaLikeModel": None}),
                        ("awq.modules.fused.norm", {"FasterTransformerRMSNorm": None})):
        if name in sys.modules:
            continue
        mod = types.ModuleType(name)
        if attrs is None:
            mod.__path__ = [str(root.joinpath(*name.split(".")))]
        else:
            mod.__dict__.update(attrs)
        mod.__quantgate_stub__ = str(root)
        sys.modules[name] = mod
    return importlib.import_module("awq.models.llama").LlamaAWQForCausalLM


# --------------------------------------------------------------------------------------------------------------
# Checkpoint reading


def read_quant_config(checkpoint_dir) -> dict:
    d = pathlib.Path(checkpoint_dir)
    qc = json.loads((d / "config.json").read_text()).get("quantization_config")
    if not qc and (d / "quant_config.json").exists():  # AutoAWQ < 0.2.0
        qc = json.loads((d / "quant_config.json").read_text())
    if not qc:
        raise FileNotFoundError(f"{d}: no quantization_config in config.json")
    return qc


def awq_params(qc: dict) -> dict:
    """bits, group_size, zero_point, version of an AWQ quantization_config; rejects what is not AutoAWQ gemm."""
    method = str(qc.get("quant_method", "awq")).lower()
    version = str(qc.get("version") or qc.get("format") or "gemm").lower()
    p = {"bits": int(qc.get("bits", qc.get("w_bit", 4))), "group_size": int(qc.get("group_size", qc.get("q_group_size", 128))),
         "zero_point": bool(qc.get("zero_point", True)), "version": version}
    if method != "awq" or version != "gemm" or p["bits"] != 4 or not p["zero_point"]:
        raise ValueError(f"not an AutoAWQ gemm 4-bit zero-point config: {qc}")
    return p


def safetensors_files(checkpoint_dir) -> list[str]:
    d = str(checkpoint_dir)
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
        return [os.path.join(d, f) for f in files]
    files = sorted(glob.glob(os.path.join(d, "*.safetensors")))
    if not files:
        raise FileNotFoundError(f"{d}: no *.safetensors")
    return files


def load_tensors(checkpoint_dir) -> dict:
    from safetensors.torch import load_file

    tensors = {}
    for f in safetensors_files(checkpoint_dir):
        tensors.update(load_file(f))
    return tensors


def awq_modules(tensors: dict) -> list[str]:
    names = sorted(k[: -len(".qweight")] for k in tensors if k.endswith(".qweight"))
    for n in names:
        missing = [s for s in _SUFFIXES if f"{n}.{s}" not in tensors]
        if missing:
            raise KeyError(f"AWQ module {n} lacks {missing}")
    return names


def check_layout(tensors: dict, name: str, p: dict) -> tuple[int, int, int]:
    """(out, in, group) of one AWQ Linear after checking dtypes and shapes against FORMATS.md §2.1."""
    import torch

    qw, qz, sc = (tensors[f"{name}.{s}"] for s in _SUFFIXES)
    if qw.dtype != torch.int32 or qz.dtype != torch.int32 or sc.dtype != torch.float16:
        raise ValueError(f"{name}: dtypes qweight {qw.dtype}, qzeros {qz.dtype}, scales {sc.dtype}")
    in_f, out_f = qw.shape[0], sc.shape[1]
    n_groups = sc.shape[0]
    g = in_f if p["group_size"] == -1 else p["group_size"]
    if in_f % g or n_groups != in_f // g:
        raise ValueError(f"{name}: scales {tuple(sc.shape)} do not give group_size {g} over {in_f} inputs")
    if tuple(qw.shape) != (in_f, out_f // 8) or tuple(qz.shape) != (n_groups, out_f // 8) or out_f % 8:
        raise ValueError(f"{name}: qweight {tuple(qw.shape)}, qzeros {tuple(qz.shape)}, scales {tuple(sc.shape)}")
    return out_f, in_f, g


def _via_autoawq(tensors, names, p, autoawq_dir):
    import torch

    pu = load_autoawq(autoawq_dir, quantizer=False).packing_utils
    out = {}
    for n in names:
        _, _, g = check_layout(tensors, n, p)
        w = pu.dequantize_gemm(tensors[f"{n}.qweight"], tensors[f"{n}.qzeros"], tensors[f"{n}.scales"].float(),
                               p["bits"], g)
        out[f"{n}.weight"] = w.T.contiguous().to(torch.float32)
    return out


def _gptqmodel_env():
    os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")
    os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")


def _via_gptqmodel(tensors, names, p):
    _gptqmodel_env()
    import torch
    from gptqmodel.nn_modules.qlinear.torch_awq import AwqTorchLinear
    from gptqmodel.quantization.awq.utils import packing_utils as gpu

    out = {}
    for n in names:
        out_f, in_f, g = check_layout(tensors, n, p)
        mod = AwqTorchLinear(bits=p["bits"], group_size=g, sym=False, desc_act=False, in_features=in_f,
                             out_features=out_f, bias=False, pack_dtype=torch.int32, register_buffers=True)
        mod.load_state_dict({s: tensors[f"{n}.{s}"].clone() for s in _SUFFIXES}, strict=True)
        mod.post_init()
        mod.eval()
        w = gpu.dequantize_gemm(mod.qweight, mod.qzeros, mod.scales.float(), mod.bits, mod.group_size)  # [in, out]
        with torch.inference_mode():
            fwd = mod(torch.eye(in_f, dtype=torch.float16))
        if not torch.equal(fwd, w.to(torch.float16)):
            raise AssertionError(f"{n}: AwqTorchLinear forward(I) in fp16 != its dequantize_gemm rounded to fp16")
        out[f"{n}.weight"] = w.T.contiguous().to(torch.float32)
    return out


def _via_gptqmodel_file(checkpoint_dir, names):
    _gptqmodel_env()
    import torch
    from gptqmodel.utils.model_dequant import convert_awq_file

    out = {}
    for f in safetensors_files(checkpoint_dir):
        res = convert_awq_file(pathlib.Path(f), torch.float32, "cpu")
        for n in names:
            if f"{n}.weight" in res:
                out[f"{n}.weight"] = res[f"{n}.weight"].to(torch.float32).contiguous()
    return out


def reference_dequantize(checkpoint_dir, via: str = "autoawq", *, autoawq_dir=None) -> dict:
    """{"PREFIX.weight": f32 [out, in]} for every AWQ Linear of `checkpoint_dir`, by the reader `via`."""
    p = awq_params(read_quant_config(checkpoint_dir))
    tensors = load_tensors(checkpoint_dir)
    names = awq_modules(tensors)
    if via == "autoawq":
        return _via_autoawq(tensors, names, p, autoawq_dir)
    if via == "gptqmodel":
        return _via_gptqmodel(tensors, names, p)
    if via == "gptqmodel-file":
        return _via_gptqmodel_file(checkpoint_dir, names)
    raise ValueError(f"via must be one of {VIAS}")


def transformers_load(checkpoint_dir, dtype=None):
    """transformers 5.24 loading the AWQ checkpoint on CPU (through GPTQModel's AWQ kernels), float32 unless
    dtype says otherwise."""
    _gptqmodel_env()
    import torch
    from transformers import AutoModelForCausalLM

    dtype = torch.float32 if dtype is None else dtype
    return AutoModelForCausalLM.from_pretrained(str(checkpoint_dir), dtype=dtype, device_map="cpu").eval()


def transformers_weights(model) -> dict:
    """{"PREFIX.weight": f32 [out, in]} of every quantized Linear of a transformers-loaded AWQ model, by each
    module's own forward on an identity in the model's dtype."""
    import torch

    dtype = next(model.parameters()).dtype
    out = {}
    for name, mod in model.named_modules():
        if hasattr(mod, "qweight") and hasattr(mod, "qzeros") and hasattr(mod, "scales"):
            bias, mod.bias = getattr(mod, "bias", None), None
            with torch.inference_mode():
                w = mod(torch.eye(mod.in_features, dtype=dtype))
            mod.bias = bias
            out[f"{name}.weight"] = w.T.contiguous().float()
    return out


def reference_versions(autoawq_dir=None) -> dict:
    import importlib.metadata as md

    v = {}
    try:
        v["autoawq"] = autoawq_version(find_autoawq(autoawq_dir))
    except FileNotFoundError:
        v["autoawq"] = None
    for pkg in ("gptqmodel", "torch", "transformers", "safetensors"):
        try:
            v[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            v[pkg] = None
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint_dir")
    ap.add_argument("--via", default="autoawq", choices=VIAS + ("all",))
    ap.add_argument("--autoawq", default=None, help="directory holding AutoAWQ's awq/ package (the unpacked sdist)")
    ap.add_argument("--transformers", action="store_true", help="also load the directory with transformers (CPU)")
    ap.add_argument("--out", default=None, help="write the --via (first for all) result as X.weight f32 tensors")
    args = ap.parse_args(argv)

    import torch

    p = awq_params(read_quant_config(args.checkpoint_dir))
    tensors = load_tensors(args.checkpoint_dir)
    names = awq_modules(tensors)
    vias = VIAS if args.via == "all" else (args.via,)
    results = {}
    for v in vias:
        try:
            results[v] = reference_dequantize(args.checkpoint_dir, v, autoawq_dir=args.autoawq)
        except (ImportError, FileNotFoundError) as e:
            if args.via != "all":
                raise
            print(f"[{v}] unavailable: {type(e).__name__}: {e}")
    print(json.dumps({"versions": reference_versions(args.autoawq), "params": p}))
    if args.transformers:
        try:
            results["transformers"] = transformers_weights(transformers_load(args.checkpoint_dir))
        except Exception as e:  # noqa: BLE001 - report, do not fail the other readers
            print(f"[transformers] cannot load {args.checkpoint_dir}: {type(e).__name__}: {e}")
    if not results:
        return 1
    first = next(iter(results))
    bad = 0
    for n in names:
        out_f, in_f, g = check_layout(tensors, n, p)
        w = results[first][f"{n}.weight"]
        ok = tuple(w.shape) == (out_f, in_f) and bool(torch.isfinite(w).all())
        bad += not ok
        line = (f"{n}: weight [{out_f}, {in_f}] group {g}; qweight {list(tensors[n + '.qweight'].shape)} "
                f"qzeros {list(tensors[n + '.qzeros'].shape)} scales {list(tensors[n + '.scales'].shape)}; "
                f"{'dequantizes' if ok else 'DOES NOT dequantize'} via {first}")
        for v in list(results)[1:]:
            other = results[v].get(f"{n}.weight")
            if other is None:
                line += f" | {v}: missing"
                continue
            ref = w.half().float() if v == "transformers" else w  # its dequantization rounds to fp16
            mx, cnt = compare({"w": ref}, {"w": other})["w"]
            line += f" | vs {v}: max|diff| {mx:.6g}, {cnt} differ"
        print(line)
    if args.out:
        from safetensors.torch import save_file

        save_file(results[first], args.out)
        print(f"wrote {args.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
