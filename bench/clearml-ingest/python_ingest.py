"""Python peer of the ClearML ingest bench: Logger.report_scalar for every point of an existing task, then
Logger.flush(wait=True). Interpreter start, `import clearml` and Task.get_task happen before START.

Usage (CLEARML_API_* set, CLEARML_CONFIG_FILE pointing nowhere): python_ingest.py TASK_ID KEYS STEPS
Prints `START <epoch ms>` when the first report_scalar call is made, then one JSON line
{"points": n, "call_seconds": c, "flush_seconds": f}. The SDK's flush(wait=True) returns before the events are
sent (they go out from the background reporter, at the latest at exit), so run.ts takes the end time from the
server: the moment every point is stored.
"""

import json
import sys
import time

from clearml import Task


def value(k, s):
    return 1.0 / (s + 1) + k * 0.001


def main():
    task_id, keys, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    task = Task.get_task(task_id=task_id)
    logger = task.get_logger()
    print(f"START {time.time() * 1000:.0f}", flush=True)
    start = time.perf_counter()
    for s in range(steps):
        for k in range(keys):
            logger.report_scalar(f"m{k}", "v", value=value(k, s), iteration=s)
    calls = time.perf_counter() - start
    logger.flush(wait=True)
    print(json.dumps({"points": keys * steps, "call_seconds": calls, "flush_seconds": time.perf_counter() - start}), flush=True)


if __name__ == "__main__":
    main()
