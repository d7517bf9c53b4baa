"""One registered client of the payment API: its IAM role (``client.template.json``).

Deployed by ``scripts/clients.py`` as the plain stack ``payment-<suffix>-client-<client_id>`` in
the primary region. IAM is global, so the one role is the client's identity in every region: its
sessions sign ``POST /process`` with SigV4 ("Control access to a REST API with IAM
permissions"), the REST API's resource policy admits only roles named
``payment-<suffix>-client-*`` ("API Gateway resource policies"), and the handler reads the client
id back from the role name in ``requestContext.identity.userArn``.

* trust: the client's own AWS principals (``TrustedPrincipalArns``) may ``sts:AssumeRole`` (and
  ``sts:TagSession``) when they give ``ExternalId`` ("How to use an external ID when granting
  access to your AWS resources to a third party", IAM User Guide). Rotation: add the new
  principal, let the client switch, update again without the old one (the overlap window);
* sessions last at most an hour (``MaxSessionDuration``);
* permissions: ``execute-api:Invoke`` on ``POST /process`` of the ``prod`` stage in each
  deployment region, nothing else ("Control access for invoking an API": the
  ``execute-api:Invoke`` resource format), capped by the product's permissions boundary;
* revocation: deleting the stack deletes the role and its policy; a session's next request is
  then refused ("Revoking IAM role temporary security credentials": permissions are evaluated
  on every request).
"""

from __future__ import annotations

from awacs import execute_api, sts
from awacs.aws import Allow, Condition, Policy, Principal, Statement, StringEquals
from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template
from troposphere.iam import ManagedPolicy, Role

from . import names
from .boundary import permissions_boundary_arn
from .common import STAGE_NAME, SUFFIX_PARAM, add_parameter_group, suppress, tags
from .config import SUFFIX_PATTERN, SUFFIX_RULE, Config
from .iam import role_policy

CLIENT_ID_PARAM = "ClientId"
TRUSTED_PRINCIPALS_PARAM = "TrustedPrincipalArns"
EXTERNAL_ID_PARAM = "ExternalId"
# A role name is at most 64 characters: "payment-" + 20-character suffix + "-client-" + 28.
CLIENT_ID_PATTERN = r"^[a-z][a-z0-9-]{0,27}$"
CLIENT_ID_RULE = "1-28 characters of a-z, 0-9 and '-', starting with a letter"
# STS AssumeRole ExternalId: 2-1224 characters of [\w+=,.@:/-] ("AssumeRole", STS API Reference).
EXTERNAL_ID_PATTERN = r"^[\w+=,.@:/-]{2,1224}$"
ROLE_THING = names.CLIENT_ROLE
MAX_SESSION_SECONDS = 3600
ROLE_TITLE = "ClientRole"


def role_name() -> Sub:
    return Sub(names.client_role(names.SUB_SUFFIX, f"${{{CLIENT_ID_PARAM}}}"))


def _parameters(template: Template, config: Config) -> dict[Parameter, str]:
    suffix = template.add_parameter(
        Parameter(
            SUFFIX_PARAM,
            Type="String",
            Default=config.environment_suffix,
            AllowedPattern=SUFFIX_PATTERN,
            ConstraintDescription=SUFFIX_RULE,
            Description="The environment whose payment API this client may call",
        )
    )
    client_id = template.add_parameter(
        Parameter(
            CLIENT_ID_PARAM,
            Type="String",
            AllowedPattern=CLIENT_ID_PATTERN,
            ConstraintDescription=CLIENT_ID_RULE,
            Description="The client's id: its Idempotency-Key scope and the client_id on its "
            "payments and audit objects, the same in every region",
        )
    )
    principals = template.add_parameter(
        Parameter(
            TRUSTED_PRINCIPALS_PARAM,
            Type="CommaDelimitedList",
            Description="The client's own AWS principals (account root, role or user ARNs) that "
            "may assume the client role; two during a rotation",
        )
    )
    external_id = template.add_parameter(
        Parameter(
            EXTERNAL_ID_PARAM,
            Type="String",
            AllowedPattern=EXTERNAL_ID_PATTERN,
            ConstraintDescription="2-1224 characters of letters, digits and +=,.@:/-_",
            Description="The external id the client gives in AssumeRole (against the confused "
            "deputy problem)",
        )
    )
    return {
        suffix: "Environment suffix",
        client_id: "Client id",
        principals: "Trusted principals",
        external_id: "External id",
    }


def _invoke_arns(config: Config) -> list[Sub]:
    """``POST /process`` of the stage in each deployment region (any API id: the stack is made
    before or after the APIs, and the resource policy of each API does the rest)."""
    return [
        Sub(
            f"arn:${{AWS::Partition}}:execute-api:{region}:${{AWS::AccountId}}:"
            f"*/{STAGE_NAME}/POST/process"
        )
        for region in config.regions
    ]


def build_client(config: Config) -> Template:
    template = Template(
        Description="Payment API client: the IAM role whose sessions may call POST /process "
        f"in {', '.join(config.regions)}. One stack per client."
    )
    template.set_version("2010-09-09")
    template.set_metadata(
        {"AWS::CloudFormation::Interface": {"ParameterGroups": [], "ParameterLabels": {}}}
    )
    add_parameter_group(template, "Client", _parameters(template, config))
    role = _add_role(template, _add_invoke_policy(template, config))
    template.add_output(Output("ClientId", Description="Client id", Value=Ref(CLIENT_ID_PARAM)))
    template.add_output(
        Output("RoleArn", Description="The role the client assumes", Value=GetAtt(role, "Arn"))
    )
    return template


def _trust() -> Policy:
    """Who may assume the role: the client's principals, with the external id."""
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="ClientPrincipalsWithTheExternalId",
                Effect=Allow,
                Principal=Principal("AWS", Ref(TRUSTED_PRINCIPALS_PARAM)),
                Action=[sts.AssumeRole, sts.TagSession],
                Condition=Condition(StringEquals("sts:ExternalId", Ref(EXTERNAL_ID_PARAM))),
            )
        ],
    )


def _add_invoke_policy(template: Template, config: Config) -> ManagedPolicy:
    """What the role may do: ``POST /process`` in each deployment region, nothing else."""
    # A customer managed policy, like every role's (IAM best practices: "Use customer managed
    # policies instead of inline policies"); named like the role, which IAM keeps unique.
    invoke = role_policy(
        template,
        "ClientPolicy",
        role_name(),
        Sub(f"{names.SUB_DEPLOYMENT}: client ${{{CLIENT_ID_PARAM}}} may call POST /process"),
        [
            Statement(
                Sid="ProcessPayments",
                Effect=Allow,
                Action=[execute_api.Invoke],
                Resource=_invoke_arns(config),
            )
        ],
    )
    return suppress(
        invoke,
        cfn_lint={
            "I3042": "The role is global and made once, in the primary region: it names "
            "POST /process in each deployment region on purpose, not only its own."
        },
    )


def _add_role(template: Template, invoke: ManagedPolicy) -> Role:
    return template.add_resource(
        Role(
            ROLE_TITLE,
            RoleName=role_name(),
            Description=Sub(
                f"{names.SUB_DEPLOYMENT}: API client ${{{CLIENT_ID_PARAM}}}, POST /process"
            ),
            AssumeRolePolicyDocument=_trust(),
            MaxSessionDuration=MAX_SESSION_SECONDS,
            PermissionsBoundary=permissions_boundary_arn(),
            ManagedPolicyArns=[Ref(invoke)],
            Tags=tags(),
        )
    )
