"""What every concern shares: the template parameters, names, tags and ARN builders."""

from __future__ import annotations

from dataclasses import dataclass

from awacs.aws import Action as AwacsAction
from awacs.aws import Bool, Condition, Deny, Principal, Statement
from troposphere import AWSObject, Equals, Not, Parameter, Ref, Sub, Tags, Template

from . import names
from .config import (
    AUDIT_CONCURRENCY_MAX,
    EMAIL_PATTERN,
    MANAGED_BY,
    PROCESSOR_CONCURRENCY_MAX,
    SUFFIX_PATTERN,
    SUFFIX_RULE,
    WAF_REASON_PATTERN,
    WAF_REASON_RULE,
    Config,
)

# The parameter names are the names module's: the tools pass values under the same names.
from .names import (
    ALARM_EMAIL_PARAM,
    ARTIFACT_BUCKET_PARAM,
    ARTIFACT_PREFIX_PARAM,
    AUDIT_CONCURRENCY_PARAM,
    CODE_KEY_PARAM,
    ENABLE_WAF_PARAM,
    PROCESSOR_CONCURRENCY_PARAM,
    PROJECT,
    SUFFIX_PARAM,
    WAF_EXCEPTION_PARAM,
)

WAF_ENABLED = "WafEnabled"
PROCESSOR_RESERVED = "ProcessorConcurrencyReserved"
AUDIT_WRITER_RESERVED = "AuditWriterConcurrencyReserved"

STAGE_NAME = "prod"

# S3's longest bucket name ("General purpose bucket naming rules",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
BUCKET_NAME_MAX = 63
# The longest region name the configuration accepts (us-isof-south-1): every
# payment-<suffix>-<thing>-<account>-<region> bucket is sized for it (templates_src/naming.py
# proves each name for each configured region).
LONGEST_REGION_NAME = 15
# What "-<region>" leaves of a bucket name for the artifact bucket prefix.
ARTIFACT_PREFIX_MAX = BUCKET_NAME_MAX - 1 - LONGEST_REGION_NAME


@dataclass(frozen=True)
class Params:
    """The template's parameters, so that concerns can Ref them."""

    suffix: Parameter
    alarm_email: Parameter | None
    artifact_bucket: Parameter | None = None
    code_key: Parameter | None = None
    processor_concurrency: Parameter | None = None
    audit_concurrency: Parameter | None = None
    enable_waf: Parameter | None = None
    artifact_bucket_per_region: bool = False


def add_parameters(
    template: Template,
    config: Config,
    *,
    with_code: bool,
    artifact_bucket_per_region: bool = False,
    with_alarm_email: bool = True,
) -> Params:
    """Declare the parameters with console-friendly descriptions, patterns and groups.

    ``artifact_bucket_per_region``: the code comes from ``<ArtifactBucketPrefix>-<region>`` (a
    stack set gives all its regions one value, and Lambda reads code only from a bucket in the
    function's own region). ``with_alarm_email``: False where the stack notifies a topic another
    stack owns.
    """
    suffix = _suffix_parameter(template, config)
    alarm_email = _alarm_email_parameter(template, config) if with_alarm_email else None
    groups: list[tuple[str, dict[Parameter, str]]] = [
        ("Environment", {suffix: "Environment suffix"})
    ]
    artifact_bucket = code_key = processor_concurrency = audit_concurrency = enable_waf = None
    if with_code:
        artifact_bucket, code_key = _handler_package_parameters(
            template, artifact_bucket_per_region
        )
        processor_concurrency, audit_concurrency = _reservation_parameters(template, config)
        enable_waf, waf_exception = _waf_parameters(template, config)
        template.add_condition(WAF_ENABLED, Equals(Ref(enable_waf), "true"))
        template.add_condition(PROCESSOR_RESERVED, Not(Equals(Ref(processor_concurrency), "")))
        template.add_condition(AUDIT_WRITER_RESERVED, Not(Equals(Ref(audit_concurrency), "")))
        package_label = (
            "Artifact bucket prefix" if artifact_bucket_per_region else "Artifact bucket"
        )
        groups += [
            ("Handler package", {artifact_bucket: package_label, code_key: "Handler package key"}),
            (
                "Protection",
                {
                    processor_concurrency: "Processor reserved concurrency",
                    audit_concurrency: "Audit writer reserved concurrency",
                    enable_waf: "Web application firewall",
                    waf_exception: "Reason for running without the firewall",
                },
            ),
        ]
    if alarm_email is not None:
        groups.append(("Alarms", {alarm_email: "Alarm e-mail (optional)"}))
    _set_interface(template, groups)
    return Params(
        suffix,
        alarm_email,
        artifact_bucket,
        code_key,
        processor_concurrency,
        audit_concurrency,
        enable_waf,
        artifact_bucket_per_region,
    )


def _suffix_parameter(template: Template, config: Config) -> Parameter:
    return template.add_parameter(
        Parameter(
            SUFFIX_PARAM,
            Type="String",
            Default=config.environment_suffix,
            AllowedPattern=SUFFIX_PATTERN,
            ConstraintDescription=SUFFIX_RULE,
            Description="Names every resource payment-<suffix>-<thing>; "
            "the same value in every region of one deployment.",
        )
    )


def _alarm_email_parameter(template: Template, config: Config) -> Parameter:
    return template.add_parameter(
        Parameter(
            ALARM_EMAIL_PARAM,
            Type="String",
            Default=config.alarm_email,
            AllowedPattern=f"^$|{EMAIL_PATTERN}",
            ConstraintDescription="an e-mail address, or empty for no e-mail subscription",
            Description="Optional e-mail address subscribed to the alarm topic "
            "(the subscription must be confirmed from the mailbox).",
        )
    )


def _handler_package_parameters(
    template: Template, artifact_bucket_per_region: bool
) -> tuple[Parameter, Parameter]:
    """Where the functions' code is: the artifact bucket (or its per-region prefix) and key."""
    per_region = {
        # Leaves room for "-<region>" within the 63 characters of a bucket name.
        "AllowedPattern": rf"^[a-z0-9][a-z0-9.-]{{1,{ARTIFACT_PREFIX_MAX - 1}}}$",
        "ConstraintDescription": "the start of an S3 bucket name "
        f"(at most {ARTIFACT_PREFIX_MAX} characters)",
        "Description": "The handler package is read from the bucket <prefix>-<region> of "
        "each stack's region (Lambda reads code only from its own region); the deploy "
        "script's buckets are payment-<suffix>-code-<account>-<region>.",
    }
    one_bucket = {
        "AllowedPattern": r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        "ConstraintDescription": "an S3 bucket name in this stack's region",
        "Description": "S3 bucket in this stack's region that holds the handler package "
        "(Lambda reads code only from its own region).",
    }
    artifact_bucket = template.add_parameter(
        Parameter(
            ARTIFACT_PREFIX_PARAM if artifact_bucket_per_region else ARTIFACT_BUCKET_PARAM,
            Type="String",
            **(per_region if artifact_bucket_per_region else one_bucket),
        )
    )
    code_key = template.add_parameter(
        Parameter(
            CODE_KEY_PARAM,
            Type="String",
            AllowedPattern=r"^[A-Za-z0-9/_.-]+\.zip$",
            ConstraintDescription="an S3 object key ending in .zip",
            Description="Object key of payment_processor.zip, named by its content hash so "
            "that new code is a new key and an update of the functions.",
        )
    )
    return artifact_bucket, code_key


def _reservation_parameters(template: Template, config: Config) -> tuple[Parameter, Parameter]:
    """The processor's and the audit writer's reserved concurrency."""
    processor_concurrency = _reservation_parameter(
        template,
        PROCESSOR_CONCURRENCY_PARAM,
        config.processor_reserved_concurrency,
        PROCESSOR_CONCURRENCY_MAX,
        "the payment processor (a reservation also caps it: a flood cannot starve other "
        "functions, nor they it)",
    )
    audit_concurrency = _reservation_parameter(
        template,
        AUDIT_CONCURRENCY_PARAM,
        config.audit_writer_reserved_concurrency,
        AUDIT_CONCURRENCY_MAX,
        "the audit writer (the stream invokes it once per shard and batch at a time: a cap "
        "below the shard count makes the audit trail fall behind)",
    )
    return processor_concurrency, audit_concurrency


def switch_parameter(template: Template, title: str, on: bool, description: str) -> Parameter:
    """A ``"true"``/``"false"`` parameter (CloudFormation parameters have no boolean type),
    defaulting to ``on``."""
    return template.add_parameter(
        Parameter(
            title,
            Type="String",
            Default="true" if on else "false",
            AllowedValues=["true", "false"],
            ConstraintDescription="true or false",
            Description=description,
        )
    )


def _waf_parameters(template: Template, config: Config) -> tuple[Parameter, Parameter]:
    """The web ACL switch and the written reason that switching it off requires."""
    enable_waf = switch_parameter(
        template,
        ENABLE_WAF_PARAM,
        config.enable_waf,
        "Put an AWS WAF web ACL (managed IP-reputation, common and known-bad-input rules, a "
        "per-IP rate limit) in front of the API stage; false needs WafExceptionReason.",
    )
    waf_exception = template.add_parameter(
        Parameter(
            WAF_EXCEPTION_PARAM,
            Type="String",
            Default=config.waf_exception_reason,
            AllowedPattern=f"^$|^{WAF_REASON_PATTERN}$",
            ConstraintDescription=f"empty, or the exception's reason: {WAF_REASON_RULE}",
            Description="Why this stack runs without the web ACL (for example: a central "
            "WAF fronts the account's APIs, ticket SEC-123); required when EnableWaf is "
            "false, ignored otherwise.",
        )
    )
    # CloudFormation itself refuses a stack with the WAF off and no written reason, however
    # the parameters were passed (template "Rules", CloudFormation user guide).
    template.add_rule(
        "WafOffOnlyWithAReason",
        {
            "RuleCondition": Equals(Ref(enable_waf), "false"),
            "Assertions": [
                {
                    "Assert": Not(Equals(Ref(waf_exception), "")),
                    "AssertDescription": "EnableWaf=false needs WafExceptionReason: why the "
                    "API runs without a web ACL",
                }
            ],
        },
    )
    return enable_waf, waf_exception


def _set_interface(template: Template, groups: list[tuple[str, dict[Parameter, str]]]) -> None:
    """The console's parameter form: the groups in order, each parameter with its label."""
    template.set_metadata(
        {"AWS::CloudFormation::Interface": {"ParameterGroups": [], "ParameterLabels": {}}}
    )
    for label, parameters in groups:
        add_parameter_group(template, label, parameters)


def _reservation_parameter(
    template: Template, title: str, value: int | None, maximum: int, what: str
) -> Parameter:
    """Reserved concurrency as the operator's choice, empty (no reservation) by default.

    Lambda keeps 100 concurrent executions of each account and region unreserved, and a new
    account's quota may be 10 or 50 in all ("Lambda quotas"; "Configuring reserved concurrency
    for a function"): a reservation the account cannot give fails the stack, so none is made
    unless asked, and deploy checks the account before it asks
    (payment_ops/deployment/preflight.py).
    A String, because a Number parameter cannot be empty.
    """
    return template.add_parameter(
        Parameter(
            title,
            Type="String",
            Default="" if value is None else str(value),
            AllowedPattern=_whole_number_pattern(maximum),
            ConstraintDescription="empty for no reservation, "
            f"or a whole number from 1 to {maximum}",
            Description=f"Concurrent executions reserved for {what}; empty: none reserved, the "
            "function shares the account's unreserved concurrency.",
        )
    )


def _whole_number_pattern(maximum: int) -> str:
    """Empty, or 1..``maximum`` where ``maximum`` is a power of ten (100, 1000)."""
    digits = len(str(maximum)) - 1
    if maximum != 10**digits:
        raise ValueError(f"{maximum} is not a power of ten")
    return rf"^$|^[1-9][0-9]{{0,{digits - 1}}}$|^{maximum}$"


def code_bucket(params: Params) -> object:
    """The bucket the functions' code comes from."""
    if params.artifact_bucket_per_region:
        return Sub(f"${{{ARTIFACT_PREFIX_PARAM}}}-${{AWS::Region}}")
    return Ref(params.artifact_bucket)


def add_parameter_group(template: Template, label: str, parameters: dict[Parameter, str]) -> None:
    """Another group in the console's parameter form (parameter -> its label), after those
    ``add_parameters`` made."""
    interface = template.metadata["AWS::CloudFormation::Interface"]
    interface["ParameterGroups"].append(
        {"Label": {"default": label}, "Parameters": [p.title for p in parameters]}
    )
    for parameter, text in parameters.items():
        interface["ParameterLabels"][parameter.title] = {"default": text}


def name(thing: str) -> Sub:
    """``payment-<suffix>-<thing>``, the name of every resource that takes one."""
    return Sub(names.resource(names.SUB_SUFFIX, thing))


def tags(**extra: str) -> Tags:
    """The tags of CONTRACT §1, following the suffix parameter so a stack is tagged as deployed."""
    return Tags(**tag_dict(), **extra)


def tag_dict() -> dict[str, object]:
    """The same tags for the resource types that take a plain map (SSM parameters)."""
    return {
        names.ENVIRONMENT_TAG: Ref(SUFFIX_PARAM),
        names.SUFFIX_TAG: Ref(SUFFIX_PARAM),
        names.MANAGED_BY_TAG: MANAGED_BY,
        names.PROJECT_TAG: PROJECT,
    }


def arn(service: str, resource: str, *, region: str | None = None, account: bool = True) -> Sub:
    """An ARN built from pseudo parameters; ``region`` names another region explicitly.

    Another region goes in as a named ``Sub`` variable, so the ARN stays readable and no region
    is hard-coded into the string itself.
    """
    region_part = "${AWS::Region}" if region is None else "${TargetRegion}"
    account_part = "${AWS::AccountId}" if account else ""
    text = f"arn:${{AWS::Partition}}:{service}:{region_part}:{account_part}:{resource}"
    if region is None:
        return Sub(text)
    return Sub(text, TargetRegion=region)


# DeletionPolicy values that keep a resource when its stack is deleted or an update removes it.
RETAINED_POLICIES = frozenset({"Retain", "RetainExceptOnCreate"})


def deny_insecure_transport(service: str, resources: list[object]) -> Statement:
    """A resource-policy statement that refuses every ``service`` request not sent over TLS
    (PCI DSS 4.2.1): the ``aws:SecureTransport`` deny that the S3, SNS and SQS guides document."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[AwacsAction(service, "*")],
        Resource=resources,
        Condition=Condition(Bool("aws:SecureTransport", False)),
    )


def retain(resource: AWSObject) -> AWSObject:
    """Stateful resources survive stack deletion and replacement (payments are the business).

    ``RetainExceptOnCreate``, not ``Retain``: CloudFormation keeps ``Retain`` resources when the
    creation that made them rolls back, so a failed first deploy would leave the named table,
    buckets and keys behind, empty, and every retry would fail "already exists". This policy
    behaves like ``Retain`` for every other operation (delete, removal from the template) and
    deletes the resource only when the operation that created it rolls back - before it ever
    held data ("DeletionPolicy attribute", AWS CloudFormation Template Reference). A
    replacement keeps the old resource (``UpdateReplacePolicy Retain``: the policy has no
    except-on-create form).
    """
    resource.DeletionPolicy = "RetainExceptOnCreate"
    resource.UpdateReplacePolicy = "Retain"
    return resource


def disposable(resource: AWSObject) -> AWSObject:
    """Said explicitly for resources that hold no business data of their own (short-lived logs,
    failure pointers into a 24-hour stream, a regenerable key value)."""
    resource.DeletionPolicy = "Delete"
    resource.UpdateReplacePolicy = "Delete"
    return resource


CFN_LINT_REASONS = "cfn-lint-reasons"
GUARD_REASONS = "guard-reasons"


def suppress(
    resource: AWSObject,
    *,
    checkov: dict[str, str] | None = None,
    cfn_lint: dict[str, str] | None = None,
    parliament: dict[str, str] | None = None,
    guard: dict[str, str] | None = None,
) -> AWSObject:
    """Record an accepted finding next to the resource it concerns, with the reason.

    checkov reads ``Metadata.checkov.skip`` (id + comment); cfn-lint reads
    ``Metadata.cfn-lint.config.ignore_checks`` and has no place for a reason, so the reasons sit
    beside it under ``cfn-lint-reasons``; the IAM policy linter (parliament) reads
    ``Metadata.parliament.ignore`` (issue + comment); the AWS Guard Rules Registry's rules
    (cfn-guard) read ``Metadata.guard.SuppressedRules`` (rule names) and have no place for a
    reason either, so they sit beside it under ``guard-reasons``. The security gate refuses any
    suppression without a reason.
    """
    metadata = dict(getattr(resource, "Metadata", {}) or {})
    if checkov:
        skips = list(metadata.get("checkov", {}).get("skip", []))
        skips += [{"id": check, "comment": reason} for check, reason in sorted(checkov.items())]
        metadata["checkov"] = {"skip": skips}
    if cfn_lint:
        ignored = metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", [])
        metadata["cfn-lint"] = {"config": {"ignore_checks": [*ignored, *sorted(cfn_lint)]}}
        metadata[CFN_LINT_REASONS] = {**metadata.get(CFN_LINT_REASONS, {}), **cfn_lint}
    if parliament:
        ignores = list(metadata.get("parliament", {}).get("ignore", []))
        ignores += [{"issue": issue, "comment": why} for issue, why in sorted(parliament.items())]
        metadata["parliament"] = {"ignore": ignores}
    if guard:
        rules = metadata.get("guard", {}).get("SuppressedRules", [])
        metadata["guard"] = {"SuppressedRules": [*rules, *sorted(guard)]}
        metadata[GUARD_REASONS] = {**metadata.get(GUARD_REASONS, {}), **guard}
    resource.Metadata = metadata
    return resource
