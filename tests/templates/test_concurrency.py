"""Reserved concurrency is the operator's choice: none unless asked, in every template.

Lambda keeps 100 concurrent executions per account and region unreserved, and a new account's
quota may be 10 or 50 ("Lambda quotas"; "Configuring reserved concurrency for a function"):
a fixed reservation fails the stack in such an account.
"""

from __future__ import annotations

import json
import re

import pytest

from templates_src.build import render_all
from templates_src.cli import main
from templates_src.config import Config, ConfigError


def _functions(config: Config):
    for rendered in render_all(config):
        template = json.loads(rendered.body)
        for title, resource in template["Resources"].items():
            if resource["Type"] == "AWS::Lambda::Function":
                yield template, title, resource["Properties"]


def test_no_function_reserves_concurrency_by_default():
    found = list(_functions(Config()))
    assert {title for _, title, _ in found} == {
        "ProcessorFunction",
        "AuditWriterFunction",
        "TableStreamFunction",
    }
    for template, title, props in found:
        reservation = props.get("ReservedConcurrentExecutions")
        if reservation is None:
            continue  # the stream lookup runs once per stack update: never reserved
        condition, parameter, no_value = reservation["Fn::If"]
        assert no_value == {"Ref": "AWS::NoValue"}, title
        assert template["Parameters"][parameter["Ref"]]["Default"] == "", title


def test_a_reservation_asked_for_becomes_the_parameter_default_and_fits_its_pattern():
    config = Config(processor_reserved_concurrency=50, audit_writer_reserved_concurrency=10)
    primary = json.loads(
        next(r.body for r in render_all(config) if r.file_name == "primary.template.json")
    )
    processor = primary["Parameters"]["ProcessorReservedConcurrency"]
    audit = primary["Parameters"]["AuditWriterReservedConcurrency"]
    assert (processor["Default"], audit["Default"]) == ("50", "10")
    accepted = [
        v
        for v in ("", "0", "1", "50", "1000", "1001", "05")
        if re.fullmatch(processor["AllowedPattern"], v)
    ]
    assert accepted == ["", "1", "50", "1000"]
    assert re.fullmatch(audit["AllowedPattern"], "100") and not re.fullmatch(
        audit["AllowedPattern"], "101"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"processor_reserved_concurrency": 0},
        {"processor_reserved_concurrency": 1001},
        {"audit_writer_reserved_concurrency": 101},
        {"audit_writer_reserved_concurrency": True},
    ],
)
def test_a_reservation_out_of_range_is_a_configuration_error(fields):
    with pytest.raises(ConfigError, match="reserved concurrency"):
        Config(**fields)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--processor-reserved-concurrency", "0"], "at least 1"),
        (["--processor-reserved-concurrency", "ten"], "not a whole number"),
        (["--audit-writer-reserved-concurrency", "500"], "audit writer reserved concurrency 500"),
    ],
)
def test_bad_reservation_flags_are_exit_2_with_one_line(tmp_path, capsys, args, reason):
    out = tmp_path / "out"
    try:
        code = main(["build", "--out", str(out), *args])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and reason in err, err
    assert not out.exists()
