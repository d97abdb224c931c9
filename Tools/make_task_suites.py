#!/usr/bin/env python3
"""Builds QuantGate's built-in task suites from the held-out text, and measures a model on them.

Makes, under Calibration/tasks/ (deterministically: the same files byte for byte on every run):
  hamlet-next-line.jsonl  `choice`, 2 choices: four lines of Hamlet as they stand in the file, the last
                          one breaking off mid-sentence; which line comes next (the true one, or a line
                          from elsewhere in the play that opens a sentence, matched in token count and
                          token-unigram log-probability)
  hamlet-cloze.jsonl      `choice`, 3 choices: the text up to a word of a line; which word follows (the
                          true one, or a word of the same length class and similar frequency in the play)
  hamlet-complete.jsonl   `exact`: the text up to a well-predictable word (by the rest of the play's
                          bigram/trigram counts); greedy generation of that word
  smoke.jsonl             16 generation smoke-test prompts (a speaker's name line and the first four
                          words of the speech)
The format and the scoring rules are in Calibration/tasks/README.md. Only Calibration/eval/hamlet.txt
(held out from the example model's training) is read, plus the example model's tokenizer
(Tests/Fixtures/bard-5m/tokenizer.json, through the `tokenizers` package) for the token counts that match
distractor lines and set max_tokens.

  --measure MODEL_DIR     score MODEL_DIR (transformers, f32, CPU) on the three suites with QuantGate's
                          rules, independently of QuantGate, and print acc / acc_norm (choice) and
                          accuracy (exact)
  --golden OUT.json       with --measure: also write per-item reference results for the first 40 items of
                          each suite (log-likelihood of every choice, correctness; generated text,
                          token ids and the top-1/top-2 logit margin of every step) and the greedy
                          64-token generations of the smoke prompts —
                          Tests/Fixtures/golden/tasks_bard-5m.json

Usage (torch/transformers are needed only for --measure):
  python3 Tools/make_task_suites.py
  python3 Tools/make_task_suites.py --measure Tests/Fixtures/bard-5m --golden Tests/Fixtures/golden/tasks_bard-5m.json
"""
import argparse
import collections
import json
import math
import pathlib
import random
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "Calibration" / "eval" / "hamlet.txt"
TASKS = ROOT / "Calibration" / "tasks"
TOKENIZER = ROOT / "Tests" / "Fixtures" / "bard-5m" / "tokenizer.json"  # for matching distractors and max_tokens
GOLDEN_ITEMS = 40
SMOKE_MAX_TOKENS = 64
MAX_CONTEXT = 512  # bard-5m's context; every built item fits in it (checked in --measure)

# ---------------------------------------------------------------------------------------------
# Reading the play
# ---------------------------------------------------------------------------------------------

# A speaker's name on a line of its own: "Ham.", "1 Clown.", "P. King.", "Ros. and Guil.", "Oph. [Sings.]".
SPEAKER = re.compile(r"^(?:[12I] |P\. )?[A-Z][A-Za-z]*\.?(?: and [A-Z][a-z]+\.)?(?: \[[^\]]*\])? ?$")
HEADING = re.compile(r"^(?:ACT|Act|Scene) [IVX]+\.")


class Line:
    __slots__ = ("index", "text", "kind", "speaker", "start", "end")

    def __init__(self, index, text, kind, speaker, start):
        self.index, self.text, self.kind, self.speaker, self.start = index, text, kind, speaker, start
        self.end = start + len(text)  # offset of the line's "\n" in the file


def parse_play(text):
    """Every line of the file with its kind: front (title and cast list, before "ACT I."), blank,
    heading (ACT / Scene), direction (a bracketed stage direction, possibly over several lines),
    speaker (a speaker's name on its own line), speech; and the speaker in effect."""
    raw = text.split("\n")
    first_act = raw.index("ACT I.")

    def classify(allowed_inline):
        lines, in_direction, speaker, offset = [], False, None, 0
        for i, t in enumerate(raw):
            previous = lines[-1].kind if lines else "front"
            if i < first_act:
                kind = "front"
            elif t == "":
                kind = "blank"
            elif in_direction or t.startswith("["):
                kind = "direction"
                in_direction = "]" not in (t[t.rfind("["):] if "[" in t else t)
            elif HEADING.match(t):
                kind = "heading"
            elif (SPEAKER.match(t) and len(t) <= 30 and i + 1 < len(raw) and raw[i + 1] != ""
                  and (previous in ("blank", "direction", "heading") or t in allowed_inline)):
                kind, speaker = "speaker", t
            else:
                kind = "speech"
            lines.append(Line(i, t, kind, speaker, offset))
            offset += len(t) + 1
        return lines

    # A name is only taken as a speaker after a blank line or a direction, except the frequent
    # names, which are also taken straight after a speech line (the source has one missing blank
    # line: "Together with that fai----" / "Ber.").
    strict = classify(set())
    counts = collections.Counter(l.text for l in strict if l.kind == "speaker")
    return classify({name for name, n in counts.items() if n >= 10})


def words_of(text):
    return re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)*", text)


def context_start(lines, i, nonblank):
    """Index of the first line of the window that ends just before line i and holds `nonblank`
    non-blank lines (fewer at the start of the play)."""
    j, seen = i, 0
    while j > 0 and seen < nonblank and lines[j - 1].kind != "front":
        j -= 1
        if lines[j].kind != "blank":
            seen += 1
    while lines[j].kind == "blank":
        j += 1
    return j


# ---------------------------------------------------------------------------------------------
# Suites
# ---------------------------------------------------------------------------------------------

NEXT_LINE = dict(seed=20260101, context_lines=4, choices=2, min_chars=20, min_distance=40, tolerance=1.0)
CLOZE = dict(seed=20260102, items=1000, context_lines=3, choices=3, min_letters=2, min_words_before=2,
             frequency_window=0.5)
COMPLETE = dict(seed=20260103, items=600, context_lines=4, bigram=(0.2, 5), trigram=(0.3, 2), per_word=60)
SMOKE = dict(seed=20260104, prompts=16, words=4)


class TokenStatistics:
    """Token counts of the play's speech lines under the example model's tokenizer (each line encoded as
    "\\n" + line, no special tokens): a line's token count and its add-0.5 unigram log-probability, used to
    match distractor lines to the true line."""

    def __init__(self, tokenizer, lines):
        self.tokenizer = tokenizer
        self.counts = collections.Counter()
        for l in lines:
            if l.kind == "speech":
                self.counts.update(self.ids(l.text))
        self.total = sum(self.counts.values())
        self.vocab = tokenizer.get_vocab_size()

    def ids(self, line):
        return self.tokenizer.encode("\n" + line.strip(), add_special_tokens=False).ids

    def score(self, line):
        ids = self.ids(line)
        return len(ids), sum(math.log((self.counts[i] + 0.5) / (self.total + 0.5 * self.vocab)) for i in ids)


def next_line_suite(text, lines, stats, cfg=NEXT_LINE):
    """Targets: every speech line (>= min_chars, no stage direction, text not seen earlier in the play)
    whose previous line is a speech line ending in a letter, i.e. a sentence running on across the line
    break. Context: the previous `context_lines` non-blank lines as they stand in the file. Distractors:
    lines of the same pool that open a sentence (the line before them is not a speech line, or ends in
    ".", "!" or "?"), at least `min_distance` lines away, with the same initial case, the same token
    count and a token-unigram log-probability within `tolerance` nats of the true line's (for the few lines
    without one: the nearest lines of the same case by |token count difference| + |log-probability
    difference| / 5), so that a line's own likelihood cannot give the answer away."""
    rng = random.Random(cfg["seed"])
    seen, pool = set(), []
    for l in lines:
        key = l.text.strip()
        if l.kind == "speech" and "[" not in l.text and len(key) >= cfg["min_chars"] and key not in seen:
            seen.add(key)
            pool.append(l)
    score = {l.index: stats.score(l.text) for l in pool}

    def opens_sentence(l):
        before = lines[l.index - 1]
        return before.kind != "speech" or re.search(r"[.!?]$", before.text.rstrip()) is not None

    openers = [l for l in pool if opens_sentence(l)]
    by_shape = collections.defaultdict(list)  # (initial upper case, token count) -> openers in text order
    for l in openers:
        by_shape[(l.text.strip()[0].isupper(), score[l.index][0])].append(l)
    items = []
    for l in pool:
        before = lines[l.index - 1]
        if before.kind != "speech" or not re.search(r"[A-Za-z]$", before.text.rstrip()):
            continue
        true = l.text.strip()
        tokens, logp = score[l.index]
        shape = by_shape.get((true[0].isupper(), tokens), [])
        candidates = [d for d in shape if abs(d.index - l.index) >= cfg["min_distance"]
                      and abs(score[d.index][1] - logp) <= cfg["tolerance"]]
        if len(candidates) < cfg["choices"] - 1:  # a rare shape: the nearest lines of the same case
            same_case = [d for d in openers if d.text.strip()[0].isupper() == true[0].isupper()
                         and abs(d.index - l.index) >= cfg["min_distance"] and d.text.strip() != true]
            same_case.sort(key=lambda d: (abs(score[d.index][0] - tokens) + abs(score[d.index][1] - logp) / 5, d.index))
            candidates = same_case[:cfg["choices"] - 1]
        distractors = [d.text.strip() for d in rng.sample(candidates, cfg["choices"] - 1)]
        gold = rng.randrange(cfg["choices"])
        start = context_start(lines, l.index, cfg["context_lines"])
        items.append({"id": f"hamlet-next-line-{l.index + 1:04d}", "kind": "choice",
                      "context": text[lines[start].start:before.end], "delimiter": "\n",
                      "choices": distractors[:gold] + [true] + distractors[gold:], "gold": gold})
    return items


BLANK = re.compile(r"(?<= )[a-z]+(?:'[a-z]+)*(?![A-Za-z'])")


def cloze_suite(text, lines, cfg=CLOZE):
    """Blanks: lower-case words (>= min_letters letters, after a space, with >= min_words_before words
    before them in their line) of speech lines without stage directions; `items` of them drawn at random.
    Context: the previous `context_lines` non-blank lines and the line up to the blank, without the space
    (the default delimiter " " restores it). Distractors: other blank words of the same length class
    (2-3, 4-5, 6-7, 8+ letters) whose frequency in the play is within a factor e^0.5 of the true word's
    (the window widened in steps of 0.25 until it holds >= 3 × choices words)."""
    rng = random.Random(cfg["seed"])
    frequency = collections.Counter(w.lower() for l in lines if l.kind == "speech" for w in words_of(l.text))
    blanks = []
    for l in lines:
        if l.kind != "speech" or "[" in l.text:
            continue
        for m in BLANK.finditer(l.text):
            if len(m.group(0)) >= cfg["min_letters"] and len(words_of(l.text[:m.start()])) >= cfg["min_words_before"]:
                blanks.append((l, m))
    vocabulary = sorted({m.group(0) for _, m in blanks})

    def length_class(w):
        return min(len(w), 9) // 2

    chosen = sorted(rng.sample(blanks, cfg["items"]), key=lambda b: (b[0].index, b[1].start()))
    items = []
    for l, m in chosen:
        word = m.group(0)
        log_f = math.log(frequency[word])
        window = cfg["frequency_window"]
        while True:
            candidates = [w for w in vocabulary if w != word and length_class(w) == length_class(word)
                          and abs(math.log(frequency[w]) - log_f) <= window]
            if len(candidates) >= 3 * cfg["choices"]:
                break
            window += 0.25
        distractors = rng.sample(candidates, cfg["choices"] - 1)
        gold = rng.randrange(cfg["choices"])
        start = context_start(lines, l.index, cfg["context_lines"])
        items.append({"id": f"hamlet-cloze-{l.index + 1:04d}-{m.start():02d}", "kind": "choice",
                      "context": text[lines[start].start:l.start + m.start() - 1],
                      "choices": distractors[:gold] + [word] + distractors[gold:], "gold": gold})
    return items


UNIT = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|--|[,.;:!?]")  # a word or a punctuation mark


def complete_suite(text, lines, stats, cfg=COMPLETE):
    """Greedy next word at well-predictable places. Each speech line without stage directions is read as
    units (words, lower-cased, and the punctuation marks , . ; : ! ? --). A place is a word preceded by a
    single space and, straight before that, a word, such that in the REST of the play (this occurrence left
    out) the previous unit, seen >= 5 times, is followed by this word >= 20 % of the time, or the previous
    two units, seen >= 2 times, >= 30 % of the time (punctuation counts among the followers: after "lord"
    a comma is the usual next unit). At most `per_word` places per target word (drawn at random), then
    `items` places. Prompt: the previous `context_lines` non-blank lines and the line up to the word,
    without the space. max_tokens: the word's token count (" " + word, the example model's tokenizer), so
    that the generation is compared word for word."""
    rng = random.Random(cfg["seed"])
    places, sequences = [], []
    for l in lines:
        if l.kind != "speech" or "[" in l.text:
            continue
        units = list(UNIT.finditer(l.text))
        sequences.append([u.group(0).lower() for u in units])
        for k in range(2, len(units)):
            w, v = units[k], units[k - 1]
            if (w.group(0)[0].isalpha() and v.group(0)[0].isalpha() and v.end() == w.start() - 1
                    and l.text[w.start() - 1] == " "):
                places.append((l, w.start(), w.group(0), units[k - 2].group(0).lower(), v.group(0).lower()))
    unigram, bigram, trigram = collections.Counter(), collections.Counter(), collections.Counter()
    for s in sequences:
        unigram.update(s[:-1])
        bigram.update(zip(s, s[1:]))
        trigram.update(zip(s, s[1:], s[2:]))

    def predictable(place):
        _, _, word, a, b = place
        w = word.lower()
        seen1, seen2 = unigram[b] - 1, bigram[(a, b)] - 1
        p2 = (bigram[(b, w)] - 1) / seen1 if seen1 > 0 else 0.0
        p3 = (trigram[(a, b, w)] - 1) / seen2 if seen2 > 0 else 0.0
        return ((seen1 >= cfg["bigram"][1] and p2 >= cfg["bigram"][0])
                or (seen2 >= cfg["trigram"][1] and p3 >= cfg["trigram"][0]))

    eligible = [p for p in places if predictable(p)]
    rng.shuffle(eligible)
    per_word, capped = collections.Counter(), []
    for p in eligible:
        if per_word[p[2].lower()] < cfg["per_word"]:
            per_word[p[2].lower()] += 1
            capped.append(p)
    chosen = sorted(rng.sample(capped, cfg["items"]), key=lambda p: (p[0].index, p[1]))
    items = []
    for l, position, word, _, _ in chosen:
        start = context_start(lines, l.index, cfg["context_lines"])
        tokens = len(stats.tokenizer.encode(" " + word, add_special_tokens=False).ids)
        items.append({"id": f"hamlet-complete-{l.index + 1:04d}-{position:02d}", "kind": "exact",
                      "prompt": text[lines[start].start:l.start + position - 1], "target": word,
                      "stop": ["\n"], "max_tokens": tokens})
    return items


def smoke_prompts(text, lines, cfg=SMOKE):
    """One speech opening from each sixteenth of the play: the speaker's name line and the first
    `words` words of the speech's first line (of >= 6 words)."""
    rng = random.Random(cfg["seed"])
    starts = [l for l in lines if l.kind == "speaker" and l.text.endswith(".")
              and lines[l.index + 1].kind == "speech" and len(words_of(lines[l.index + 1].text)) >= 6]
    step = len(starts) // cfg["prompts"]
    prompts = []
    for k in range(cfg["prompts"]):
        l = starts[k * step + rng.randrange(step)]
        first = lines[l.index + 1].text
        cut = [m.end() for m in re.finditer(r"[A-Za-z]+(?:'[A-Za-z]+)*", first)][cfg["words"] - 1]
        prompts.append({"id": f"smoke-{k + 1:02d}", "prompt": l.text + "\n" + first[:cut]})
    return prompts


def build():
    from tokenizers import Tokenizer

    text = HELDOUT.read_text(encoding="utf-8")
    lines = parse_play(text)
    stats = TokenStatistics(Tokenizer.from_file(str(TOKENIZER)), lines)
    return {
        "hamlet-next-line": next_line_suite(text, lines, stats),
        "hamlet-cloze": cloze_suite(text, lines),
        "hamlet-complete": complete_suite(text, lines, stats),
    }, smoke_prompts(text, lines)


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------
# Scoring (QuantGate's rules; Calibration/tasks/README.md)
# ---------------------------------------------------------------------------------------------

def normalise(record):
    """A suite line as QuantGate reads it: the native schema, or an lm-evaluation-harness-style
    record ({query|context, choices, gold|label})."""
    kind = record.get("kind")
    if kind == "exact":
        return {"kind": "exact", "prompt": record["prompt"], "target": record["target"],
                "stop": record.get("stop", ["\n"]), "max_tokens": record.get("max_tokens", 32)}
    context = record["context"] if "context" in record else record["query"]
    gold = record["gold"] if "gold" in record else record["label"]
    return {"kind": "choice", "context": context, "choices": record["choices"], "gold": gold,
            "delimiter": record.get("delimiter", " ")}


class Scorer:
    def __init__(self, model_dir):
        import torch
        from tokenizers import Tokenizer
        from transformers import LlamaForCausalLM

        self.torch = torch
        self.tokenizer = Tokenizer.from_file(str(pathlib.Path(model_dir) / "tokenizer.json"))
        self.model = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
        self.eos = self.model.config.eos_token_id
        self.prefix_mismatches = 0

    def encode(self, s):
        return self.tokenizer.encode(s, add_special_tokens=True).ids

    def decode(self, ids):
        return self.tokenizer.decode(ids, skip_special_tokens=False)  # as QuantGate: special tokens stay in the text

    def choice_requests(self, item):
        """(input ids, first scored position) per choice. A context's trailing whitespace is moved to
        the front of the continuation before encoding the context."""
        context = item["context"]
        n = len(context) - len(context.rstrip())
        ctx_ids = self.encode(context[:len(context) - n])
        requests = []
        for choice in item["choices"]:
            whole = self.encode(context + item["delimiter"] + choice)
            cont = whole[len(ctx_ids):]
            if whole[:len(ctx_ids)] != ctx_ids:
                self.prefix_mismatches += 1
            assert cont, "empty continuation"
            ids = ctx_ids + cont
            assert len(ids) <= MAX_CONTEXT, "item longer than the context"
            requests.append((ids, len(ctx_ids)))
        return requests

    def loglikelihoods(self, requests, batch_tokens=8192):
        """Sum over each request's continuation of log_softmax(logits at the previous position)[token],
        the model in f32, the sum in f64. Requests are run in right-padded batches of similar length."""
        torch = self.torch
        order = sorted(range(len(requests)), key=lambda k: -len(requests[k][0]))
        out = [None] * len(requests)
        k = 0
        with torch.no_grad():
            while k < len(order):
                width = len(requests[order[k]][0])
                batch = order[k:k + max(1, batch_tokens // width)]
                k += len(batch)
                ids = torch.zeros((len(batch), width), dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, r in enumerate(batch):
                    seq = requests[r][0]
                    ids[row, :len(seq)] = torch.tensor(seq)
                    mask[row, :len(seq)] = 1
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
                for row, r in enumerate(batch):
                    seq, first = requests[r]
                    lp = torch.log_softmax(logits[row, first - 1:len(seq) - 1], dim=-1)
                    picked = lp.gather(1, torch.tensor(seq[first:]).unsqueeze(1)).squeeze(1)
                    out[r] = float(picked.double().sum())
        return out

    def forward_last(self, sequences, batch_tokens=8192):
        """Logits (f32) at the last position of each sequence, from right-padded batches."""
        torch = self.torch
        order = sorted(range(len(sequences)), key=lambda k: -len(sequences[k]))
        out = [None] * len(sequences)
        k = 0
        with torch.no_grad():
            while k < len(order):
                width = len(sequences[order[k]])
                batch = order[k:k + max(1, batch_tokens // width)]
                k += len(batch)
                ids = torch.zeros((len(batch), width), dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, r in enumerate(batch):
                    ids[row, :len(sequences[r])] = torch.tensor(sequences[r])
                    mask[row, :len(sequences[r])] = 1
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
                for row, r in enumerate(batch):
                    out[r] = logits[row, len(sequences[r]) - 1]
        return out

    def generate(self, items):
        """Greedy decoding of every item: the first maximal logit, until EOS (not part of the output),
        max_tokens new tokens, or the decoded generation containing a stop string; the output is cut
        before the earliest stop string. Each step runs the whole sequence again (no KV cache), all
        unfinished items in one set of batches."""
        torch = self.torch
        states = []
        for it in items:
            ids = self.encode(it["prompt"])
            assert len(ids) + it["max_tokens"] <= MAX_CONTEXT, "item longer than the context"
            states.append({"prompt": ids, "generated": [], "text": "", "margins": [],
                           "done": it["max_tokens"] <= 0})
        while True:
            active = [k for k, st in enumerate(states) if not st["done"]]
            if not active:
                break
            last = self.forward_last([states[k]["prompt"] + states[k]["generated"] for k in active])
            for k, logits in zip(active, last):
                st, it = states[k], items[k]
                token = int(torch.argmax(logits))  # the first maximal index
                top2 = torch.topk(logits, 2).values
                st["margins"].append(float(top2[0] - top2[1]))
                if token == self.eos:
                    st["done"] = True
                    continue
                st["generated"].append(token)
                st["text"] = self.decode(st["generated"])
                if any(s in st["text"] for s in it["stop"]) or len(st["generated"]) >= it["max_tokens"]:
                    st["done"] = True
        results = []
        for st, it in zip(states, items):
            text = st["text"]
            cut = min([text.find(s) for s in it["stop"] if s in text], default=len(text))
            results.append((text[:cut], st["generated"], len(st["prompt"]), st["margins"]))
        return results


def first_argmax(values):
    best = 0
    for k, v in enumerate(values):
        if v > values[best]:
            best = k
    return best


def measure(scorer, name, records, golden=None):
    items = [normalise(r) for r in records]
    t0 = time.time()
    if all(it["kind"] == "choice" for it in items):
        requests, spans = [], []
        for it in items:
            rs = scorer.choice_requests(it)
            spans.append((len(requests), len(rs)))
            requests += rs
        lls = scorer.loglikelihoods(requests)
        right = right_norm = 0
        for n, (it, (a, m)) in enumerate(zip(items, spans)):
            ll = lls[a:a + m]
            acc = first_argmax(ll) == it["gold"]
            acc_norm = first_argmax([v / len(c) for v, c in zip(ll, it["choices"])]) == it["gold"]
            right += acc
            right_norm += acc_norm
            if golden is not None and n < GOLDEN_ITEMS:
                golden.append({"id": records[n]["id"], "ll": ll, "acc": acc, "acc_norm": acc_norm,
                               "context_tokens": requests[a][1],
                               "continuation_tokens": [len(r[0]) - r[1] for r in requests[a:a + m]]})
        result = {"items": len(items), "acc": right / len(items), "acc_norm": right_norm / len(items)}
    else:
        right = 0
        for n, (it, (output, ids, prompt_tokens, margins)) in enumerate(zip(items, scorer.generate(items))):
            ok = output.strip() == it["target"].strip()
            right += ok
            if golden is not None and n < GOLDEN_ITEMS:
                golden.append({"id": records[n]["id"], "prompt_tokens": prompt_tokens, "output": output,
                               "tokens": ids, "correct": ok, "margins": margins})
        result = {"items": len(items), "acc": right / len(items)}
    result["seconds"] = time.time() - t0
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", metavar="MODEL_DIR")
    parser.add_argument("--golden", metavar="OUT.json")
    parser.add_argument("--no-write", action="store_true", help="build in memory only")
    args = parser.parse_args()
    if args.golden and not args.measure:
        parser.error("--golden needs --measure")

    suites, smoke = build()
    if not args.no_write:
        TASKS.mkdir(parents=True, exist_ok=True)
        for name, records in suites.items():
            write_jsonl(TASKS / f"{name}.jsonl", records)
        write_jsonl(TASKS / "smoke.jsonl", smoke)
    for name, records in suites.items():
        print(f"{name}: {len(records)} items")
    if not args.measure:
        return

    import torch
    import transformers
    torch.manual_seed(0)
    scorer = Scorer(args.measure)
    golden = {"model": pathlib.Path(args.measure).name, "items_per_suite": GOLDEN_ITEMS,
              "software": {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__},
              "suites": {}}
    t0 = time.time()
    for name, records in suites.items():
        per_item = []
        r = measure(scorer, name, records, per_item)
        golden["suites"][name] = {"summary": {k: v for k, v in r.items() if k != "seconds"}, "items": per_item}
        extra = f"  acc_norm {r['acc_norm']:.4f}" if "acc_norm" in r else ""
        print(f"{name}: {r['items']} items  acc {r['acc']:.4f}{extra}  ({r['seconds']:.1f} s)")
    smoke_items = [{"prompt": r["prompt"], "target": "", "stop": [], "max_tokens": SMOKE_MAX_TOKENS} for r in smoke]
    golden["smoke"] = {"max_tokens": SMOKE_MAX_TOKENS, "items": [
        {"id": r["id"], "prompt_tokens": n, "output": out, "tokens": ids, "margins": margins}
        for r, (out, ids, n, margins) in zip(smoke, scorer.generate(smoke_items))]}
    eos = sum(len(g["tokens"]) < SMOKE_MAX_TOKENS for g in golden["smoke"]["items"])
    print(f"smoke: {len(smoke)} prompts, {eos} stopped at EOS before {SMOKE_MAX_TOKENS} tokens")
    print(f"context-prefix mismatches: {scorer.prefix_mismatches}; total {time.time() - t0:.1f} s")
    if args.golden:
        pathlib.Path(args.golden).write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
