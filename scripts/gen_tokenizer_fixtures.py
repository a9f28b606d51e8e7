#!/usr/bin/env python3
"""Generates the tokenizer golden fixtures in tests/data/tokenizer/.

  smollm2_golden.jsonl   SmolLM2 (byte-level BPE, smollm pre-tokenizer): ~1,200 varied
                         strings (seeded, deterministic) with their ids from an
                         independent reference -- Hugging Face `tokenizers` built from
                         the GGUF's vocab and merges with SmolLM2's pre-tokenizer
                         (Digits(individual) + ByteLevel) -- cross-checked against
                         llama.cpp (llama-cpp-python, vocab_only).
  stories260k_golden.jsonl  SentencePiece (stories260K.gguf): ~300 strings, reference
                         llama.cpp (no SentencePiece model proto exists for it).
  chat_template_smollm2.jsonl  ChatML prompts rendered by jinja2 from the real
                         tokenizer.chat_template string in the SmolLM2 GGUF.

Each golden line: {"text" | "hex", "ids", optional "ids_special" (parse_special=true),
optional "decoded_special" (llama.cpp detokenize of ids_special), "source"}. "hex"
carries invalid UTF-8, which only llama.cpp can take; those cases have source
"llama.cpp". Where the two references disagree the line keeps llama.cpp's ids (hearth
follows llama.cpp) with "ids_hf" and "disagree": true, and the script prints a summary.

Usage: python3 scripts/gen_tokenizer_fixtures.py  (needs the SmolLM2 model in models/;
pip packages: tokenizers, gguf, llama-cpp-python, jinja2)
"""
import ctypes
import json
import os
import random
import sys
import unicodedata

import gguf
import jinja2
import llama_cpp
from tokenizers import Tokenizer, AddedToken, decoders, models, pre_tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOLLM2 = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
STORIES = os.path.join(ROOT, "tests", "data", "models", "stories260K.gguf")
OUT_DIR = os.path.join(ROOT, "tests", "data", "tokenizer")


# ----------------------------------------------------------------------------- strings

WORDS = ("the quick brown fox jumps over lazy dog hello world tokenizer model language "
         "inference cache memory layer attention rotary embedding quantized weights "
         "Python function return value Paris London Tokyo internationalization "
         "antidisestablishmentarianism HTTPServer getHTTPResponseCode camelCase snake_case "
         "I you we they it is was were be been don't can't won't shouldn't").split()
CONTRACTIONS = ["I'm", "don't", "they're", "we've", "it's", "you'll", "he'd", "DON'T",
                "It'S", "WE'RE", "y'all", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
                "rock'n'roll", "O'Neil", "'quoted'", "it''s", "' re"]
SCRIPTS = {
    "cjk": [(0x4E00, 0x9FA5)], "kana": [(0x3041, 0x3096), (0x30A1, 0x30FA)],
    "hangul": [(0xAC00, 0xD7A3)], "arabic": [(0x0621, 0x063A), (0x0641, 0x064A)],
    "arabic_marks": [(0x064B, 0x0652)], "arabic_digits": [(0x0660, 0x0669)],
    "devanagari": [(0x0905, 0x0939)], "devanagari_marks": [(0x093E, 0x094C)],
    "devanagari_digits": [(0x0966, 0x096F)], "cyrillic": [(0x0410, 0x044F)],
    "greek": [(0x0391, 0x03A9), (0x03B1, 0x03C9)], "thai": [(0x0E01, 0x0E30)],
    "hebrew": [(0x05D0, 0x05EA)], "latin_ext": [(0x00C0, 0x00FF), (0x0100, 0x017F)],
    "combining": [(0x0300, 0x036F)],
}
PHRASES = ["你好，世界！", "東京は日本の首都です。", "안녕하세요 세계", "مرحبا بالعالم",
           "नमस्ते दुनिया", "Привет, мир!", "Γειά σου Κόσμε", "สวัสดีชาวโลก", "שלום עולם",
           "café naïve résumé façade Zoë coöperate", "e\u0301le\u0300ve", "Ångström Ωmega ǅ",
           "Straße ﬁnance ﬀ", "١٢٣ ٤٥٦", "१२३४", "²³ ½ ¾ Ⅻ ⅷ ① ⑩", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛"]
EMOJI = ["😀", "🚀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "1️⃣", "❤️", "✅",
         "🧑🏿‍💻", "👩‍❤️‍💋‍👨", "🤷‍♀️", "🙂🙃", "☕", "⭐️", "🔥🔥🔥"]
CODE = [
    "def f(x):\n    return x * 2\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    "if (a && b || !c) { x->y = z[0]; }",
    '{"key": "value", "n": 42, "list": [1, 2.5, -3e10], "ok": true}',
    "<div class=\"main\"><p>Hello&nbsp;world</p></div>",
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "#include <vector>\nstd::vector<int> v{1,2,3};",
    "x = [i**2 for i in range(10) if i % 2 == 0]",
    "fn main() { println!(\"{}\", 0xFF_u8 as i32); }",
    "$ ls -la | grep '^d' && echo $HOME",
    "    indented\n        more\n\t\ttabs\n",
    "a=b+c-d*e/f%g^h|i&j~k<l>m",
    "// comment\n/* block */\n# hash\n-- sql",
    "assert!(x != y && y <= z);",
]
PUNCT = ["!!!", "...", "?!?!", "---", "***", "~~~", "«»", "“quoted”", "‘single’", "—",
         "…", "¿Qué?", "¡Hola!", "(parens)", "[brackets]", "{braces}", "@#$%^&*",
         "::", ";;", "!!!!!!!!!!!!!!!!", "''''", '""', "``", "||", "...?", "?!..."]
SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n ", "\t\t", "\u00a0",
          "\u3000", "\u2003", "\u200b", "\u2028", "\x0b", "\x0c", "\x1c", "\x1f",
          "\u0085", " \t \n", "        "]
SPECIAL = ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<repo_name>", "<file_sep>",
           "<jupyter_code>"]
NUMBERS = ["0", "7", "42", "123", "1234", "12345", "3.14159", "1,234,567", "-273.15",
           "1e-9", "0x1F", "2024-01-15", "+1 (555) 123-4567", "99.9%", "$1,000,000",
           "10^6", "1/2", "007"]


def rand_from(rng, ranges, n):
    out = []
    for _ in range(n):
        lo, hi = rng.choice(ranges)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def rand_number(rng):
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 40)))


def rand_assigned(rng, n):
    """Random assigned, non-surrogate codepoints from everywhere (category stress)."""
    out = []
    while len(out) < n:
        cp = rng.randint(0x80, 0x2FFFF) if rng.random() < 0.9 else rng.randint(0x80, 0x7FF)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(chr(cp)) == "Cn":
            continue
        out.append(chr(cp))
    return "".join(out)


def sentence(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
    words = [w.capitalize() if rng.random() < 0.2 else (w.upper() if rng.random() < 0.05 else w)
             for w in words]
    return " ".join(words) + rng.choice([".", "!", "?", ",", "", ";", " :)"])


def piece(rng):
    kind = rng.randrange(10)
    if kind == 0:
        return sentence(rng)
    if kind == 1:
        return rng.choice(CONTRACTIONS)
    if kind == 2:
        name = rng.choice(sorted(SCRIPTS))
        return rand_from(rng, SCRIPTS[name], rng.randint(1, 12))
    if kind == 3:
        return rng.choice(PHRASES)
    if kind == 4:
        return rng.choice(EMOJI)
    if kind == 5:
        return rng.choice(CODE)
    if kind == 6:
        return rng.choice(PUNCT)
    if kind == 7:
        return rng.choice(SPACES)
    if kind == 8:
        return rng.choice(NUMBERS) if rng.random() < 0.5 else rand_number(rng)
    return rand_assigned(rng, rng.randint(1, 6))


def joiner(rng):
    return rng.choice(["", " ", " ", " ", "\n", "  ", "\t"])


def make_strings(seed, count, with_special):
    rng = random.Random(seed)
    out = []
    # Fixed edge cases first.
    out += ["", " ", "  ", "\n", "\t", "a", "A", "'", "''", "'s", "1", "11", "111",
            "Hello", " Hello", "  Hello", "Hello world", "\r\n\r\n", " \n", "\n ",
            "   trailing   ", "\u00a0\u00a0x", "x\u3000\u3000y"]
    categories = [lambda: sentence(rng), lambda: rng.choice(CONTRACTIONS) + " " + sentence(rng),
                  lambda: rng.choice(PHRASES), lambda: rng.choice(CODE),
                  lambda: rand_number(rng), lambda: "".join(rng.choice(SPACES) for _ in range(4)),
                  lambda: "".join(rng.choice(EMOJI) for _ in range(3)),
                  lambda: rng.choice(PUNCT) * rng.randint(1, 3),
                  lambda: rand_assigned(rng, rng.randint(1, 24))]
    while len(out) < count:
        r = rng.random()
        if r < 0.35:
            s = rng.choice(categories)()
        else:
            s = joiner(rng).join(piece(rng) for _ in range(rng.randint(2, 7)))
        if with_special and rng.random() < 0.12:
            parts = [rng.choice(SPECIAL) if rng.random() < 0.4 else piece(rng)
                     for _ in range(rng.randint(2, 6))]
            s = "".join(parts)
        out.append(s)
    return out


# ----------------------------------------------------------------------------- references

def read_gguf_tokenizer(path):
    reader = gguf.GGUFReader(path)
    def strings(key):
        f = reader.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    def ints(key):
        f = reader.fields[key]
        return [int(f.parts[i][0]) for i in f.data]
    tmpl = reader.fields.get("tokenizer.chat_template")
    return {
        "tokens": strings("tokenizer.ggml.tokens"),
        "types": ints("tokenizer.ggml.token_type"),
        "merges": strings("tokenizer.ggml.merges") if "tokenizer.ggml.merges" in reader.fields else [],
        "chat_template": bytes(tmpl.parts[tmpl.data[0]]).decode("utf-8") if tmpl else None,
    }


def hf_smollm2(meta, with_special):
    vocab = {t: i for i, t in enumerate(meta["tokens"])}
    merges = [tuple(m.split(" ", 1)) for m in meta["merges"]]
    tok = Tokenizer(models.BPE(vocab, merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    if with_special:
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                for t, ty in zip(meta["tokens"], meta["types"]) if ty == 3])
    return tok


class LlamaCpp:
    def __init__(self, path):
        self.llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
        self.vocab = self.llm._model.vocab

    def tokenize(self, data, special=False):
        return self.llm.tokenize(data, add_bos=False, special=special)

    def detokenize(self, ids):
        """llama_detokenize(remove_special=false, unparse_special=false), which the Python
        wrapper's detokenize() is not (it strips a space after BOS itself)."""
        arr = (llama_cpp.llama_token * len(ids))(*ids)
        size = 1 << 20
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(self.vocab, arr, len(ids), buf, size, False, False)
        assert n >= 0
        return buf.raw[:n]


INVALID_UTF8 = [b"\xff", b"abc\xffdef", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xe2\x82 x",
                b"\xf0\x9f\x98", b"\x80\x80\x80", b"caf\xe9", b"\xed\xa0\x80",
                b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"ok \xfe\xff ok", b"12\xff34",
                b"\xe4\xbd\xa0\xe5\xa5", b"  \xa0  "]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    print("wrote %s (%d lines, %d bytes)" % (os.path.relpath(path, ROOT), len(rows),
                                              os.path.getsize(path)))


def gen_smollm2():
    meta = read_gguf_tokenizer(SMOLLM2)
    hf_plain = hf_smollm2(meta, with_special=False)
    hf_special = hf_smollm2(meta, with_special=True)
    ref = LlamaCpp(SMOLLM2)
    rows, disagreements = [], []
    texts = make_strings(seed=20240601, count=1200, with_special=True)
    for text in texts:
        hf_ids = hf_plain.encode(text, add_special_tokens=False).ids
        cpp_ids = ref.tokenize(text.encode("utf-8"))
        row = {"text": text, "ids": cpp_ids, "source": "hf+llama.cpp"}
        if hf_ids != cpp_ids:
            row.update(ids_hf=hf_ids, disagree=True, source="llama.cpp")
            disagreements.append((text, hf_ids, cpp_ids))
        if any(s in text for s in SPECIAL):
            hf_sp = hf_special.encode(text, add_special_tokens=False).ids
            cpp_sp = ref.tokenize(text.encode("utf-8"), special=True)
            row["ids_special"] = cpp_sp
            row["decoded_special"] = ref.detokenize(cpp_sp).decode("utf-8")
            if hf_sp != cpp_sp:
                row.update(ids_special_hf=hf_sp, disagree=True, source="llama.cpp")
                disagreements.append((text + "  [parse_special]", hf_sp, cpp_sp))
        rows.append(row)
    for data in INVALID_UTF8:
        rows.append({"hex": data.hex(), "ids": ref.tokenize(data), "source": "llama.cpp"})
    write_jsonl(os.path.join(OUT_DIR, "smollm2_golden.jsonl"), rows)
    print("SmolLM2: %d strings, HF tokenizers vs llama.cpp disagreements: %d"
          % (len(texts), len(disagreements)))
    for text, hf_ids, cpp_ids in disagreements:
        print("  DISAGREE %r\n    hf:    %s\n    llama: %s" % (text, hf_ids, cpp_ids))
    return meta


def gen_stories():
    ref = LlamaCpp(STORIES)
    rows = []
    texts = make_strings(seed=777, count=300, with_special=False)
    texts += ["<s>hi</s>", "a<s>b", "<unk>", " <s> x"]
    for text in texts:
        row = {"text": text, "ids": ref.tokenize(text.encode("utf-8")), "source": "llama.cpp"}
        if "<s>" in text or "<unk>" in text:
            row["ids_special"] = ref.tokenize(text.encode("utf-8"), special=True)
            row["decoded_special"] = ref.detokenize(row["ids_special"]).decode("utf-8")
        rows.append(row)
    for data in INVALID_UTF8:
        rows.append({"hex": data.hex(), "ids": ref.tokenize(data), "source": "llama.cpp"})
    write_jsonl(os.path.join(OUT_DIR, "stories260k_golden.jsonl"), rows)


CONVERSATIONS = [
    [("user", "Hello!")],
    [("system", "You are a pirate."), ("user", "Where is the treasure?")],
    [("user", "What is 2+2?"), ("assistant", "4"), ("user", "And 3+3?")],
    [("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello."), ("user", "Bye")],
    [("user", "  spaces around  "), ("assistant", "multi\nline\n\nanswer")],
    [("user", "Ünïcödé 你好 🚀"), ("assistant", "<b>html</b> & 'quotes' \"double\"")],
    [("assistant", "I speak first")],
    [("user", "")],
    [],
]


def gen_chat(meta):
    env = jinja2.Environment()
    template = env.from_string(meta["chat_template"])
    rows = []
    for conv in CONVERSATIONS:
        for add_gen in (False, True):
            messages = [{"role": r, "content": c} for r, c in conv]
            rows.append({"messages": messages, "add_generation_prompt": add_gen,
                         "expected": template.render(messages=messages,
                                                     add_generation_prompt=add_gen)})
    write_jsonl(os.path.join(OUT_DIR, "chat_template_smollm2.jsonl"), rows)


def main():
    if not os.path.exists(SMOLLM2):
        sys.exit("%s is missing: run the setup script to extract the model" % SMOLLM2)
    os.makedirs(OUT_DIR, exist_ok=True)
    meta = gen_smollm2()
    gen_stories()
    gen_chat(meta)


if __name__ == "__main__":
    main()
