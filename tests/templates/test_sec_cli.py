"""The security settings as flags every command shares, and in the manifest's inputs."""

from __future__ import annotations

import json

from templates_src import cli


def _build(tmp_path, *flags: str) -> tuple[int, dict | None]:
    out = tmp_path / "out"
    code = cli.main(["build", "--out", str(out), "--environment-suffix", "prod", *flags])
    template = out / "primary.template.json"
    return code, json.loads(template.read_text()) if template.exists() else None


def test_flags_set_the_lock_mode_the_trail_and_a_written_waf_exception(tmp_path):
    reason = "A central WAF fronts every API of this account (SEC-1234)"
    code, template = _build(
        tmp_path,
        "--object-lock-mode",
        "GOVERNANCE",
        "--enable-cloudtrail",
        "--waf-off-reason",
        reason,
    )
    assert code == 0
    lock = template["Resources"]["AuditBucket"]["Properties"]["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"
    assert template["Parameters"]["EnableCloudTrail"]["Default"] == "true"
    assert template["Parameters"]["EnableWaf"]["Default"] == "false"
    assert template["Parameters"]["WafExceptionReason"]["Default"] == reason
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert reason in json.dumps(manifest)  # a build with other settings is not reused


def test_a_waf_exception_without_a_real_reason_is_one_line_and_exit_2(tmp_path, capsys):
    code, template = _build(tmp_path, "--waf-off-reason", "because")
    assert (code, template) == (2, None)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "WAF is off without a reason" in err
