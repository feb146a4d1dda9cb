"""Python peer for the ingest bench: MlflowClient.log_batch of the same points, timed around the call.

Usage: python_ingest.py URI RUN_ID KEYS STEPS T0  → prints {"seconds": s, "points": n} as JSON.
"""

import json
import sys
import time

from mlflow.entities import Metric
from mlflow.tracking import MlflowClient


def value(k, s):
    return 1.0 / (s + 1) + k * 0.001


def main():
    uri, run_id, keys, steps, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    client = MlflowClient(tracking_uri=uri)
    metrics = [Metric(f"m{k}", value(k, s), t0 + s, s) for s in range(steps) for k in range(keys)]
    start = time.perf_counter()
    client.log_batch(run_id, metrics=metrics)
    print(json.dumps({"seconds": time.perf_counter() - start, "points": len(metrics)}))


if __name__ == "__main__":
    main()
