#!/usr/bin/env python3
"""Reference side of tests/integration/tokenizer_hf_test.cpp.

corpus: writes Korean/English/mixed text lines drawn from the shared data (KorQuAD contexts split
        into sentences and questions, Wikinews titles and body sentences, lexicon lines).
encode: encodes each line of a file with Hugging Face `tokenizers` and writes one JSON object
        {"ids", "tokens", "decoded"} per line, from a tokenizer.json or from a vocab.txt loaded with
        BertWordPieceTokenizer.
"""
import argparse
import csv
import json
import re
import sys

SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def sentences(text):
    for para in text.splitlines():
        for s in SENTENCE_END.split(para):
            s = s.strip()
            if s:
                yield s


def corpus(args):
    lines = []
    with open(f"{args.data}/korquad-v1/KorQuAD_v1.0_dev.json", encoding="utf-8") as f:
        korquad = json.load(f)
    for article in korquad["data"]:
        for para in article["paragraphs"]:
            lines.extend(sentences(para["context"]))
            lines.extend(qa["question"].strip() for qa in para["qas"])
    csv.field_size_limit(sys.maxsize)
    with open(f"{args.data}/wikinews-ko/wikinews.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            lines.append(row["제목"].strip())
            lines.extend(sentences(row["내용"]))
    for name in ("muse-ko-en.0-5000.txt", "wiktionary-en-ko.txt"):
        with open(f"{args.data}/lexicon/{name}", encoding="utf-8") as f:
            lines.extend(l.strip() for l in f if l.strip() and not l.startswith("#"))
    # The CLI reads one text per line: keep texts free of line breaks (clean_text handles the rest).
    lines = [l.replace("\r", " ").replace("\n", " ") for l in lines if l]
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for l in lines:
            f.write(l + "\n")
    print(len(lines))


def encode(args):
    if args.tokenizer:
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(args.tokenizer)
    else:
        from tokenizers import BertWordPieceTokenizer
        # --strip-accents -1 leaves it unset: it then follows lowercase, as in BERT uncased.
        strip = None if args.strip_accents < 0 else args.strip_accents == 1
        tok = BertWordPieceTokenizer(args.vocab, lowercase=args.lowercase == 1, strip_accents=strip,
                                     clean_text=True, handle_chinese_chars=True)
    if args.max_length > 0:
        tok.enable_truncation(max_length=args.max_length)
    with open(args.input, encoding="utf-8", newline="\n") as f:
        texts = [l[:-1] if l.endswith("\n") else l for l in f]
    texts = [t[:-1] if t.endswith("\r") else t for t in texts]
    with open(args.out, "w", encoding="utf-8") as out:
        for enc in tok.encode_batch(texts):
            out.write(json.dumps({"ids": enc.ids, "tokens": enc.tokens,
                                  "decoded": tok.decode(enc.ids)}, ensure_ascii=False) + "\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--data", required=True)
    c.add_argument("--out", required=True)
    e = sub.add_parser("encode")
    e.add_argument("--tokenizer")
    e.add_argument("--vocab")
    e.add_argument("--lowercase", type=int, default=1)
    e.add_argument("--strip-accents", type=int, default=0)
    e.add_argument("--max-length", type=int, default=0)
    e.add_argument("--input", required=True)
    e.add_argument("--out", required=True)
    args = p.parse_args()
    corpus(args) if args.cmd == "corpus" else encode(args)


if __name__ == "__main__":
    main()
