"""Oracle for the report's statistics: reads {cases: [{labels, proba (rows × k)}]} on stdin, prints scikit-learn's values."""
import json
import sys

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, f1_score, log_loss, precision_recall_curve,
                             precision_score, recall_score, roc_auc_score, roc_curve)

out = []
for case in json.load(sys.stdin)["cases"]:
    y = np.asarray(case["labels"])
    p = np.asarray(case["proba"], dtype=np.float64)
    k = p.shape[1]
    pred = p.argmax(axis=1)
    r = {"accuracy": accuracy_score(y, pred), "log_loss": log_loss(y, np.clip(p, 1e-7, 1 - 1e-7) / np.clip(p, 1e-7, 1 - 1e-7).sum(axis=1, keepdims=True), labels=list(range(k)))}
    if k == 2:
        s = p[:, 1]
        fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
        prec, rec, pthr = precision_recall_curve(y, s)
        r.update(roc_auc=roc_auc_score(y, s), average_precision=average_precision_score(y, s),
                 f1=f1_score(y, pred, zero_division=0), precision=precision_score(y, pred, zero_division=0),
                 recall=recall_score(y, pred, zero_division=0),
                 roc={"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr[1:].tolist()},
                 pr={"precision": prec.tolist(), "recall": rec.tolist(), "thresholds": pthr.tolist()})
    else:
        r.update(roc_auc=roc_auc_score(y, p, multi_class="ovr", average="macro"),
                 f1=f1_score(y, pred, average="macro", zero_division=0),
                 precision=precision_score(y, pred, average="macro", zero_division=0),
                 recall=recall_score(y, pred, average="macro", zero_division=0))
    out.append(r)
print(json.dumps(out))
