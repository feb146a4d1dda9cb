"""What the official Python client sees of an experiment's runs, as one RESULT <json> line (test oracle).

Usage: mlflow_runs.py EXPERIMENT_NAME   (MLFLOW_TRACKING_URI names the server)
"""

import json
import sys

from mlflow.tracking import MlflowClient

client = MlflowClient()
experiment = client.get_experiment_by_name(sys.argv[1])


def walk(run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out.extend(walk(run_id, f.path) if f.is_dir else [f.path])
    return out


runs = []
for run in client.search_runs([experiment.experiment_id], max_results=1000):
    runs.append(
        {
            "run_id": run.info.run_id,
            "name": run.info.run_name,
            "status": run.info.status,
            "tags": dict(run.data.tags),
            "params": dict(run.data.params),
            "metrics": dict(run.data.metrics),
            "artifacts": sorted(walk(run.info.run_id)),
        }
    )
# the pipeline's own filter (rankMlflowRuns): the runs of one pipeline run, by its tag
by_tag = {}
for pid in sorted({r["tags"].get("mlops.pipeline_run_id") for r in runs} - {None}):
    found = client.search_runs([experiment.experiment_id], filter_string=f"tags.`mlops.pipeline_run_id` = '{pid}'")
    by_tag[pid] = sorted(r.info.run_name for r in found)
print("RESULT " + json.dumps({"experiment_id": experiment.experiment_id, "runs": runs, "by_pipeline_run_id": by_tag}))
