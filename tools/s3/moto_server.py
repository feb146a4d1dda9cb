"""Loopback S3 server for tests: moto's server mode with IAM authentication switched on.

Run with the interpreter of the venv that tools/s3/install.sh creates:

    tools/s3/.venv/bin/python tools/s3/moto_server.py [--bucket NAME] [--host 127.0.0.1] [--port 0]

1. starts moto's threaded server on HOST:PORT (port 0: the OS picks a free one);
2. while authentication is still off, creates through the server's own S3 and IAM APIs
   the bucket, one IAM user with an S3-only policy and an access key for it;
3. switches request authentication on (moto's /moto-api/reset-auth with 0), so a wrong
   key or secret is refused the way AWS refuses it (InvalidAccessKeyId / SignatureDoesNotMatch);
4. checks that the new key can reach the bucket, then prints ONE JSON line on stdout:
   {"endpoint", "port", "bucket", "accessKeyId", "secretAccessKey", "region"}.

It stops (exit 0) on SIGTERM/SIGINT or when its standard input closes, so it never outlives
the test process that started it. Logs go to stderr and never contain the secret.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.request

USER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


def log(message: str) -> None:
    print(f"[s3-server] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", default="dvc-test")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--user", default="dvc-test-user")
    args = parser.parse_args()

    # Environment for boto3 inside this process only: no user profile or real AWS keys leak in.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

    import logging

    import boto3  # installed with moto
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    # werkzeug logs one line per request: keep stderr for our own lines and errors.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    started = time.monotonic()
    server = ThreadedMotoServer(args.host, args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    stop = threading.Event()

    def request_stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def watch_stdin() -> None:
        # The parent keeps our stdin open; EOF means it went away.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    # Setup calls: authentication is still off, any signature is accepted.
    setup = {
        "endpoint_url": endpoint,
        "region_name": args.region,
        "aws_access_key_id": "setup",
        "aws_secret_access_key": "setup",
    }
    s3 = boto3.client("s3", **setup)
    iam = boto3.client("iam", **setup)
    if args.region == "us-east-1":
        s3.create_bucket(Bucket=args.bucket)
    else:
        s3.create_bucket(
            Bucket=args.bucket,
            CreateBucketConfiguration={"LocationConstraint": args.region},
        )
    iam.create_user(UserName=args.user)
    iam.put_user_policy(
        UserName=args.user, PolicyName="s3-all", PolicyDocument=json.dumps(USER_POLICY)
    )
    key = iam.create_access_key(UserName=args.user)["AccessKey"]

    # From now on every request must be signed by a key the IAM backend knows.
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth",
            data=b"0",
            method="POST",
            headers={"Content-Type": "text/plain"},
        ),
        timeout=10,
    ) as response:
        response.read()

    user_s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=args.region,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    user_s3.head_bucket(Bucket=args.bucket)
    # Close our keep-alive connections: the server's handler threads end with them,
    # so nothing holds up the exit later.
    for client in (s3, iam, user_s3):
        client.close()

    log(f"listening on {endpoint}, bucket {args.bucket}, ready in {time.monotonic() - started:.2f}s")
    print(
        json.dumps(
            {
                "endpoint": endpoint,
                "port": port,
                "bucket": args.bucket,
                "region": args.region,
                "accessKeyId": key["AccessKeyId"],
                "secretAccessKey": key["SecretAccessKey"],
            }
        ),
        flush=True,
    )

    while not stop.wait(0.2):
        pass
    t_stop = time.monotonic()
    server.stop()
    log(f"stopped in {time.monotonic() - t_stop:.2f}s")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's teardown of moto's modules (seconds on a busy machine): nothing is left to save.
    os._exit(code)
