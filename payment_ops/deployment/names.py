"""Names of everything the tools create or look for, as the tools' facade of the one owner,
``templates_src/names.py``: nothing here spells a name or a formula, so the generator's
configuration check (templates_src/naming.py) proves the very names deploy uses."""

from __future__ import annotations

from templates_src.config import PROJECT
from templates_src.names import (
    ACCOUNT_BASELINE_STACK_SET,
    ALARM_EMAIL_PARAM,
    API_ID_OUTPUT,
    API_KEY_SECRET,
    API_URL_OUTPUT,
    ARTIFACT_BUCKET_PARAM,
    ARTIFACT_PREFIX_PARAM,
    AUDIT_BUCKET_OUTPUT,
    AUDIT_WRITER_FUNCTION,
    CODE_KEY_PARAM,
    CUSTOM_DOMAIN_URL_OUTPUT,
    DELETE_ORDER,
    DEPLOY_ORDER,
    ENVIRONMENT_TAG,
    HEALTH_CHECK_OUTPUT,
    MANAGED_BY_TAG,
    PROCESSOR_FUNCTION,
    REGIONAL_DOMAIN_OUTPUT,
    ROLES_STACK,
    SUFFIX_PARAM,
    SUFFIX_TAG,
    TABLE_OUTPUT,
    artifact_bucket,
    artifact_prefix,
    audit_bucket,
    client_role,
    deployment,
    key_alias,
    log_group_prefixes,
    prefix,
    resource,
    stack_instance_prefix,
    stack_set,
    table,
)
from templates_src.names import PROJECT_TAG as PROJECT_TAG_KEY

__all__ = [
    "ACCOUNT_BASELINE_STACK_SET",
    "ALARM_EMAIL_PARAM",
    "API_ID_OUTPUT",
    "API_URL_OUTPUT",
    "ARTIFACT_BUCKET_PARAM",
    "ARTIFACT_PREFIX_PARAM",
    "AUDIT_BUCKET_OUTPUT",
    "AUDIT_WRITER_FUNCTION",
    "CODE_KEY_PARAM",
    "CUSTOM_DOMAIN_URL_OUTPUT",
    "DELETE_ORDER",
    "DEPLOY_ORDER",
    "ENVIRONMENT_TAG",
    "HEALTH_CHECK_OUTPUT",
    "MANAGED_BY_TAG",
    "PROCESSOR_FUNCTION",
    "PROJECT_TAG",
    "REGIONAL_DOMAIN_OUTPUT",
    "ROLES_STACK",
    "SUFFIX_PARAM",
    "SUFFIX_TAG",
    "TABLE_OUTPUT",
    "api_key_secret",
    "artifact_bucket",
    "artifact_prefix",
    "audit_bucket",
    "client_role",
    "deployment",
    "key_alias",
    "log_group_prefixes",
    "prefix",
    "resource",
    "stack_instance_prefix",
    "stack_set",
    "table",
]

# The tag every resource of the project carries (CONTRACT §1), as a (key, value) pair.
PROJECT_TAG = (PROJECT_TAG_KEY, PROJECT)


def api_key_secret(suffix: str) -> str:
    """The API key's secret of earlier deployments, in the primary region, replicated."""
    return resource(suffix, API_KEY_SECRET)
