"""Reference evaluation with pytrec_eval (trec_eval) for the eval parity test.

usage: pytrec_compare.py QRELS RUN METRICS

QRELS is a BEIR qrels TSV (optional "query-id" header), RUN a TREC run, METRICS ksparse metric
names ("ndcg@10,mrr@10,recall@100,map@100,p@10"). Prints one JSON object shaped like
`ksparse eval --json --per-query`: {metric: mean, ..., "per_query": {qid: {metric: value}}}.

The query set follows ksparse's documented convention, applied here on top of pytrec_eval:
queries in the qrels with no relevant (grade > 0) judgement are dropped; judged queries absent
from the run are given an empty ranking, so pytrec_eval itself scores them (0); the mean is over
the remaining queries. The file is parsed here independently of ksparse's readers.
"""

import json
import sys

import pytrec_eval


def read_qrels(path):
    qrels = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            line = line.rstrip("\r\n")
            if not line or (n == 0 and line.startswith("query-id")):
                continue
            qid, did, grade = line.split("\t")
            qrels.setdefault(qid, {})[did] = int(grade)
    return qrels


def read_run(path):
    run = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            qid, _, did, _, score, _ = parts
            run.setdefault(qid, {})[did] = float(score)
    return run


def measure_for(metric):
    base, k = metric.split("@")
    k = int(k)
    if base == "ndcg":
        return "ndcg_cut_%d" % k
    if base == "recall":
        return "recall_%d" % k
    if base == "map":
        return "map_cut_%d" % k
    if base == "p":
        return "P_%d" % k
    if base == "mrr":
        # recip_rank has no cutoff; MRR@k is derived from it below.
        return "recip_rank"
    raise SystemExit("unknown metric " + metric)


def main():
    qrels_path, run_path, metric_list = sys.argv[1:4]
    metrics = [m.strip().lower() for m in metric_list.split(",") if m.strip()]
    qrels = read_qrels(qrels_path)
    run = read_run(run_path)
    evaluated = sorted(q for q, j in qrels.items() if any(g > 0 for g in j.values()))
    for q in evaluated:
        run.setdefault(q, {})
    measures = {measure_for(m) for m in metrics}
    results = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)

    per_query = {}
    for q in evaluated:
        row = {}
        for m in metrics:
            value = results[q][measure_for(m)]
            if m.startswith("mrr@"):
                # trec_eval ranks the run itself; the first relevant doc is within the top k iff
                # its rank 1/rr <= k. This avoids re-implementing trec_eval's tie order here.
                k = int(m.split("@")[1])
                value = value if value > 0 and round(1.0 / value) <= k else 0.0
            row[m] = value
        per_query[q] = row
    out = {}
    for m in metrics:
        out[m] = sum(per_query[q][m] for q in evaluated) / len(evaluated) if evaluated else 0.0
    out["per_query"] = per_query
    print(json.dumps(out))


if __name__ == "__main__":
    main()
