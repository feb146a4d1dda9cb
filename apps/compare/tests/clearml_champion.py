# Oracle for compare-trackers.test.ts: what the official ClearML SDK sees of models and tasks.
# argv[1]: {"models": [ids], "tasks": [ids]} -> RESULT {"models": {id: {tags, published, task}}, "tasks": {id: {tags, output_models}}}
import json
import sys

from clearml import Model, Task

req = json.loads(sys.argv[1])
out = {"models": {}, "tasks": {}}
for model_id in req.get("models", []):
    m = Model(model_id=model_id)
    out["models"][model_id] = {"tags": sorted(m.tags or []), "published": bool(m.published), "task": m.task}
for task_id in req.get("tasks", []):
    t = Task.get_task(task_id=task_id)
    out["tasks"][task_id] = {"tags": sorted(t.get_tags() or []), "output_models": [m.id for m in t.models["output"]]}
print("RESULT " + json.dumps(out))
