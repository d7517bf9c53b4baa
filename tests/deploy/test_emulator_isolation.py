"""The emulator's moto extensions live in the emulator's own process: after an emulator ran,
a handler-style test in this process (moto in-process, ``mock_aws``) gets moto as released;
and that process ends with the one that started it.

The behaviour checked is one the extensions change: a regional API Gateway domain name's
``regionalHostedZoneId``. API Gateway answers the regional hosted zone of the domain's region
(Z1UJRXOUMOOFQ8 in us-east-1, "Amazon API Gateway endpoints and quotas", AWS General
Reference); moto gives every domain CloudFront's zone, Z2FDTNDATAQYW2
(``scripts/emulator/patches.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from payment_ops.emulator import Emulator

from .conftest import PRIMARY, ROOT

pytestmark = pytest.mark.integration

API_GATEWAY_ZONE = "Z1UJRXOUMOOFQ8"  # us-east-1's regional zone, as AWS publishes it
MOTO_ZONE = "Z2FDTNDATAQYW2"  # what stock moto answers for every domain


def _regional_zone(endpoint_url: str | None) -> str:
    client = boto3.client(
        "apigateway",
        region_name=PRIMARY,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    domain = client.create_domain_name(
        domainName="pay.example.com",
        regionalCertificateArn=f"arn:aws:acm:{PRIMARY}:123456789012:certificate/isolation",
        endpointConfiguration={"types": ["REGIONAL"]},
    )
    return domain["regionalHostedZoneId"]


def test_a_mock_aws_test_after_an_emulator_ran_sees_stock_moto(emulator):
    # The emulator of this module has started (and answers as AWS does) ...
    assert _regional_zone(emulator.url) == API_GATEWAY_ZONE
    # ... and so has one started and stopped here.
    with Emulator() as other:
        assert _regional_zone(other.url) == API_GATEWAY_ZONE
    # moto in this process is moto as released: the extensions never reached it.
    with mock_aws():
        assert _regional_zone(None) == MOTO_ZONE


def test_an_emulator_whose_starter_was_killed_stops_by_itself(tmp_path):
    """The emulator runs in a session of its own (Ctrl-C reaches its starter, which stops it);
    when the starter dies without stopping it, it ends too rather than serve forever."""
    starter = (
        "import os, sys\n"
        "from payment_ops.emulator import Emulator\n"
        "emulator = Emulator().start()\n"
        "print(emulator.pid, flush=True)\n"
        "os._exit(0)  # no stop: as if killed\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", starter], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
