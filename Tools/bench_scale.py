#!/usr/bin/env python3
"""QuantGate at real model sizes against its peers, one run after the other on this machine.

On a shape checkpoint (Tools/make_shape_checkpoint.py: real configs, random weights) each step runs
QuantGate and, where one exists, the peer doing the same job, as child processes; every row gives the
wall seconds and the child's peak RSS (wait4's ru_maxrss), and the ratio of the two.

Steps (--steps, comma-separated; default all):
  inspect  `quantgate inspect` (no peer).
  gguf     checkpoint -> GGUF Q4_K_M without an importance matrix: `quantgate quantize --target cpu
           --no-imatrix` against llama.cpp's convert_hf_to_gguf.py (F32) + llama-quantize Q4_K_M; then
           how many tensors of the two files are byte-identical.
  ppl      perplexity, llama.cpp protocol (--ctx chunks, second half scored): `quantgate eval
           --protocol llama.cpp` against llama-perplexity on the F32 GGUF (same text, ctx, threads).
  hf       perplexity, hf protocol (stride = ctx): `quantgate eval --protocol hf` against
           transformers f32 (the recipe of Tools/make_golden_forward.py), in a child process.
  fp8 / gptq / awq
           `quantgate quantize --target h100 / a100 / l40s` with --samples x --seq-len calibration
           (no peer here: llm-compressor's oneshot is measured separately).
Speeds are tokens processed per second (every window's tokens, scored or not) in both tools.

Usage (the llama.cpp build of the llama-cpp-python sdist; see docs/performance.md):
  python3 Tools/bench_scale.py --model /tmp/shapes/llama-3.2-1b --llama-cpp LLAMA_CPP_SOURCE \\
      [--llama-cpp-bin LLAMA_CPP_SOURCE/build/bin] [--text Calibration/eval/hamlet.txt --chars 24000] \\
      [--ctx 512] [--samples 16] [--steps gguf,ppl,hf] [--work /tmp/bench-scale]
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
STEPS = ["inspect", "gguf", "ppl", "hf", "fp8", "gptq", "awq"]


def run(argv, env=None):
    """Runs argv to completion; returns (stdout, stderr, wall seconds, peak RSS bytes of the child)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(map(str, argv))} exited {code}:\n{stderr[-3000:]}")
    return stdout, stderr, seconds, usage.ru_maxrss * 1024


class Table:
    def __init__(self):
        self.rows = []

    def add(self, step, ours, peer="", ratio=""):
        self.rows.append((step, ours, peer, ratio))
        print(f"{step}: {ours} | {peer} | {ratio}", file=sys.stderr, flush=True)

    def markdown(self):
        lines = ["| step | QuantGate | peer | ratio |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        return "\n".join(lines)


def gb(n):
    return f"{n / 1e9:.2f} GB"


def quantgate(args, *argv, quiet=True):
    out, _, seconds, rss = run([args.quantgate, *map(str, argv), "--json"] + (["--quiet"] if quiet else []))
    return json.loads(out), seconds, rss


def gguf_tensors(llama_cpp, path):
    sys.path.insert(0, str(llama_cpp / "gguf-py"))
    from gguf import GGUFReader
    return {t.name: bytes(t.data.tobytes()) for t in GGUFReader(str(path)).tensors}


def step_gguf(args, table):
    ours_path, f32, theirs_path = args.work / "quantgate-Q4_K_M.gguf", args.work / "llamacpp-F32.gguf", args.work / "llamacpp-Q4_K_M.gguf"
    _, ours_s, ours_rss = quantgate(args, "quantize", args.model, "--target", "cpu", "--no-imatrix", "--out", ours_path, "--force")
    _, _, convert_s, convert_rss = run([sys.executable, args.llama_cpp / "convert_hf_to_gguf.py", args.model,
                                        "--outtype", "f32", "--outfile", f32])
    _, _, quant_s, quant_rss = run([args.llama_cpp_bin / "llama-quantize", f32, theirs_path, "Q4_K_M"])
    ours, theirs = gguf_tensors(args.llama_cpp, ours_path), gguf_tensors(args.llama_cpp, theirs_path)
    same = sum(1 for name, data in theirs.items() if ours.get(name) == data)
    differing = sorted(name for name, data in theirs.items() if ours.get(name) != data)
    table.add("checkpoint → GGUF Q4_K_M (no imatrix)",
              f"{ours_s:.1f} s, peak RSS {gb(ours_rss)}; {same}/{len(theirs)} tensors byte-identical"
              + (f" (differ: {', '.join(differing[:4])})" if differing else ""),
              f"convert_hf_to_gguf.py {convert_s:.1f} s ({gb(convert_rss)}) + llama-quantize {quant_s:.1f} s ({gb(quant_rss)})",
              f"{ours_s / (convert_s + quant_s):.2f}× the time")


def llama_perplexity_speed(err, ctx):
    """Tokens/s and PPL from llama-perplexity's log: its chunks × ctx over the time between the line that starts
    the computation and the final estimate (log timestamps `M.SS.mmm.uuu`), so loading the model is not counted."""
    stamp = r"(\d+)\.(\d+)\.(\d+)\.(\d+) I"
    start = re.search(stamp + r" perplexity: calculating perplexity over (\d+) chunks", err)
    final = re.search(stamp + r" Final estimate: PPL = ([\d.]+)", err)
    if not start or not final:
        sys.exit("llama-perplexity's output has no start line or final estimate:\n" + err[-2000:])
    def seconds(m):
        return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3)) / 1e3 + int(m.group(4)) / 1e6
    return int(start.group(5)) * ctx / (seconds(final) - seconds(start)), float(final.group(5))


def step_ppl(args, table):
    f32 = args.work / "llamacpp-F32.gguf"
    if not f32.exists():
        run([sys.executable, args.llama_cpp / "convert_hf_to_gguf.py", args.model, "--outtype", "f32", "--outfile", f32])
    ours, _, rss = quantgate(args, "eval", args.model, "--protocol", "llama.cpp", "--ctx", args.ctx, "--text", args.text_file)
    _, err, _, peer_rss = run([args.llama_cpp_bin / "llama-perplexity", "-m", f32, "-f", args.text_file, "-c", str(args.ctx),
                               "-b", str(args.ctx), "-t", str(os.cpu_count())])
    theirs, their_ppl = llama_perplexity_speed(err, args.ctx)
    table.add(f"perplexity, llama.cpp protocol, {ours['windows'] * args.ctx:,} tokens",
              f"{ours['tokensPerSecond']:.1f} tokens/s, PPL {ours['perplexity']:.4f} "
              f"({abs(ours['perplexity'] / their_ppl - 1) * 100:.4f} % from llama.cpp), peak RSS {gb(rss)}",
              f"llama-perplexity F32 GGUF: {theirs:.1f} tokens/s, PPL {their_ppl:.4f}, {gb(peer_rss)}",
              f"{ours['tokensPerSecond'] / theirs:.2f}× the speed")


def transformers_child(model, text_file, ctx):
    """In a child process: the hf protocol with transformers f32; prints tokens/s and PPL as JSON."""
    sys.path.insert(0, str(ROOT / "Tools"))
    import torch
    from make_golden_forward import hf_perplexity
    from transformers import AutoModelForCausalLM, AutoTokenizer
    ids = AutoTokenizer.from_pretrained(model)(pathlib.Path(text_file).read_text())["input_ids"]
    net = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32).eval()
    start = time.perf_counter()
    ppl, _, scored = hf_perplexity(net, ids, ctx, ctx)
    seconds = time.perf_counter() - start
    print(json.dumps({"tokensPerSecond": len(ids) / seconds, "perplexity": ppl, "tokens": len(ids), "scored": scored,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


def step_hf(args, table):
    ours, _, rss = quantgate(args, "eval", args.model, "--protocol", "hf", "--ctx", args.ctx, "--stride", args.ctx, "--text", args.text_file)
    out, _, _, peer_rss = run([sys.executable, __file__, "--transformers-child", "--model", args.model, "--text-file", args.text_file,
                               "--ctx", str(args.ctx)])
    theirs = json.loads(out)
    table.add(f"perplexity, hf protocol, {theirs['tokens']:,} tokens",
              f"{ours['tokensPerSecond']:.1f} tokens/s, PPL {ours['perplexity']:.4f} "
              f"({abs(ours['perplexity'] / theirs['perplexity'] - 1):.1e} from transformers), peak RSS {gb(rss)}",
              f"transformers {theirs['torch']} f32 ({theirs['threads']} threads): {theirs['tokensPerSecond']:.1f} tokens/s, {gb(peer_rss)}",
              f"{ours['tokensPerSecond'] / theirs['tokensPerSecond']:.2f}×")


def step_quantize(target, args, table):
    out = args.work / f"quantgate-{target}"
    # FP8's static scales come from a calibration cache (beside the output); GPTQ and AWQ calibrate block by block.
    _, seconds, rss = quantgate(args, "quantize", args.model, "--target", target, "--samples", args.samples, "--seq-len", args.seq_len,
                                "--out", out, "--force")
    table.add(f"`quantize --target {target}`, {args.samples} × {args.seq_len} calibration", f"{seconds:.0f} s, peak RSS {gb(rss)}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, type=pathlib.Path)
    p.add_argument("--llama-cpp", type=pathlib.Path, help="llama.cpp's source tree (convert_hf_to_gguf.py, gguf-py)")
    p.add_argument("--llama-cpp-bin", type=pathlib.Path, help="its built tools (default: SOURCE/build/bin)")
    p.add_argument("--quantgate", default=str(ROOT / ".build/release/quantgate"))
    p.add_argument("--text", type=pathlib.Path, default=ROOT / "Calibration/eval/hamlet.txt")
    p.add_argument("--chars", type=int, default=24000, help="characters of --text to score (default 24000)")
    p.add_argument("--ctx", type=int, default=512)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--steps", default=",".join(STEPS))
    p.add_argument("--work", type=pathlib.Path, help="where the artefacts go (default: a new temporary directory)")
    p.add_argument("--transformers-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--text-file", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.transformers_child:
        return transformers_child(str(args.model), args.text_file, args.ctx)
    steps = args.steps.split(",")
    if unknown := set(steps) - set(STEPS):
        p.error(f"unknown steps {sorted(unknown)}; known: {', '.join(STEPS)}")
    if {"gguf", "ppl"} & set(steps) and not args.llama_cpp:
        p.error("the gguf and ppl steps need --llama-cpp")
    args.llama_cpp_bin = args.llama_cpp_bin or (args.llama_cpp / "build/bin" if args.llama_cpp else None)
    args.work = args.work or pathlib.Path(tempfile.mkdtemp(prefix="bench-scale-"))
    args.work.mkdir(parents=True, exist_ok=True)
    args.text_file = args.work / "text.txt"
    args.text_file.write_text(args.text.read_text()[:args.chars])

    table = Table()
    for step in steps:
        if step == "inspect":
            _, seconds, rss = quantgate(args, "inspect", args.model, quiet=False)
            table.add("`inspect`", f"{seconds:.1f} s, peak RSS {gb(rss)}")
        elif step in ("fp8", "gptq", "awq"):
            step_quantize({"fp8": "h100", "gptq": "a100", "awq": "l40s"}[step], args, table)
        else:
            {"gguf": step_gguf, "ppl": step_ppl, "hf": step_hf}[step](args, table)
    facts, _, _ = quantgate(args, "bench", "forward", args.model, "--ctx", "64", quiet=False)
    blas = facts["run"]["blas"]
    cpu = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    print(f"{args.model.name}, {datetime.date.today()}, {cpu}, {os.cpu_count()} cores, OpenBLAS kernels {blas['core']} "
          f"({blas['chosenBy']}{', OpenBLAS detected ' + blas['detected'] if blas.get('detected') else ''}), "
          f"{args.chars} characters of {args.text.name}, ctx {args.ctx}\n")
    print(table.markdown())


if __name__ == "__main__":
    main()
