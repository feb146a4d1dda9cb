# The official SDK reads a pipeline back: PipelineController.get(pipeline_id) finds the controller (type controller +
# system tag pipeline) and rebuilds every node from the `Pipeline` configuration with PipelineController.Node(**fields),
# which raises on a field the SDK does not know. Prints the DAG as JSON.
import json
import sys

from clearml.automation.controller import PipelineController

pipe = PipelineController.get(pipeline_id=sys.argv[1])
dag = pipe.get_pipeline_dag()
print(json.dumps({
    "status": pipe._task.get_status(),
    "nodes": {name: {"parents": n.parents, "status": n.status, "executed": n.executed, "parameters": n.parameters} for name, n in dag.items()},
}))
