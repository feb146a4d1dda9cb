"""Dump what the official Python MlflowClient sees of a run (and a registered model) as JSON on stdout.

Used by the TypeScript cross-check test: the TS client writes, this reads back, the test compares.
Usage: python_dump.py --uri URI --run-id ID --download-dir DIR [--model-name NAME --alias ALIAS]
"""

import argparse
import hashlib
import json
import math
import os

from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient


def num(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    return v


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def list_all(client, run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        if f.is_dir:
            out.extend(list_all(client, run_id, f.path))
        else:
            out.append({"path": f.path, "size": f.file_size})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--uri", required=True)
    p.add_argument("--run-id", required=True)
    p.add_argument("--download-dir", required=True)
    p.add_argument("--model-name")
    p.add_argument("--alias")
    a = p.parse_args()

    client = MlflowClient(tracking_uri=a.uri, registry_uri=a.uri)
    run = client.get_run(a.run_id)
    histories = {}
    for key in sorted(run.data.metrics):
        hist = client.get_metric_history(a.run_id, key)
        histories[key] = sorted(
            ({"step": m.step, "timestamp": m.timestamp, "value": num(m.value)} for m in hist),
            key=lambda m: (m["step"], m["timestamp"]),
        )
    artifacts = list_all(client, a.run_id)
    local_root = client.download_artifacts(a.run_id, "", a.download_dir)
    for f in artifacts:
        f["sha256"] = sha256(os.path.join(local_root, f["path"]))

    out = {
        "run": {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "experiment_id": run.info.experiment_id,
            "status": run.info.status,
            "start_time": run.info.start_time,
            "end_time": run.info.end_time,
        },
        "params": dict(run.data.params),
        "tags": dict(run.data.tags),
        "metrics": histories,
        "artifacts": sorted(artifacts, key=lambda f: f["path"]),
        "datasets": [
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "source": d.dataset.source,
                "tags": {t.key: t.value for t in d.tags},
            }
            for d in run.inputs.dataset_inputs
        ],
        "model_outputs": [o.model_id for o in (run.outputs.model_outputs if run.outputs else [])],
    }
    if a.model_name:
        rm = client.get_registered_model(a.model_name)
        mv = client.get_model_version_by_alias(a.model_name, a.alias)
        model_id = mv.model_id or (mv.source[len("models:/") :] if mv.source.startswith("models:/") else None)
        lm = client.get_logged_model(model_id) if model_id else None
        out["registry"] = {
            "name": rm.name,
            "aliases": dict(rm.aliases),
            "alias_version": mv.version,
            "alias_run_id": mv.run_id,
            "alias_model_id": model_id,
            "alias_source": mv.source,
            "status": mv.status,
            "logged_model": None
            if lm is None
            else {
                "model_id": lm.model_id,
                "name": lm.name,
                "status": str(lm.status),
                "source_run_id": lm.source_run_id,
                "params": dict(lm.params),
                "tags": {k: v for k, v in lm.tags.items()},
            },
        }
        if lm is not None:
            model_dir = os.path.join(a.download_dir, "_model")
            os.makedirs(model_dir, exist_ok=True)
            local = download_artifacts(artifact_uri=lm.artifact_location, dst_path=model_dir, tracking_uri=a.uri)
            files = {}
            for root, _, names in os.walk(local):
                for n in names:
                    full = os.path.join(root, n)
                    files[os.path.relpath(full, local).replace(os.sep, "/")] = sha256(full)
            out["registry"]["logged_model_files"] = files
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
