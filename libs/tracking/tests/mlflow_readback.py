"""What the official Python client sees of an MLflow run and its model, as JSON on stdout (test oracle).

Usage: mlflow_readback.py RUN_ID MODEL_NAME   (MLFLOW_TRACKING_URI names the server)
"""

import json
import sys

import mlflow
from mlflow.tracking import MlflowClient

run_id, model_name = sys.argv[1], sys.argv[2]
client = MlflowClient()
run = client.get_run(run_id)


def model_info(uri):
    info = mlflow.models.get_model_info(uri)
    sig = info.signature
    return {
        "flavors": info.flavors,
        "run_id": info.run_id,
        "model_id": getattr(info, "model_id", None),
        "artifact_path": info.artifact_path,
        "mlflow_version": info.mlflow_version,
        "utc_time_created": info.utc_time_created,
        "inputs": [c.name for c in sig.inputs] if sig else None,
        "input_types": [str(c.type) for c in sig.inputs] if sig else None,
        "outputs": [c.name for c in sig.outputs] if sig else None,
    }


def walk(path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out.extend(walk(f.path) if f.is_dir else [f.path])
    return out


tags = dict(run.data.tags)
model_id = tags.get("mlops.logged_model_id")
outputs = [m.model_id for m in (run.outputs.model_outputs if run.outputs else [])]
print(
    json.dumps(
        {
            "status": run.info.status,
            "params": dict(run.data.params),
            "tags": {k: v for k, v in tags.items() if not k.startswith("mlflow.") or k == "mlflow.runName"},
            "metrics": {k: sorted([m.step, m.value, m.timestamp] for m in client.get_metric_history(run_id, k)) for k in run.data.metrics},
            "inputs": sorted(d.dataset.name for d in (run.inputs.dataset_inputs if run.inputs else [])),
            "artifacts": sorted(walk()),
            "model_outputs": outputs,
            "runs_uri": model_info(f"runs:/{run_id}/{model_name}"),
            "models_uri": model_info(f"models:/{outputs[0]}") if outputs else None,
            "tagged_model_id": model_id,
        }
    )
)
