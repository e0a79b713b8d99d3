"""Reference side of hf_export_test.cpp: load an exported ksparse model folder with Hugging Face
`transformers` as BertForMaskedLM (+ its tokenizer) and compare logits with ours.

usage: hf_export_ref.py MODEL_DIR INPUTS_JSONL OURS_BIN OUT_JSON
INPUTS_JSONL: one {"text", "ids"} per line; OURS_BIN: our logits [B, T, V] float32 (padded batch,
T = longest ids). Writes {"max_abs_diff", "inputs", "tokenizer_mismatches", "missing_keys",
"unexpected_keys", "transformers"} to OUT_JSON.
"""
import json
import sys

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, BertForMaskedLM


def main():
    model_dir, inputs_path, ours_path, out_path = sys.argv[1:5]
    rows = [json.loads(line) for line in open(inputs_path, encoding="utf-8") if line.strip()]
    model, info = BertForMaskedLM.from_pretrained(model_dir, output_loading_info=True)
    model.eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    mismatches = 0
    for r in rows:
        theirs = tok(r["text"], truncation=True, max_length=len(r["ids"]) + 1000)["input_ids"]
        if theirs != r["ids"]:
            mismatches += 1
    b, t = len(rows), max(len(r["ids"]) for r in rows)
    ids = torch.zeros((b, t), dtype=torch.long) + tok.pad_token_id
    mask = torch.zeros((b, t), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r["ids"])] = torch.tensor(r["ids"])
        mask[i, : len(r["ids"])] = 1
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.numpy()
    ours = np.fromfile(ours_path, dtype=np.float32).reshape(logits.shape)
    diff = 0.0
    for i, r in enumerate(rows):
        n = len(r["ids"])
        diff = max(diff, float(np.abs(logits[i, :n] - ours[i, :n]).max()))
    out = {
        "max_abs_diff": diff,
        "inputs": b,
        "tokenizer_mismatches": mismatches,
        "missing_keys": info["missing_keys"],
        "unexpected_keys": info["unexpected_keys"],
        "mismatched_keys": [str(k) for k in info["mismatched_keys"]],
        "logit_abs_max": float(np.abs(logits).max()),
        "transformers": transformers.__version__,
    }
    json.dump(out, open(out_path, "w"))


if __name__ == "__main__":
    main()
