"""What the official ClearML SDK sees of a task, as one RESULT <json> line (test oracle).

Usage: clearml_task.py TASK_ID   (CLEARML_API_* name the server)
"""

import json
import os
import sys

from clearml import Task

task = Task.get_task(task_id=sys.argv[1])
plots = task.get_reported_plots()
result = {
    "name": task.name,
    "type": str(task.task_type),
    "status": str(task.get_status()),
    "project": task.get_project_name(),
    "tags": list(task.get_tags() or []),
    "artifacts": {k: {"size": a.size, "type": a.type, "hash": a.hash} for k, a in task.artifacts.items()},
    "plots": sorted({(p.get("metric"), p.get("variant")) for p in plots}),
    "params": task.get_parameters(),
    "scalars": sorted(task.get_last_scalar_metrics().keys()),
}
print("RESULT " + json.dumps(result), flush=True)
os._exit(0)
