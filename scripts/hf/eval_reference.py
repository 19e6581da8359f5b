#!/usr/bin/env python3
"""Perplexity of a model over the built-in evaluation text, from Hugging Face `transformers`.

tests/gpu/eval.test.ts holds the f32 engine's teacher-forced perplexity to this (1e-4 relative).
The text is read from src/bench/eval/builtin_text.ts (the template literal BUILTIN_EVAL_TEXT);
the windows are src/bench/eval.ts's evalWindows: [begin, end) every `stride` tokens, each scoring
the tokens from max(previous end, begin + 1) to end, predicted from the logits one row before.
Run it where torch and transformers are installed; no network (everything is read locally):

    python3 scripts/hf/eval_reference.py --model PATH/pycode-20M --context 1024 --stride 512 \
        --out tests/data/eval/pycode-20M-builtin-v1.json
"""

import argparse
import json
import math
import platform
import re

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer


def builtin_text(path):
    src = open(path, encoding="utf-8").read()
    m = re.search(r"BUILTIN_EVAL_TEXT = `(.*?)`;", src, re.S)
    if not m:
        raise SystemExit(f"no BUILTIN_EVAL_TEXT template literal in {path}")
    name = re.search(r"BUILTIN_EVAL_NAME = '([^']+)'", src).group(1)
    return name, m.group(1)


def windows(n, context, stride):
    assert 1 <= stride < context
    out, prev_end, begin = [], 0, 0
    while begin < n:
        end = min(begin + context, n)
        out.append((begin, end, max(prev_end, begin + 1)))
        prev_end = end
        if end == n:
            break
        begin += stride
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", default="src/bench/eval/builtin_text.ts")
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--stride", type=int, default=512)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    name, text = builtin_text(a.text)
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    ids = tok(text)["input_ids"]
    nll, count = 0.0, 0
    per_window = []
    with torch.no_grad():
        for begin, end, frm in windows(len(ids), a.context, a.stride):
            logits = model(torch.tensor([ids[begin:end]])).logits[0].double()
            logp = torch.log_softmax(logits, dim=-1)
            w = 0.0
            for t in range(frm, end):
                w -= logp[t - 1 - begin, ids[t]].item()
            nll += w
            count += end - frm
            per_window.append({"begin": begin, "end": end, "from": frm, "nll": w})
    out = {
        "text": name,
        "model": a.model.rstrip("/").split("/")[-1],
        "context": a.context,
        "stride": a.stride,
        "input_ids": ids,
        "positions": count,
        "nll_sum": nll,
        "perplexity": math.exp(nll / count),
        "windows": per_window,
        "oracle": f"transformers {transformers.__version__}, torch {torch.__version__}, float32 on CPU (log-softmax in float64), python {platform.python_version()}",
    }
    with open(a.out, "w") as f:
        json.dump(out, f)
    print(f"{name}: {len(ids)} tokens, {count} positions, perplexity {out['perplexity']:.6f}")


if __name__ == "__main__":
    main()
