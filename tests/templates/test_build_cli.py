"""``python -m templates_src build`` as a user runs it: outputs, determinism, exit codes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from troposphere import Sub
from troposphere.logs import LogGroup

from templates_src import build as build_module
from templates_src import package
from templates_src.cli import ensure_writable_folder, main
from templates_src.regions import build_replica

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = {
    "primary.template.json",
    "replica.template.json",
    "standby.template.json",
    "stackset-roles.template.json",
    "account-baseline.template.json",
    "client.template.json",
    "payment_processor.zip",
    "manifest.json",
    "REVIEW.md",
}


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["build", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_build_writes_the_five_outputs_and_a_truthful_manifest(tmp_path, capsys):
    code, out, _ = run(["--out", str(tmp_path)], capsys)
    assert code == 0, out
    assert {p.name for p in tmp_path.iterdir()} == OUTPUTS
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        data = (tmp_path / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    for name, entry in manifest["templates"].items():
        template = json.loads((tmp_path / name).read_text())
        types = [r["Type"] for r in template["Resources"].values()]
        assert entry["resource_count"] == len(types)
        assert entry["resources_by_type"] == {t: types.count(t) for t in sorted(set(types))}
        assert entry["parameters"] == sorted(template.get("Parameters", {}))
        assert entry["outputs"] == sorted(template.get("Outputs", {}))
        assert entry["lint"] == {"clean": True, "findings": []}
    assert manifest["templates"]["primary.template.json"]["regions"] == ["us-east-1"]
    assert manifest["templates"]["replica.template.json"]["regions"] == ["us-west-2"]
    assert manifest["templates"]["standby.template.json"]["regions"] == ["us-west-2"]
    zip_sha = manifest["files"]["payment_processor.zip"]["sha256"]
    assert manifest["handler_code_key"].endswith(f"{zip_sha}.zip")


def test_two_builds_are_byte_identical(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert run(["--out", str(first)], capsys)[0] == 0
    assert run(["--out", str(second)], capsys)[0] == 0
    for name in OUTPUTS:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_handler_zip_is_deterministic_python_only(tmp_path, capsys):
    assert run(["--out", str(tmp_path)], capsys)[0] == 0
    with zipfile.ZipFile(tmp_path / "payment_processor.zip") as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"handler/__init__.py", "handler/app.py", "handler/audit.py"} <= set(names)
    assert all(name.startswith("handler/") and name.endswith(".py") for name in names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_handler_zip_leaves_out_caches_and_ignores_file_times(tmp_path):
    source = tmp_path / "handler"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "app.py").write_text("X = 1\n")
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0cache")
    (source / "notes.txt").write_text("not code")
    first = package.build_zip(source)
    os.utime(source / "app.py", (0, 0))
    assert package.build_zip(source) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == ["handler/__init__.py", "handler/app.py"]


def test_a_missing_handler_package_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        package.build_zip(tmp_path / "nowhere")


def test_two_replica_regions_lint_clean_in_each(tmp_path, capsys):
    code, out, err = run(
        ["--out", str(tmp_path), "--replica-regions", "us-west-2,eu-west-1"], capsys
    )
    assert code == 0, out + err
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for name in ("replica.template.json", "standby.template.json"):
        entry = manifest["templates"][name]
        assert entry["regions"] == ["us-west-2", "eu-west-1"], name
        assert entry["lint"]["clean"] is True, name
    primary = json.loads((tmp_path / "primary.template.json").read_text())
    (table,) = [
        r for r in primary["Resources"].values() if r["Type"] == "AWS::DynamoDB::GlobalTable"
    ]
    assert len(table["Properties"]["Replicas"]) == 3


def test_suffix_comes_from_the_environment_when_not_given(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "staging")
    assert run(["--out", str(tmp_path)], capsys)[0] == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["config"]["environment_suffix"] == "staging"
    primary = json.loads((tmp_path / "primary.template.json").read_text())
    assert primary["Parameters"]["EnvironmentSuffix"]["Default"] == "staging"


@pytest.mark.parametrize(
    ("args", "env_suffix", "reason"),
    [
        (["--environment-suffix", "Prod"], None, "invalid environment suffix 'Prod'"),
        (["--environment-suffix", "9lives"], None, "invalid environment suffix"),
        (["--environment-suffix", "a" * 21], None, "invalid environment suffix"),
        (["--environment-suffix", "pay_ment"], None, "invalid environment suffix"),
        (["--environment-suffix", ""], None, "invalid environment suffix ''"),
        ([], "UPPER", "invalid environment suffix 'UPPER'"),
        (["--primary-region", "us-east-9"], None, "unknown AWS region 'us-east-9'"),
        (["--replica-regions", "us-west-2,mars-1"], None, "unknown AWS region 'mars-1'"),
        (["--replica-regions", "us-east-1"], None, "must not also be a replica region"),
        (["--replica-regions", "us-west-2,us-west-2"], None, "replica regions repeat"),
        (["--replica-regions", ","], None, "no region in ','"),
        (["--alarm-email", "not-an-address"], None, "is not an e-mail address"),
        # "$" of re.match also matches before a trailing newline: each must be refused.
        (["--environment-suffix", "dev\n"], None, "invalid environment suffix 'dev\\n'"),
        ([], "staging\n", "invalid environment suffix 'staging\\n'"),
        (["--alarm-email", "ops@example.com\n"], None, "is not an e-mail address"),
        (["--no-such-flag"], None, "unrecognized arguments: --no-such-flag"),
        (["--client-auth", "mtls"], None, "--client-auth mtls needs a custom domain"),
        (["--client-auth", "apikey"], None, "argument --client-auth: invalid choice"),
    ],
)
def test_bad_configuration_is_exit_2_with_one_line_and_nothing_written(
    tmp_path, capsys, monkeypatch, args, env_suffix, reason
):
    if env_suffix is None:
        monkeypatch.delenv("ENVIRONMENT_SUFFIX", raising=False)
    else:
        monkeypatch.setenv("ENVIRONMENT_SUFFIX", env_suffix)
    out_dir = tmp_path / "out"
    try:
        code = main(["build", "--out", str(out_dir), *args])
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], captured.err
    assert "Traceback" not in captured.err
    assert not out_dir.exists()


def test_out_that_is_a_file_is_a_configuration_error(tmp_path, capsys):
    target = tmp_path / "build"
    target.write_text("not a folder")
    code, _, err = run(["--out", str(target)], capsys)
    assert code == 2 and "is not a folder" in err
    assert target.read_text() == "not a folder"


@pytest.mark.parametrize(
    "out",
    [
        Path("/sys/kernel"),  # an existing folder on a read-only file system, even for root
        Path("/sys/payment-build"),  # a folder that cannot be created there
    ],
)
def test_read_only_out_is_exit_2_with_one_line_before_building(out, capsys, monkeypatch):
    built = []
    monkeypatch.setattr("templates_src.build.build", lambda *a, **k: built.append(a))
    code, stdout, err = run(["--out", str(out)], capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"--out {out} is not writable" in lines[0], err
    assert "Traceback" not in err and not stdout
    assert not built  # refused before anything was rendered or linted
    assert not Path("/sys/payment-build").exists()


def test_out_below_a_file_is_exit_2_and_creates_nothing(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    code, _, err = run(["--out", str(blocker / "sub" / "build")], capsys)
    assert code == 2 and "is not writable" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_new_nested_out_is_created_empty_by_the_probe(tmp_path):
    ensure_writable_folder(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir() and not any((tmp_path / "a" / "b").iterdir())


def test_missing_subcommand_is_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_lint_findings_are_printed_as_file_line_column_and_exit_1(tmp_path, capsys, monkeypatch):
    def replica_with_a_mistake(config):
        template = build_replica(config)
        # A Sub of a parameter that does not exist: troposphere accepts it, cfn-lint does not.
        template.add_resource(LogGroup("MistakeLogGroup", LogGroupName=Sub("${NoSuchParameter}")))
        return template

    monkeypatch.setattr(build_module, "build_replica", replica_with_a_mistake)
    code, out, _ = run(["--out", str(tmp_path)], capsys)
    assert code == 1
    findings = out.strip().splitlines()
    assert findings
    for line in findings:
        file_name, line_no, column, rest = line.split(":", 3)
        assert file_name == "replica.template.json"
        assert int(line_no) > 0 and int(column) > 0
        rule = rest.split()[0]
        assert rule[0] in "EWI" and rule[1:].isdigit()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["templates"]["replica.template.json"]["lint"]["clean"] is False
    assert manifest["templates"]["primary.template.json"]["lint"]["clean"] is True


def test_module_entry_point_runs_as_a_user_would(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "templates_src",
            "build",
            "--out",
            str(tmp_path),
            "--environment-suffix",
            "cli-test",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lint clean" in proc.stdout
    assert {p.name for p in tmp_path.iterdir()} == OUTPUTS
