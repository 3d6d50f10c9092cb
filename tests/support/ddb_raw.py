#!/usr/bin/env python3
"""Sends one raw DynamoDB JSON request to the e2e suite's moto, SigV4-signed.

Usage: ddb_raw.py OPERATION JSON_BODY      e.g. ddb_raw.py PutItem '{"TableName":...}'

For e2e tests that must write what the service itself would never write (an
item another writer stored, a version at its maximum): the body goes out as
given, without boto3's parameter validation, so any AttributeValue can be sent.
Reads E2E_MOTO_URL, E2E_AWS_ACCESS_KEY_ID and E2E_AWS_SECRET_ACCESS_KEY (set
by tests/e2e/run.sh). Prints the response body; exits 0 on HTTP 200, else 1.
"""

import os
import sys
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    operation, body = sys.argv[1], sys.argv[2].encode()
    url = os.environ["E2E_MOTO_URL"].rstrip("/") + "/"
    creds = Credentials(os.environ["E2E_AWS_ACCESS_KEY_ID"], os.environ["E2E_AWS_SECRET_ACCESS_KEY"])
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810." + operation,
        },
    )
    SigV4Auth(creds, "dynamodb", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url, data=body, headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as e:
        print(f"HTTP {e.code}: {e.read().decode()}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
