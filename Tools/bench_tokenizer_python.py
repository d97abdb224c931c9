#!/usr/bin/env python3
"""Single-threaded encode throughput of the Python `tokenizers` library, for comparison with
QuantGateTokenizer (issue 3 asks for ≥ 1× on the same text).

Text: Tests/Fixtures/golden/tokenizer_text.txt (1.37 MB, made by Tools/make_golden_tokenizer.py).
Two ways, both with `Tokenizer.encode` (never `encode_batch`, which is multi-threaded), with
add_special_tokens=True:
  * per segment: one call for each of the ~2300 golden segments (as the golden test does);
  * whole text: one call on the entire text.
Each is timed `--repeat` times after one warm-up pass (which also fills the BPE cache, as a
long-running process would have it); the best time is reported as MB/s (10^6 bytes of UTF-8
input per second). RAYON_NUM_THREADS=1 and TOKENIZERS_PARALLELISM=false are set before import.

Usage:
    python3 Tools/bench_tokenizer_python.py [--tokenizer Tests/Fixtures/bard-5m] [--repeat 5]
"""
import argparse
import json
import os
import pathlib
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "Tests" / "Fixtures" / "golden"


def best_of(repeat, fn):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", default=str(ROOT / "Tests" / "Fixtures" / "bard-5m"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    data = (GOLDEN / "tokenizer_text.txt").read_bytes()
    text = data.decode("utf-8")
    segments = [data[a:b].decode("utf-8") for a, b in json.loads((GOLDEN / "tokenizer_golden.json").read_text())["segments"]]
    tok = Tokenizer.from_file(str(pathlib.Path(args.tokenizer) / "tokenizer.json"))
    megabytes = len(data) / 1e6

    per_segment = best_of(args.repeat, lambda: [tok.encode(s, add_special_tokens=True) for s in segments])
    whole = best_of(args.repeat, lambda: tok.encode(text, add_special_tokens=True))
    print(f"tokenizers {tokenizers.__version__}, {args.tokenizer}, {len(data)} bytes, {len(segments)} segments")
    print(f"per segment: {megabytes / per_segment:.2f} MB/s ({per_segment * 1e3:.0f} ms)")
    print(f"whole text:  {megabytes / whole:.2f} MB/s ({whole * 1e3:.0f} ms)")
    quantgate = ROOT / ".build" / "release" / "quantgate"
    if quantgate.exists():
        import subprocess
        ours = subprocess.run([str(quantgate), "bench", "tokenizer", args.tokenizer, "--text", str(GOLDEN / "tokenizer_text.txt"),
                               "--repeat", str(args.repeat)], check=True, capture_output=True, text=True).stdout.strip()
        print(f"quantgate {ours}")
        ours_rate = float(ours.split(":")[1].split("MB/s")[0])
        print(f"quantgate / tokenizers (whole text): {ours_rate / (megabytes / whole):.2f}x")


if __name__ == "__main__":
    main()
