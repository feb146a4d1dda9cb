"""The prepare and featurize steps of libs/data-prep, written with pandas for a like-for-like timing.

Same params.yaml sections, same rules (null target, impossible values, duplicates, clipping; binary label from
positive_when; seeded stratified split before fitting; train-median imputation; standard scaling; top-K one-hot +
other; date parts), same outputs (prepared parquet, metrics JSON, Float32 feature parquets, meta JSON).
Random draws use numpy, so rows chosen differ from the TypeScript run; the work done is the same.

usage: pandas_pipeline.py prepare|featurize PARAMS OUT_DIR
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd
import yaml


def condition(s, cond):
    m = pd.Series(True, index=s.index)
    if "gt" in cond: m &= s > cond["gt"]
    if "gte" in cond: m &= s >= cond["gte"]
    if "lt" in cond: m &= s < cond["lt"]
    if "lte" in cond: m &= s <= cond["lte"]
    return m


def prepare(params, out):
    data, prep = params["data"], params["prepare"]
    f = data["features"]
    feats = f.get("numeric", []) + f.get("categorical", []) + f.get("datetime", [])
    target = data["target"]["column"]
    df = pd.read_parquet(data["path"])
    for c in [target] + feats:
        if c not in df.columns:
            raise SystemExit(f"{data['path']}: column {c!r} is missing")
    source = len(df)
    if 0 < data["rows"] < source:
        rng = np.random.default_rng(prep["seed"])
        df = df.iloc[np.sort(rng.choice(source, data["rows"], replace=False))]
    df = df[[target] + feats].reset_index(drop=True)
    rows_in = len(df)
    nulls_in = {c: int(v) for c, v in df.isna().sum().items()}
    dropped = {}

    def drop(reason, keep):
        nonlocal df
        before = len(df)
        df = df[keep]
        dropped[reason] = before - len(df)

    drop("null_target", df[target].notna())
    for c, cond in (data.get("valid") or {}).items():
        drop(f"invalid_{c}", df[c].isna() | condition(df[c], cond))
    if prep.get("drop_null_features"):
        drop("null_features", df[feats].notna().all(axis=1))
    if prep.get("drop_duplicates", True):
        before = len(df)
        df = df.drop_duplicates(keep="first")
        dropped["duplicates"] = before - len(df)
    clipped = {}
    for c, b in (data.get("clip") or {}).items():
        lo, hi = b.get("min"), b.get("max")
        clipped[c] = int((df[c] < lo).sum() if lo is not None else 0) + int((df[c] > hi).sum() if hi is not None else 0)
        df[c] = df[c].clip(lower=lo, upper=hi)
    y = condition(df[target], data["target"]["positive_when"]).astype("int32")
    classes = data["target"].get("classes") or ["0", "1"]
    counts = np.bincount(y, minlength=2)
    quality = {
        "rows": {"source": source, "in": rows_in, "out": len(df), "dropped": rows_in - len(df)},
        "dropped": dropped,
        "clipped": clipped,
        "nulls_in": nulls_in,
        "nulls_out": {c: int(v) for c, v in df.isna().sum().items()},
        "class_counts": {c: int(n) for c, n in zip(classes, counts)},
        "class_balance": {c: round(float(n) / len(df), 6) for c, n in zip(classes, counts)},
    }
    os.makedirs(out, exist_ok=True)
    df.to_parquet(os.path.join(out, "data.parquet"), compression="zstd", index=False)
    with open(os.path.join(out, "data_quality.json"), "w") as fh:
        json.dump(quality, fh, indent=2)
    return quality


def featurize(params, out):
    data, fz, sp = params["data"], params["featurize"], params["split"]
    f = data["features"]
    target = data["target"]["column"]
    df = pd.read_parquet(os.path.join(out, "data.parquet"))
    y = condition(df[target], data["target"]["positive_when"]).astype("int32").to_numpy()
    rng = np.random.default_rng(sp["seed"])
    assign = np.zeros(len(df), dtype=np.int8)
    for k in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == k))
        n_train = round(len(idx) * sp["train"])
        n_valid = min(len(idx) - n_train, round(len(idx) * sp["valid"]))
        assign[idx[n_train:n_train + n_valid]] = 1
        assign[idx[n_train + n_valid:]] = 2
    raw = pd.DataFrame({c: df[c].astype("float64") for c in f.get("numeric", [])})
    parts = {"month": "month", "weekday": "day_of_week", "hour": "hour", "day": "day", "year": "year", "minute": "minute"}
    for c in f.get("datetime", []):
        for p in fz["date_parts"]:
            v = getattr(df[c].dt, parts[p]).astype("float64")
            raw[f"{c}_{p}"] = v + 1 if p == "weekday" else v  # ISO weekday 1..7, as polars
    train = assign == 0
    scalers, encoders, cols = {}, {}, {}
    for name in raw.columns:
        tr = raw.loc[train, name]
        fill = float(tr.median())
        filled = tr.fillna(fill)
        mean, std = float(filled.mean()), float(filled.std(ddof=0)) or 1.0
        scalers[name] = {"method": "standard", "impute": fill, "center": mean, "scale": std}
        cols[name] = ((raw[name].fillna(fill) - mean) / std).astype("float32")
    for c in f.get("categorical", []):
        v = df[c].astype("string").fillna("(missing)")
        vc = v[train].value_counts()
        top = sorted(vc.items(), key=lambda kv: (-kv[1], kv[0]))[: fz["top_k"]]
        cats = [k for k, _ in top]
        encoders[c] = {"type": "onehot_topk", "categories": cats}
        for cat in cats:
            cols[f"{c}={cat}"] = (v == cat).astype("float32").to_numpy()
        cols[f"{c}=(other)"] = (~v.isin(cats)).astype("float32").to_numpy()
    feats = pd.DataFrame({k: np.asarray(v) for k, v in cols.items()})
    feats["label"] = y
    fdir = os.path.join(out, "features")
    os.makedirs(fdir, exist_ok=True)
    rows = {}
    for i, s in enumerate(["train", "valid", "test"]):
        part = feats[assign == i]
        rows[s] = len(part)
        part.to_parquet(os.path.join(fdir, f"{s}.parquet"), compression="zstd", index=False)
    meta = {"task": data["task"], "target": target, "labelColumn": "label", "featureNames": list(cols), "rows": rows,
            "encoders": encoders, "scalers": scalers}
    with open(os.path.join(fdir, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=2)
    return meta


if __name__ == "__main__":
    step, params_file, out = sys.argv[1:4]
    with open(params_file) as fh:
        params = yaml.safe_load(fh)
    t0 = time.perf_counter()
    result = prepare(params, out) if step == "prepare" else featurize(params, out)
    summary = result["rows"] if step == "prepare" else {**result["rows"], "features": len(result["featureNames"])}
    print(f"[pandas {step}] {time.perf_counter() - t0:.1f}s {summary}", file=sys.stderr)
