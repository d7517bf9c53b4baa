from __future__ import annotations

import json

import pytest

from templates_src.build import render
from templates_src.config import Config
from templates_src.regions import build_primary, build_replica, build_standby


@pytest.fixture(scope="session")
def config() -> Config:
    return Config()


@pytest.fixture(scope="session")
def primary(config) -> dict:
    return json.loads(render(build_primary(config)))


@pytest.fixture(scope="session")
def replica(config) -> dict:
    return json.loads(render(build_replica(config)))


@pytest.fixture(scope="session")
def standby(config) -> dict:
    return json.loads(render(build_standby(config)))


def of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }
