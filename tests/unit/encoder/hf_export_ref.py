"""Reference side of hf_export_test.cpp: load an exported ksparse model folder with Hugging Face
`transformers` as BertForMaskedLM (+ its tokenizer) and compare logits with ours.

usage: hf_export_ref.py MODEL_DIR INPUTS_JSONL OURS_BIN OUT_JSON
       hf_export_ref.py --make-checkpoints MODEL_DIR INPUTS_JSONL OUT_DIR
The second form goes the other way: it saves randomly initialised transformers BertForMaskedLM
and DistilBertForMaskedLM checkpoints (save_pretrained, safetensors) with MODEL_DIR's tokenizer
into OUT_DIR/bert and OUT_DIR/distilbert, and their logits on the padded inputs as
OUT_DIR/bert.bin and OUT_DIR/distilbert.bin (float32 [B, T, V]).
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


def padded(rows, pad_id):
    b, t = len(rows), max(len(r["ids"]) for r in rows)
    ids = torch.zeros((b, t), dtype=torch.long) + pad_id
    mask = torch.zeros((b, t), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r["ids"])] = torch.tensor(r["ids"])
        mask[i, : len(r["ids"])] = 1
    return ids, mask


def make_checkpoints(model_dir, inputs_path, out_dir):
    from transformers import BertConfig, DistilBertConfig, DistilBertForMaskedLM

    rows = [json.loads(line) for line in open(inputs_path, encoding="utf-8") if line.strip()]
    tok = AutoTokenizer.from_pretrained(model_dir)
    v = len(tok)
    torch.manual_seed(17)
    bert = BertForMaskedLM(BertConfig(vocab_size=v, hidden_size=48, num_hidden_layers=2,
                                      num_attention_heads=4, intermediate_size=96,
                                      max_position_embeddings=128, initializer_range=0.2))
    distil = DistilBertForMaskedLM(DistilBertConfig(vocab_size=v, dim=48, n_layers=2, n_heads=4,
                                                    hidden_dim=96, max_position_embeddings=128,
                                                    initializer_range=0.2))
    ids, mask = padded(rows, tok.pad_token_id)
    for name, model in (("bert", bert), ("distilbert", distil)):
        model.eval()
        model.save_pretrained(f"{out_dir}/{name}", safe_serialization=True)
        tok.save_pretrained(f"{out_dir}/{name}")
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits.contiguous().numpy()
        logits.astype(np.float32).tofile(f"{out_dir}/{name}.bin")


def main():
    if sys.argv[1] == "--make-checkpoints":
        make_checkpoints(*sys.argv[2:5])
        return
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
