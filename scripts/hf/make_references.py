#!/usr/bin/env python3
"""Reference token ids, decodes and chat templates from Hugging Face `transformers`.

tests/unit/hf_tokenizers.test.ts compares the app's tokenizer (@huggingface/tokenizers and
@huggingface/jinja) with what this script records. Run it where `transformers` is installed; it
needs no network (everything is read from the local fixture folders):

    python3 scripts/hf/make_references.py --fixtures ../shared/fixtures --out tests/data

For every folder <fixtures>/tokenizers/<preset>/ holding a tokenizer.json it loads
`AutoTokenizer.from_pretrained(folder)` and writes <out>/tokenizers/<preset>.json with:
  - cases: `tokenizer(text, add_special_tokens=X)["input_ids"]` for every text of
    <out>/tokenizers/texts.json and X in (True, False); `json_ids` is added where the
    `tokenizers` library running tokenizer.json directly gives other ids (a diagnostic: then
    transformers' tokenizer class does not follow tokenizer.json);
  - decodes: `decode(ids_with_special_tokens, skip_special_tokens=S)` for every text, S in (False, True);
  - chat: `apply_chat_template(messages, tokenize=False / True, add_generation_prompt=...)` for a few
    conversations, where tokenizer_config.json has a chat template. Templates that print today's
    date (strftime_now) are also rendered with a fixed `date_string` and with a fixed clock.
Only torch (optional), transformers and tokenizers (and jinja2, which transformers needs) are used.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import traceback

# Before transformers is imported: never reach for the hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

# A fixed clock and a fixed date_string, both unlike the template's own fallback ("26 Jul 2024"),
# so a render that ignored them is seen.
FIXED_CLOCK = dt.datetime(2025, 3, 7, 14, 5, 9)
FIXED_DATE_STRING = "01 Feb 2023"

CONVERSATIONS = [
    ("single user turn", [{"role": "user", "content": "What is the capital of France?"}]),
    (
        "system and user",
        [
            {"role": "system", "content": "You are a terse assistant. Answer in one sentence."},
            {"role": "user", "content": "Why is the sky blue?"},
        ],
    ),
    (
        "multi-turn",
        [
            {"role": "user", "content": "Write a haiku about GPUs."},
            {"role": "assistant", "content": "Silicon rivers\nthousands of cores hum in sync\nmatrices bloom bright"},
            {"role": "user", "content": "Now one about tokenizers, please."},
        ],
    ),
    (
        "special characters",
        [
            {"role": "system", "content": "  Be careful with {{ braces }} and {% tags %}.\n\n"},
            {
                "role": "user",
                "content": "Line one\nLine two\r\n\tindented <|im_end|> </s> <|eot_id|> 😀 café — \"quotes\" 'single' \\backslash  ",
            },
        ],
    ),
]


def versions():
    v = {"python": platform.python_version(), "transformers": transformers.__version__, "tokenizers": tokenizers.__version__}
    for name in ("torch", "jinja2"):
        try:
            v[name] = __import__(name).__version__
        except Exception as e:  # torch is optional: nothing here needs it
            v[name] = f"unavailable: {type(e).__name__}"
    v["platform"] = platform.platform()
    return v


def as_ids(out):
    """apply_chat_template(tokenize=True) returns a list in 4.x and a BatchEncoding/dict in 5.x."""
    if hasattr(out, "keys") and "input_ids" in out.keys():
        out = out["input_ids"]
    if hasattr(out, "tolist"):
        out = out.tolist()
    out = list(out)
    if out and isinstance(out[0], (list, tuple)):
        assert len(out) == 1, "one conversation gave several sequences"
        out = list(out[0])
    return [int(i) for i in out]


def err(e):
    return f"{type(e).__name__}: {e}"


class FixedDatetime(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_CLOCK if tz is None else FIXED_CLOCK.replace(tzinfo=tz)


def render_with_patched_clock(tok, messages, agp):
    """The default path (the template calls the strftime_now that transformers provides) with
    transformers' clock pinned. Returns (text, ids, how)."""
    import transformers.utils.chat_template_utils as ctu

    saved = ctu.__dict__.get("datetime")
    if saved is dt.datetime:
        ctu.datetime = FixedDatetime
        how = "patched transformers.utils.chat_template_utils.datetime"
    elif saved is dt:
        ctu.datetime = type("datetime_module", (), {"datetime": FixedDatetime})
        how = "patched transformers.utils.chat_template_utils.datetime (module)"
    else:
        how = None
    try:
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=agp)
        ids = as_ids(tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=agp))
    finally:
        if how:
            ctu.datetime = saved
    if how and FIXED_CLOCK.strftime("%d %b %Y") in text:
        return text, ids, how
    # Fallback: set the global on the compiled template's jinja environment (cached by transformers).
    compile_fn = getattr(ctu, "_compile_jinja_template", None)
    if compile_fn is None:
        return text, ids, (how or "no patch found") + ", did not take"
    env = compile_fn(tok.chat_template).environment
    saved_fn = env.globals.get("strftime_now")
    env.globals["strftime_now"] = lambda fmt: FIXED_CLOCK.strftime(fmt)
    try:
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=agp)
        ids = as_ids(tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=agp))
    finally:
        env.globals["strftime_now"] = saved_fn
    return text, ids, "patched the compiled template's jinja globals"


def chat_entry(tok, name, messages, agp, variant):
    e = {"name": name, "messages": messages, "add_generation_prompt": agp, "variant": variant}
    try:
        if variant == "default":
            e["clock"] = dt.datetime.now().isoformat()
            e["text"] = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=agp)
            e["ids"] = as_ids(tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=agp))
        elif variant == "date_string":
            e["date_string"] = FIXED_DATE_STRING
            kw = {"date_string": FIXED_DATE_STRING}
            e["text"] = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=agp, **kw)
            e["ids"] = as_ids(tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=agp, **kw))
            e["override_worked"] = FIXED_DATE_STRING in e["text"]
        elif variant == "strftime_kwarg":
            # transformers passes extra kwargs to the template, where they shadow jinja globals.
            e["clock"] = FIXED_CLOCK.isoformat()
            kw = {"strftime_now": lambda fmt: FIXED_CLOCK.strftime(fmt)}
            e["text"] = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=agp, **kw)
            e["ids"] = as_ids(tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=agp, **kw))
            e["override_worked"] = FIXED_CLOCK.strftime("%d %b %Y") in e["text"]
        elif variant == "strftime_patched":
            e["clock"] = FIXED_CLOCK.isoformat()
            e["text"], e["ids"], e["how"] = render_with_patched_clock(tok, messages, agp)
            e["override_worked"] = FIXED_CLOCK.strftime("%d %b %Y") in e["text"]
        else:
            raise ValueError(variant)
        plain = tok(e["text"], add_special_tokens=False)["input_ids"]
        if list(plain) != e["ids"]:
            e["ids_of_text"] = list(plain)  # apply_chat_template(tokenize=True) differed from encoding its text
    except Exception as ex:
        e["error"] = err(ex)
        e["traceback"] = traceback.format_exc(limit=4)
    return e


def chat_template_of(tok):
    t = getattr(tok, "chat_template", None)
    if isinstance(t, dict):
        t = t.get("default")
    return t if isinstance(t, str) else None


def dump(ref, path):
    """One case per line: readable diffs without a line per token id."""
    lines = ["{"]
    keys = list(ref.keys())
    for k_i, k in enumerate(keys):
        v = ref[k]
        comma = "," if k_i < len(keys) - 1 else ""
        if isinstance(v, list):
            lines.append(f"  {json.dumps(k)}: [")
            for i, item in enumerate(v):
                lines.append("    " + json.dumps(item, ensure_ascii=False) + ("," if i < len(v) - 1 else ""))
            lines.append("  ]" + comma)
        else:
            lines.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{comma}")
    lines.append("}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def make_reference(folder, name, texts, texts_sha256, tool_versions):
    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    raw = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    raw.no_padding()
    raw.no_truncation()
    ref = {
        "preset": name,
        "made_by": "scripts/hf/make_references.py",
        "tool_versions": tool_versions,
        "tokenizer_class": type(tok).__name__,
        "texts_sha256": texts_sha256,
        "texts_count": len(texts),
        "special_tokens": {k: str(getattr(tok, k, None)) if getattr(tok, k, None) is not None else None for k in ("bos_token", "eos_token", "pad_token", "unk_token")},
        "fixed_clock": FIXED_CLOCK.isoformat(),
    }
    cases, decodes, errors = [], [], []
    for i, text in enumerate(texts):
        for special in (True, False):
            c = {"text": i, "special": special}
            try:
                c["ids"] = [int(t) for t in tok(text, add_special_tokens=special)["input_ids"]]
                json_ids = raw.encode(text, add_special_tokens=special).ids
                if list(json_ids) != c["ids"]:
                    c["json_ids"] = list(json_ids)
            except Exception as ex:
                c["error"] = err(ex)
                errors.append(f"encode {i} special={special}: {c['error']}")
            cases.append(c)
        with_special = next((c.get("ids") for c in cases if c["text"] == i and c["special"]), None)
        for skip in (False, True):
            d = {"text": i, "skip_special_tokens": skip, "ids": with_special}
            try:
                d["decoded"] = tok.decode(with_special, skip_special_tokens=skip)
            except Exception as ex:
                d["error"] = err(ex)
                errors.append(f"decode {i} skip={skip}: {d['error']}")
            decodes.append(d)
    chat = []
    template = chat_template_of(tok)
    ref["has_chat_template"] = template is not None
    if template is not None:
        reads_date = "strftime_now" in template or "date_string" in template
        for cname, messages in CONVERSATIONS:
            variants = ["default", "date_string", "strftime_kwarg", "strftime_patched"] if reads_date else ["default"]
            for variant in variants:
                chat.append(chat_entry(tok, cname, messages, True, variant))
            if cname == "multi-turn":
                chat.append(chat_entry(tok, cname, messages, False, variants[-1]))
        errors += [f"chat {e['name']} ({e['variant']}): {e['error']}" for e in chat if "error" in e]
    ref["cases"] = cases
    ref["decodes"] = decodes
    ref["chat"] = chat
    return ref, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", required=True, help="the shared fixtures folder (holds tokenizers/<preset>/)")
    ap.add_argument("--out", required=True, help="the tests/data folder (reads tokenizers/texts.json, writes tokenizers/<preset>.json)")
    ap.add_argument("--only", nargs="*", help="presets to make (default: every folder with a tokenizer.json)")
    args = ap.parse_args()

    texts_path = os.path.join(args.out, "tokenizers", "texts.json")
    with open(texts_path, "rb") as f:
        raw_texts = f.read()
    texts = [t["text"] for t in json.loads(raw_texts.decode("utf-8"))["texts"]]
    texts_sha256 = hashlib.sha256(raw_texts).hexdigest()
    tool_versions = versions()
    print(f"transformers {tool_versions['transformers']}, tokenizers {tool_versions['tokenizers']}, {len(texts)} texts", flush=True)

    root = os.path.join(args.fixtures, "tokenizers")
    presets = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "tokenizer.json")))
    if args.only:
        presets = [p for p in presets if p in args.only]
    if not presets:
        sys.exit(f"no tokenizer folders under {root}")
    failed = []
    for name in presets:
        try:
            ref, errors = make_reference(os.path.join(root, name), name, texts, texts_sha256, tool_versions)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        out = os.path.join(args.out, "tokenizers", f"{name}.json")
        dump(ref, out)
        differ = sum(1 for c in ref["cases"] if "json_ids" in c)
        dates = [(e["variant"], e.get("override_worked"), e.get("how")) for e in ref["chat"] if e["variant"] != "default" and e["name"] == "single user turn"]
        print(f"{name}: {ref['tokenizer_class']}, {len(ref['cases'])} cases ({differ} differ from tokenizer.json run directly), "
              f"{len(ref['chat'])} chat renders, date overrides {dates} -> {out}", flush=True)
        for line in errors:
            print(f"  ERROR {line}", flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
