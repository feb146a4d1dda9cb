"""The oracle of e2e/tests/pipeline-clearml.test.ts: what the official ClearML SDK reads back of a project's tasks.

Usage: python pipeline_clearml_readback.py <project name> <out.json>
(with CLEARML_API_HOST / _ACCESS_KEY / _SECRET_KEY and a CLEARML_CONFIG_FILE that does not exist).
"""
import hashlib
import json
import sys

from clearml import Task


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> None:
    project, out = sys.argv[1], sys.argv[2]
    result = {}
    for t in Task.get_tasks(project_name=project):
        task = Task.get_task(task_id=t.id)
        scalars = task.get_reported_scalars()
        plots = task.get_reported_plots()
        models = task.models
        result[task.name] = {
            "id": task.id,
            "status": str(task.get_status()),
            "type": str(task.task_type),
            "tags": list(task.get_tags() or []),
            "parameters": task.get_parameters(),
            "scalars": {
                metric: {variant: {"x": list(v["x"]), "y": list(v["y"])} for variant, v in variants.items()}
                for metric, variants in scalars.items()
            },
            "plots": sorted({p["metric"] for p in plots}),
            "artifacts": {key: a.url for key, a in task.artifacts.items()},
            # what the SDK downloads of each artifact (get_local_copy, with its own fileserver auth)
            "artifact_sha256": {key: sha256(a.get_local_copy(extract_archive=False)) for key, a in task.artifacts.items()},
            "output_models": [{"id": m.id, "name": m.name, "labels": m.labels} for m in models["output"]],
            "configuration": sorted((task.get_configuration_objects() or {}).keys()),
            "script": {
                "entry_point": task.data.script.entry_point if task.data.script else None,
                "version_num": task.data.script.version_num if task.data.script else None,
            },
        }
    with open(out, "w") as f:
        json.dump(result, f, indent=2, default=str)


if __name__ == "__main__":
    main()
