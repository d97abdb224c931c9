#!/usr/bin/env python3
"""Golden forward-pass outputs from transformers (f32, CPU) for QuantGate's runtime tests.

Makes, under Tests/Fixtures/:
  tiny-qwen2-mqa/            a second fixture: qwen2 architecture, ONE key/value head (MQA), tied
                             embeddings, random non-zero q/k/v biases, llama3 RoPE scaling, f32
                             weights; random init (seeded), the bard-5m tokenizer. Not trained: it
                             exists to exercise code paths bard-5m does not.
  golden/forward_<model>.safetensors
                             for 2 windows of the held-out text (Calibration/eval/hamlet.txt,
                             tokenised without special tokens): `tokens` (I32 [2, T]), `logits_rows`
                             (F32 [2, R, vocab]: full logits at positions `rows` (I32 [R])),
                             `target_logit` and `logsumexp` (F32 [2, T-1]) at every position.
  tiny-llama-linear/         a third: llama with attention_bias and mlp_bias, linear RoPE scaling,
                             2 KV-head groups, untied head; random init (seeded), f32.
  golden/forward_offset_bard-5m.safetensors
                             64 tokens evaluated at positions 100..163 (position_ids offset).
  bard-5m/reference_perplexity_stride.json
                             hf protocol with overlapping windows (ctx 512, stride 256) on the
                             first 4096 tokens of the held-out text.
  bard-5m/reference_perplexity.json
                             transformers' perplexity of bard-5m on the held-out text with the `hf`
                             protocol (the sliding-window recipe of the transformers docs,
                             "Perplexity of fixed-length models", stride = ctx = 512; the text encoded
                             with special tokens, as tokenizer(text) does).

Usage: pip install torch transformers safetensors && python3 Tools/make_golden_forward.py
"""
import json
import math
import pathlib

import torch
import transformers
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures"
HELDOUT = ROOT / "Calibration" / "eval" / "hamlet.txt"


def save_randomized(model, out):
    """Gives biases and norm weights non-trivial random values (transformers initialises them to 0
    and 1, which would leave those code paths untested), then saves the model with bard-5m's tokenizer."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0, 0.5)
            elif "norm" in name:
                p.uniform_(0.5, 1.5)
    model.save_pretrained(out, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (out / name).write_bytes((FIXTURES / "bard-5m" / name).read_bytes())
    return out


def make_qwen2_fixture():
    out = FIXTURES / "tiny-qwen2-mqa"
    torch.manual_seed(2024)
    config = Qwen2Config(
        vocab_size=4096, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=1, max_position_embeddings=512, rms_norm_eps=1e-6, tie_word_embeddings=True,
        initializer_range=0.1, bos_token_id=0, eos_token_id=1,
        rope_parameters={"rope_type": "llama3", "rope_theta": 1_000_000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
    )
    return save_randomized(Qwen2ForCausalLM(config), out)


def make_llama_linear_fixture():
    """llama with attention_bias and mlp_bias (biases on q/k/v/o and gate/up/down), linear RoPE
    scaling, GQA 2 groups, untied head; random init, f32."""
    out = FIXTURES / "tiny-llama-linear"
    torch.manual_seed(2025)
    config = LlamaConfig(
        vocab_size=4096, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=False,
        attention_bias=True, mlp_bias=True, initializer_range=0.1, bos_token_id=0, eos_token_id=1,
        rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0},
    )
    return save_randomized(LlamaForCausalLM(config), out)


def golden_offset(model, model_dir, start=100, length=64, row_step=8):
    """One window whose first token sits at position `start` (position_ids start..start+length-1),
    for the runtime's per-block API with a position offset."""
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    ids = tok.encode(HELDOUT.read_text(encoding="utf-8"), add_special_tokens=False).ids[5000:5000 + length]
    tokens = torch.tensor([ids])
    with torch.no_grad():
        logits = model(tokens, position_ids=torch.arange(start, start + length)[None]).logits.float()
    rows = torch.arange(0, length, row_step)
    out = {"tokens": tokens.to(torch.int32), "rows": rows.to(torch.int32), "start": torch.tensor([start], dtype=torch.int32),
           "logits_rows": logits[:, rows, :].contiguous()}
    save_file(out, str(FIXTURES / "golden" / f"forward_offset_{model_dir.name}.safetensors"), metadata={"format": "pt"})


def golden_logits(model_dir, windows=2, ctx=512, row_step=16):
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    ids = tok.encode(HELDOUT.read_text(encoding="utf-8"), add_special_tokens=False).ids
    tokens = torch.tensor([ids[w * ctx:(w + 1) * ctx] for w in range(windows)], dtype=torch.long)
    rows = torch.arange(0, ctx, row_step)
    with torch.no_grad():
        logits = model(tokens).logits.float()
    targets = tokens[:, 1:]
    out = {
        "tokens": tokens.to(torch.int32),
        "rows": rows.to(torch.int32),
        "logits_rows": logits[:, rows, :].contiguous(),
        "target_logit": logits[:, :-1, :].gather(2, targets[..., None]).squeeze(2).contiguous(),
        "logsumexp": torch.logsumexp(logits[:, :-1, :].double(), dim=2).float().contiguous(),
    }
    path = FIXTURES / "golden" / f"forward_{model_dir.name}.safetensors"
    save_file(out, str(path), metadata={"format": "pt", "reference": f"transformers {transformers.__version__}, torch {torch.__version__}"})
    return model, ids


def hf_perplexity(model, ids, ctx, stride):
    """The transformers docs recipe: windows of up to ctx tokens every `stride`, each scoring only the
    tokens not scored before (the first token of the text is never scored)."""
    nll_sum, scored, prev_end = 0.0, 0, 0
    with torch.no_grad():
        for begin in range(0, len(ids), stride):
            end = min(begin + ctx, len(ids))
            new = end - prev_end
            window = torch.tensor([ids[begin:end]])
            logp = torch.log_softmax(model(window).logits.double()[0, :-1], dim=-1)
            nll = -logp.gather(1, window[0, 1:, None]).squeeze(1)
            counted = nll[-new:] if new < window.shape[1] else nll
            nll_sum += counted.sum().item()
            scored += counted.numel()
            prev_end = end
            if end == len(ids):
                break
    return math.exp(nll_sum / scored), nll_sum / scored, scored


def main():
    qwen = make_qwen2_fixture()
    golden_logits(qwen)
    golden_logits(make_llama_linear_fixture())
    bard = FIXTURES / "bard-5m"
    model, _ = golden_logits(bard)
    golden_offset(model, bard)
    # As the transformers recipe does: tokenizer(text), special tokens included (bard-5m adds BOS).
    tok = Tokenizer.from_file(str(bard / "tokenizer.json"))
    ids = tok.encode(HELDOUT.read_text(encoding="utf-8"), add_special_tokens=True).ids
    ppl, nll, scored = hf_perplexity(model, ids, 512, 512)
    record = {
        "model": "bard-5m",
        "text": "Calibration/eval/hamlet.txt",
        "protocol": ("hf: tokenizer.json encode with special tokens (BOS first, as tokenizer(text) does); windows of ctx tokens every stride tokens "
                     "(here stride = ctx: consecutive, the final window shorter); each window scores only tokens "
                     "not scored before, so the first token of the text is never scored and each full window "
                     "scores ctx - 1 tokens; ppl = exp(mean NLL); weights bf16 -> f32, f32 compute"),
        "ctx": 512, "stride": 512, "text_tokens": len(ids), "tokens_scored": scored,
        "mean_nll": nll, "perplexity": ppl,
        "reference": f"transformers {transformers.__version__}, torch {torch.__version__}",
    }
    (bard / "reference_perplexity.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    # Overlapping windows on the first 4096 tokens: stride 256 < ctx 512.
    prefix = ids[:4096]
    ppl, nll, scored = hf_perplexity(model, prefix, 512, 256)
    stride_record = {"model": "bard-5m", "text": "Calibration/eval/hamlet.txt, first 4096 tokens (BOS included)",
                     "protocol": "hf", "ctx": 512, "stride": 256, "text_tokens": len(prefix), "tokens_scored": scored,
                     "mean_nll": nll, "perplexity": ppl,
                     "reference": f"transformers {transformers.__version__}, torch {torch.__version__}"}
    (bard / "reference_perplexity_stride.json").write_text(json.dumps(stride_record, indent=2) + "\n")
    print(json.dumps(stride_record, indent=2))


if __name__ == "__main__":
    main()
