"""The prepare and featurize steps of libs/data-prep, written with Python polars (the engine nodejs-polars wraps).

The same steps as pandas_pipeline.py (and the TypeScript stages): same params.yaml sections and rules (null
target, impossible values, duplicates keeping the first, clipping; binary label from positive_when; seeded
stratified split before fitting; train-median imputation; standard scaling; top-K one-hot + other; date parts),
same outputs (prepared parquet, metrics JSON, Float32 feature parquets with an Int32 label, meta JSON), written as
one would in polars: expressions over whole columns, the splits cut by filters. Random draws use numpy, so rows
chosen differ from the TypeScript run; the work done is the same.

usage: polars_pipeline.py prepare|featurize PARAMS OUT_DIR
"""
import json
import os
import sys
import time

import numpy as np
import polars as pl
import yaml


def condition(col, cond):
    e = pl.lit(True)
    if "gt" in cond: e &= col > cond["gt"]
    if "gte" in cond: e &= col >= cond["gte"]
    if "lt" in cond: e &= col < cond["lt"]
    if "lte" in cond: e &= col <= cond["lte"]
    return e


def prepare(params, out):
    data, prep = params["data"], params["prepare"]
    f = data["features"]
    feats = f.get("numeric", []) + f.get("categorical", []) + f.get("datetime", [])
    target = data["target"]["column"]
    df = pl.read_parquet(data["path"])
    for c in [target] + feats:
        if c not in df.columns:
            raise SystemExit(f"{data['path']}: column {c!r} is missing")
    source = df.height
    if 0 < data["rows"] < source:
        rng = np.random.default_rng(prep["seed"])
        mask = np.zeros(source, dtype=bool)
        mask[rng.choice(source, data["rows"], replace=False)] = True
        df = df.filter(pl.Series(mask))
    df = df.select([target] + feats)
    rows_in = df.height
    nulls_in = {c: int(v) for c, v in df.null_count().row(0, named=True).items()}
    dropped = {}

    def drop(reason, keep):
        nonlocal df
        before = df.height
        df = df.filter(keep)
        dropped[reason] = before - df.height

    drop("null_target", pl.col(target).is_not_null())
    for c, cond in (data.get("valid") or {}).items():
        drop(f"invalid_{c}", pl.col(c).is_null() | condition(pl.col(c), cond))
    if prep.get("drop_null_features"):
        drop("null_features", pl.all_horizontal([pl.col(c).is_not_null() for c in feats]))
    if prep.get("drop_duplicates", True):
        before = df.height
        df = df.unique(keep="first", maintain_order=True)
        dropped["duplicates"] = before - df.height
    clipped = {}
    clip = data.get("clip") or {}
    counts = df.select([
        ((pl.col(c) < b["min"]).sum() if b.get("min") is not None else pl.lit(0)).alias(f"{c}__lo")
        for c, b in clip.items()
    ] + [
        ((pl.col(c) > b["max"]).sum() if b.get("max") is not None else pl.lit(0)).alias(f"{c}__hi")
        for c, b in clip.items()
    ]).row(0, named=True) if clip else {}
    for c in clip:
        clipped[c] = int(counts[f"{c}__lo"]) + int(counts[f"{c}__hi"])
    if clip:
        df = df.with_columns([pl.col(c).clip(b.get("min"), b.get("max")) for c, b in clip.items()])
    classes = data["target"].get("classes") or ["0", "1"]
    y = df.select(condition(pl.col(target), data["target"]["positive_when"]).cast(pl.Int32).alias("y"))["y"]
    class_counts = np.bincount(y.to_numpy(), minlength=2)
    quality = {
        "rows": {"source": source, "in": rows_in, "out": df.height, "dropped": rows_in - df.height},
        "dropped": dropped,
        "clipped": clipped,
        "nulls_in": nulls_in,
        "nulls_out": {c: int(v) for c, v in df.null_count().row(0, named=True).items()},
        "class_counts": {c: int(n) for c, n in zip(classes, class_counts)},
        "class_balance": {c: round(float(n) / df.height, 6) for c, n in zip(classes, class_counts)},
    }
    os.makedirs(out, exist_ok=True)
    df.write_parquet(os.path.join(out, "data.parquet"), compression="zstd")
    with open(os.path.join(out, "data_quality.json"), "w") as fh:
        json.dump(quality, fh, indent=2)
    return quality


def featurize(params, out):
    data, fz, sp = params["data"], params["featurize"], params["split"]
    f = data["features"]
    target = data["target"]["column"]
    df = pl.read_parquet(os.path.join(out, "data.parquet"))
    label = condition(pl.col(target), data["target"]["positive_when"]).cast(pl.Int32).alias("label")
    y = df.select(label)["label"].to_numpy()
    rng = np.random.default_rng(sp["seed"])
    assign = np.zeros(df.height, dtype=np.int8)
    for k in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == k))
        n_train = round(len(idx) * sp["train"])
        n_valid = min(len(idx) - n_train, round(len(idx) * sp["valid"]))
        assign[idx[n_train:n_train + n_valid]] = 1
        assign[idx[n_train + n_valid:]] = 2
    df = df.with_columns(pl.Series("__split", assign))
    parts = {"month": "month", "weekday": "weekday", "hour": "hour", "day": "day", "year": "year", "minute": "minute"}
    raw = {c: pl.col(c).cast(pl.Float64) for c in f.get("numeric", [])}
    for c in f.get("datetime", []):
        for p in fz["date_parts"]:
            raw[f"{c}_{p}"] = getattr(pl.col(c).dt, parts[p])().cast(pl.Float64)  # ISO weekday 1..7
    train = pl.col("__split") == 0
    # fit on train: medians first, then mean/std of the filled columns, in two passes over the train rows
    medians = df.filter(train).select([e.median().alias(n) for n, e in raw.items()]).row(0, named=True)
    moments = df.filter(train).select(
        [e.fill_null(medians[n]).mean().alias(f"{n}__mean") for n, e in raw.items()]
        + [e.fill_null(medians[n]).std(ddof=0).alias(f"{n}__std") for n, e in raw.items()]
    ).row(0, named=True)
    scalers, encoders, exprs = {}, {}, []
    for n, e in raw.items():
        fill, mean, std = float(medians[n]), float(moments[f"{n}__mean"]), float(moments[f"{n}__std"]) or 1.0
        scalers[n] = {"method": "standard", "impute": fill, "center": mean, "scale": std}
        exprs.append(((e.fill_null(fill) - mean) / std).cast(pl.Float32).alias(n))
    for c in f.get("categorical", []):
        v = pl.col(c).cast(pl.String).fill_null("(missing)")
        vc = df.filter(train).select(v.alias("v")).group_by("v").len()
        cats = vc.sort(["len", "v"], descending=[True, False]).head(fz["top_k"])["v"].to_list()
        encoders[c] = {"type": "onehot_topk", "categories": cats}
        exprs += [(v == cat).cast(pl.Float32).alias(f"{c}={cat}") for cat in cats]
        exprs.append((~v.is_in(cats)).cast(pl.Float32).alias(f"{c}=(other)"))
    feats = df.select(exprs + [label, pl.col("__split")])
    fdir = os.path.join(out, "features")
    os.makedirs(fdir, exist_ok=True)
    rows = {}
    for i, s in enumerate(["train", "valid", "test"]):
        part = feats.filter(pl.col("__split") == i).drop("__split")
        rows[s] = part.height
        part.write_parquet(os.path.join(fdir, f"{s}.parquet"), compression="zstd")
    names = [e.meta.output_name() for e in exprs]
    meta = {"task": data["task"], "target": target, "labelColumn": "label", "featureNames": names, "rows": rows,
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
    print(f"[polars {pl.__version__} {step}] {time.perf_counter() - t0:.1f}s {summary}", file=sys.stderr)
