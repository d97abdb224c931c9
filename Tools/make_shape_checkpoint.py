#!/usr/bin/env python3
"""Write a random-weight checkpoint with the exact shapes of a real model, for testing QuantGate at scale.

Quality claims are proven on the bundled example model; memory and speed can only be proven on real
shapes. This script writes what a Hugging Face download of the named model looks like to a loader:
config.json built with transformers' own config class (no hub access), bf16 safetensors sharded at
5 GB as `save_pretrained` shards them (with model.safetensors.index.json when there is more than one
shard), tokenizer.json and tokenizer_config.json. The weights are N(0, 0.02) (biases too), the norms
1.0: a model that computes nothing useful at exactly the cost of the real one.

Shapes (the configs' facts as published on the hub):
    llama-3.2-1b      16 × 2048, GQA 32/8, FFN 8192, vocabulary 128,256, tied, llama3 RoPE scaling (1 shard)
    llama-3.1-8b      32 × 4096, GQA 32/8, FFN 14336, vocabulary 128,256, llama3 RoPE scaling (4 shards)
    qwen2.5-7b        28 × 3584, GQA 28/4, FFN 18944, vocabulary 152,064, q/k/v biases (4 shards)
    mistral-7b-v0.3   32 × 4096, GQA 32/8, FFN 14336, vocabulary 32,768 (3 shards)

`--layers N` writes a "cut": the real per-layer shapes and vocabulary with N layers, for routine tests
and for extrapolating per-layer cost. Tensors are seeded by name, so a cut's layers equal the first N
layers of the full checkpoint.

Tokenizers: Llama 3's real tokenizer comes from Meta's `llama-models` package (its tiktoken file,
converted with transformers' TikTokenConverter); Mistral v0.3's from `mistral-common` (its v3
SentencePiece model, converted by transformers); Qwen2.5's is not on any package registry, so a
synthetic byte-level BPE with Qwen2.5's exact token count (151,643 + 22 special) is trained on
QuantGate's calibration text and generated words. `--synthetic-tokenizer` forces the synthetic one.

Usage (writes 2.5 GB / 16 GB; about 1 / 6 minutes on 2 cores; never commit the output):
    pip install -r Tools/requirements.txt llama-models==0.3.0 mistral-common==1.13.1 tiktoken sentencepiece protobuf
    python3 Tools/make_shape_checkpoint.py llama-3.2-1b --out /tmp/shapes/llama-3.2-1b
    python3 Tools/make_shape_checkpoint.py llama-3.1-8b --layers 3 --out /tmp/shapes/llama-3.1-8b-cut3

Measured with them (README, "Measured speed"): `quantgate bench forward DIR`, and `quantgate eval DIR --protocol
llama.cpp` against `llama-perplexity` on the F32 GGUF that llama.cpp's `convert_hf_to_gguf.py --outtype f32` makes
of the same directory.
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import struct
import sys
import tempfile
import time
import zlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARD_BYTES = 5_000_000_000          # save_pretrained's default max_shard_size ("5GB")
STD = 0.02                           # the configs' initializer_range
LLAMA3_ROPE = {"rope_type": "llama3", "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8192}

SHAPES = {
    "llama-3.2-1b": dict(
        family="llama", tokenizer="llama3",
        config=dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                    num_key_value_heads=8, head_dim=64, vocab_size=128256, max_position_embeddings=131072,
                    rope_theta=500000.0, rope_scaling=dict(LLAMA3_ROPE, factor=32.0), rms_norm_eps=1e-5,
                    tie_word_embeddings=True, bos_token_id=128000, eos_token_id=128001, hidden_act="silu",
                    attention_bias=False, mlp_bias=False)),
    "llama-3.1-8b": dict(
        family="llama", tokenizer="llama3",
        config=dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                    num_key_value_heads=8, head_dim=128, vocab_size=128256, max_position_embeddings=131072,
                    rope_theta=500000.0, rope_scaling=dict(LLAMA3_ROPE, factor=8.0), rms_norm_eps=1e-5,
                    tie_word_embeddings=False, bos_token_id=128000, eos_token_id=128001, hidden_act="silu",
                    attention_bias=False, mlp_bias=False)),
    "qwen2.5-7b": dict(
        family="qwen2", tokenizer="qwen2",
        config=dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                    num_key_value_heads=4, vocab_size=152064, max_position_embeddings=131072,
                    rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False, use_sliding_window=False,
                    sliding_window=131072, max_window_layers=28, bos_token_id=151643, eos_token_id=151643,
                    hidden_act="silu")),
    "mistral-7b-v0.3": dict(
        family="mistral", tokenizer="mistral-v3",
        config=dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                    num_key_value_heads=8, head_dim=128, vocab_size=32768, max_position_embeddings=32768,
                    rope_theta=1000000.0, rms_norm_eps=1e-5, sliding_window=None, tie_word_embeddings=False,
                    bos_token_id=1, eos_token_id=2, hidden_act="silu")),
}


def build_config(shape, layers):
    """The transformers config object for `shape`, with `layers` decoder layers."""
    import transformers
    spec = SHAPES[shape]
    cls = {"llama": transformers.LlamaConfig, "qwen2": transformers.Qwen2Config,
           "mistral": transformers.MistralConfig}[spec["family"]]
    values = dict(spec["config"])
    if layers is not None:
        values["num_hidden_layers"] = layers
        if "max_window_layers" in values:
            values["max_window_layers"] = layers
    config = cls(**values)
    config.dtype = "bfloat16"
    config.architectures = [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM",
                             "mistral": "MistralForCausalLM"}[spec["family"]]]
    return config


def tensor_plan(config, family):
    """(name, shape, kind) in transformers' state-dict order; kind is 'weight', 'bias' or 'norm'."""
    h, inter, v = config.hidden_size, config.intermediate_size, config.vocab_size
    heads, kv = config.num_attention_heads, config.num_key_value_heads
    d = getattr(config, "head_dim", None) or h // heads
    plan = [("model.embed_tokens.weight", (v, h), "weight")]
    for i in range(config.num_hidden_layers):
        p = f"model.layers.{i}."
        for proj, rows in (("q_proj", heads * d), ("k_proj", kv * d), ("v_proj", kv * d)):
            plan.append((p + f"self_attn.{proj}.weight", (rows, h), "weight"))
            if family == "qwen2":
                plan.append((p + f"self_attn.{proj}.bias", (rows,), "bias"))
        plan.append((p + "self_attn.o_proj.weight", (h, heads * d), "weight"))
        plan.append((p + "mlp.gate_proj.weight", (inter, h), "weight"))
        plan.append((p + "mlp.up_proj.weight", (inter, h), "weight"))
        plan.append((p + "mlp.down_proj.weight", (h, inter), "weight"))
        plan.append((p + "input_layernorm.weight", (h,), "norm"))
        plan.append((p + "post_attention_layernorm.weight", (h,), "norm"))
    plan.append(("model.norm.weight", (h,), "norm"))
    if not config.tie_word_embeddings:
        plan.append(("lm_head.weight", (v, h), "weight"))
    return plan


def bf16_bytes(name, shape, kind, seed, out):
    """Writes the tensor's bf16 bytes to `out` in chunks (never the whole tensor in f32)."""
    count = int(np.prod(shape))
    if kind == "norm":
        out.write(np.full(count, 0x3F80, dtype="<u2").tobytes())   # 1.0 in bf16
        return
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    chunk = 1 << 24
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        bits = (rng.standard_normal(n, dtype=np.float32) * np.float32(STD)).view(np.uint32)
        rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
        out.write(rounded.astype("<u2").tobytes())


def shard_groups(plan):
    """Tensors grouped into shards of at most SHARD_BYTES, in order, as save_pretrained groups them."""
    groups, current, size = [], [], 0
    for entry in plan:
        nbytes = int(np.prod(entry[1])) * 2
        if current and size + nbytes > SHARD_BYTES:
            groups.append(current)
            current, size = [], 0
        current.append(entry)
        size += nbytes
    groups.append(current)
    return groups


def write_shard(path, entries, seed, progress):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, _ in entries:
        nbytes = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape, kind in entries:
            bf16_bytes(name, shape, kind, seed, f)
            progress(int(np.prod(shape)) * 2)
    return offset


def llama3_tokenizer():
    """Meta's Llama 3 tokenizer (llama-models' tiktoken file), as tokenizer.json with BOS added."""
    from llama_models.llama3 import tokenizer as meta
    from tokenizers import processors
    from transformers.convert_slow_tokenizer import TikTokenConverter
    model_path = pathlib.Path(meta.__file__).with_name("tokenizer.model")
    specials = meta.Tokenizer(model_path).special_tokens     # name → id, 128000 …
    ordered = [name for name, _ in sorted(specials.items(), key=lambda item: item[1])]
    tok = TikTokenConverter(vocab_file=str(model_path), pattern=meta.Tokenizer.pat_str,
                            extra_special_tokens=ordered).converted()
    bos = "<|begin_of_text|>"
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, specials[bos])])
    assert tok.token_to_id(bos) == 128000 and tok.get_vocab_size() == 128256, "unexpected Llama 3 vocabulary"
    return tok, {"bos_token": bos, "eos_token": "<|end_of_text|>", "add_bos_token": True}


def mistral_v3_tokenizer():
    """Mistral v0.3's SentencePiece tokenizer (mistral-common's v3 model), converted by transformers."""
    import mistral_common
    from transformers import AutoTokenizer
    model_path = pathlib.Path(mistral_common.__file__).parent / "data" / "mistral_instruct_tokenizer_240323.model.v3"
    special = {"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True}
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(model_path, pathlib.Path(folder) / "tokenizer.model")
        config = {"tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>", "legacy": False, **special}
        (pathlib.Path(folder) / "tokenizer_config.json").write_text(json.dumps(config))
        tok = AutoTokenizer.from_pretrained(folder).backend_tokenizer
    assert tok.get_vocab_size() == 32768, f"unexpected Mistral v3 vocabulary size {tok.get_vocab_size()}"
    return tok, special


def synthetic_tokenizer(vocab_size, specials, bos, eos):
    """A byte-level BPE of exactly `vocab_size` ordinary tokens plus `specials`, trained on the repository's
    calibration text and seeded pseudo-words (enough distinct words to reach the size)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    rng = random.Random(1234)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def corpus():
        for path in sorted((ROOT / "Calibration").rglob("*.txt")):
            yield path.read_text(encoding="utf-8", errors="replace")
        for _ in range(400):
            yield " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 11))) for _ in range(2000))

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus(), trainer=trainer)
    if tok.get_vocab_size() != vocab_size:
        sys.exit(f"synthetic tokenizer reached {tok.get_vocab_size()} tokens, not {vocab_size}")
    tok.add_special_tokens(specials)
    return tok, {"bos_token": bos, "eos_token": eos, "add_bos_token": False}


def qwen2_tokenizer():
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [f"<|qwen_extra_{i}|>" for i in range(19)]
    return synthetic_tokenizer(151643, specials, None, "<|endoftext|>")


def make_tokenizer(kind, vocab_size, synthetic):
    if synthetic:
        return synthetic_tokenizer(vocab_size - 256, [f"<|special_{i}|>" for i in range(256)], None, "<|special_1|>")
    builders = {"llama3": llama3_tokenizer, "mistral-v3": mistral_v3_tokenizer, "qwen2": qwen2_tokenizer}
    try:
        return builders[kind]()
    except ImportError as error:
        print(f"  {kind} tokenizer package missing ({error}); using a synthetic one of the same size")
        return make_tokenizer(kind, vocab_size, True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("--out", required=True, help="directory to create (refused if it exists, unless --force)")
    parser.add_argument("--layers", type=int, help="write a cut with this many layers (real per-layer shapes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic-tokenizer", action="store_true", help="never use a registry tokenizer")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    args = parser.parse_args()
    if args.layers is not None and args.layers < 1:
        parser.error("--layers must be at least 1")
    out = pathlib.Path(args.out)
    if out.exists() and not args.force:
        parser.error(f"{out} exists (use --force to replace it)")

    spec = SHAPES[args.shape]
    config = build_config(args.shape, args.layers)
    plan = tensor_plan(config, spec["family"])
    total = sum(int(np.prod(shape)) * 2 for _, shape, _ in plan)
    parameters = total // 2
    print(f"{args.shape}{f' cut to {args.layers} layers' if args.layers else ''}: "
          f"{parameters / 1e9:.2f} B parameters, {total / 1e9:.2f} GB bf16")

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        config.save_pretrained(staging)
        tok, special = make_tokenizer(spec["tokenizer"], config.vocab_size, args.synthetic_tokenizer)
        tok.save(str(staging / "tokenizer.json"))
        tokenizer_config = {"tokenizer_class": "PreTrainedTokenizerFast", "add_eos_token": False,
                            "model_max_length": config.max_position_embeddings, **special}
        (staging / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")

        groups = shard_groups(plan)
        names = (["model.safetensors"] if len(groups) == 1 else
                 [f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors" for i in range(len(groups))])
        started, written = time.time(), [0]

        def progress(nbytes):
            before = written[0] * 20 // total
            written[0] += nbytes
            if written[0] * 20 // total != before:
                print(f"  weights {written[0] / total:6.1%}  {time.time() - started:5.0f} s", flush=True)

        weight_map = {}
        for name, group in zip(names, groups):
            write_shard(staging / name, group, args.seed, progress)
            weight_map.update({tensor: name for tensor, _, _ in group})
        if len(groups) > 1:
            index = {"metadata": {"total_size": total}, "weight_map": weight_map}
            (staging / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.chmod(0o755)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"wrote {out} ({len(groups)} shard{'s' if len(groups) > 1 else ''}, tokenizer "
          f"{'synthetic' if args.synthetic_tokenizer or spec['tokenizer'] == 'qwen2' else spec['tokenizer']})")


if __name__ == "__main__":
    main()
