"""The official SDK reads back what the TS client created: argv = task id, model id, artifact name, download dir.
Prints one JSON line."""
import json
import sys

from clearml import Model, Task

task_id, model_id, artifact_name, download_dir = sys.argv[1:5]
task = Task.get_task(task_id=task_id)
artifact = task.artifacts[artifact_name]
local = artifact.get_local_copy(extract_archive=False)
with open(local, "rb") as f:
    artifact_bytes = f.read()
model = Model(model_id=model_id)
weights = model.get_local_copy()
with open(weights, "rb") as f:
    weights_bytes = f.read()
print(
    json.dumps(
        {
            "name": task.name,
            "status": str(task.get_status()),
            "parameters": task.get_parameters(),
            "configuration": task.get_configuration_object("params"),
            "artifacts": {
                k: {"hash": a.hash, "size": a.size, "type": a.type, "preview": a.preview, "url": a.url}
                for k, a in task.artifacts.items()
            },
            "artifact_hex": artifact_bytes.hex(),
            "model": {
                "name": model.name,
                "published": model.published,
                "framework": model.framework,
                "labels": model.labels,
                "design": model.config_text,
                "tags": model.tags,
                "url": model.url,
                "task": model.task,
            },
            "weights_hex": weights_bytes.hex(),
            "output_models": [m.id for m in task.models["output"]],
        }
    )
)
