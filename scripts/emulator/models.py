"""moto CloudFormation models for the resource types moto 5.2 skips, one class per type.

Each model creates the real resource in moto's backend (so boto3 sees it), answers ``Ref`` and
``Fn::GetAtt`` like CloudFormation, and deletes the resource with its stack unless the template
retains it. moto finds a model through ``CloudFormationModel.__subclasses__()``, so every class
here subclasses ``CloudFormationModel`` directly (the shared behaviour comes from a mixin).

Besides the AWS types, ``Custom::TableStream`` is served here (``patches`` routes it past moto's
CustomModel): the model answers as its provider Lambda would, without running it. The regional
failover types: ``AWS::CertificateManager::Certificate`` (DNS-validated through the hosted zone,
ISSUED), ``AWS::ApiGateway::DomainName`` and ``AWS::ApiGateway::BasePathMapping``; the failover
records themselves are moto's ``AWS::Route53::RecordSet``, fixed in ``patches``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.acm.models import acm_backends
from moto.apigateway.models import apigateway_backends
from moto.awslambda.utils import get_backend as get_lambda_backend
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import dynamodb_backends
from moto.kms.exceptions import AlreadyExistsException
from moto.kms.models import Alias, Key, kms_backends
from moto.route53.models import route53_backends
from moto.s3.models import FakeBucket, s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sns.models import sns_backends
from moto.ssm.models import Parameter as SsmParameterModel
from moto.utilities.utils import get_partition
from moto.wafv2.models import wafv2_backends


@contextmanager
def _already_gone() -> Iterator[None]:
    """A delete finds its resource gone with its parent (a stage with its API): that is done.

    moto deletes a stack's resources in no particular order, retrying failures."""
    try:
        yield
    except Exception as error:  # noqa: BLE001
        name = type(error).__name__
        if not (isinstance(error, KeyError) or "NotFound" in name or "Nonexistent" in name):
            raise


def _tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


class _Resource:
    """What every project model shares: identity, attributes, replace-on-update."""

    TYPE = ""
    NAME_PROPERTY = ""  # the property that names the resource, "" when AWS generates the name
    ATTRIBUTES: tuple[str, ...] = ()

    def __init__(self, physical_id: str, account_id: str, region_name: str, **attributes: Any):
        self.physical_id = physical_id
        self.account_id = account_id
        self.region_name = region_name
        self.attributes = attributes

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        return cls.create(
            resource_name, cloudformation_json.get("Properties", {}), account_id, region_name
        )

    @classmethod
    def create(cls, resource_name: str, props: dict, account_id: str, region_name: str) -> Any:
        """Make the resource in moto's backend from its template properties."""
        raise NotImplementedError

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        # CloudFormation replaces what it cannot update in place; for these types that is safe.
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str
    ) -> None:
        """Unused: moto deletes through the instance's ``delete``."""

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError


class GlobalTable(_Resource, CloudFormationModel):
    """A table with the declared keys, indexes, stream and encryption in every replica region.

    Each replica needs its region's KMS key to exist first, as in AWS: a missing key fails the
    stack, which is how the emulator proves the replica-before-primary order.
    """

    TYPE = "AWS::DynamoDB::GlobalTable"
    NAME_PROPERTY = "TableName"
    ATTRIBUTES = ("Arn", "StreamArn", "TableId")

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> GlobalTable:
        table = cls(resource_name, account_id, region_name)
        table.regions = []
        table.key_schema = props["KeySchema"]
        # Every replica's key is checked before any table exists, so a missing key leaves
        # nothing behind (CloudFormation would roll the partial table back).
        for replica in props.get("Replicas", []):
            table._check_key(props, replica)
        for replica in props.get("Replicas", []):
            table._create_replica(props, replica)
        table._refresh_attributes()
        return table

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: GlobalTable,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> GlobalTable:
        props = cloudformation_json["Properties"]
        if props["KeySchema"] != getattr(original_resource, "key_schema", props["KeySchema"]):
            # DynamoDB cannot change a table's key: CloudFormation replaces the table, which it
            # refuses while the table keeps its custom name.
            if new_resource_name == original_resource.physical_id:
                raise ValidationError(
                    message="CloudFormation cannot update a stack when a custom-named resource "
                    f"requires replacing. Rename {new_resource_name} and update the stack again."
                )
            if cloudformation_json.get("UpdateReplacePolicy") != "Retain":
                original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        wanted = {replica["Region"]: replica for replica in props.get("Replicas", [])}
        for region in [r for r in original_resource.regions if r not in wanted]:
            original_resource._delete_replica(region)
        for region, replica in wanted.items():
            if region in original_resource.regions:
                backend = dynamodb_backends[account_id][region]
                table = backend.get_table(original_resource.physical_id)
                table.deletion_protection_enabled = replica.get("DeletionProtectionEnabled", False)
            else:
                original_resource._create_replica(props, replica)
        original_resource._refresh_attributes()
        return original_resource

    def _check_key(self, props: dict, replica: dict) -> None:
        region = replica["Region"]
        key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
        if not key or not (props.get("SSESpecification") or {}).get("SSEEnabled"):
            return
        try:
            kms_backends[self.account_id][region].describe_key(key)
        except Exception as error:  # noqa: BLE001 - any lookup failure means "no key"
            raise ValidationError(
                message=f"Replica {region}: KMS key {key} does not exist in {region}"
            ) from error

    def _create_replica(self, props: dict, replica: dict) -> None:
        region = replica["Region"]
        self._check_key(props, replica)
        key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
        sse = None
        if (props.get("SSESpecification") or {}).get("SSEEnabled"):
            sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
        backend = dynamodb_backends[self.account_id][region]
        backend.create_table(
            name=self.physical_id,
            schema=props["KeySchema"],
            throughput=None,
            attr=props["AttributeDefinitions"],
            global_indexes=props.get("GlobalSecondaryIndexes", []),
            indexes=props.get("LocalSecondaryIndexes", []),
            streams=props.get("StreamSpecification"),
            billing_mode=props.get("BillingMode", "PROVISIONED"),
            sse_specification=sse,
            tags=replica.get("Tags", []),
            deletion_protection_enabled=replica.get("DeletionProtectionEnabled", False),
            warm_throughput=None,
        )
        pitr = (replica.get("PointInTimeRecoverySpecification") or {}).get(
            "PointInTimeRecoveryEnabled"
        )
        if pitr:
            backend.update_continuous_backups(
                self.physical_id, {"PointInTimeRecoveryEnabled": True}
            )
        self.regions.append(region)

    def _delete_replica(self, region: str) -> None:
        # Deletion protection stops this, as it stops CloudFormation.
        dynamodb_backends[self.account_id][region].delete_table(self.physical_id)
        self.regions.remove(region)

    def _refresh_attributes(self) -> None:
        table = dynamodb_backends[self.account_id][self.region_name].get_table(self.physical_id)
        description = table.describe()["TableDescription"]
        self.attributes = {
            "Arn": table.table_arn,
            "StreamArn": description.get("LatestStreamArn"),
            "TableId": table.table_id if hasattr(table, "table_id") else table.table_arn,
        }

    def delete(self, account_id: str, region_name: str) -> None:
        for region in list(self.regions):
            self._delete_replica(region)


def _provider_failed(message: str) -> ValidationError:
    """A custom resource whose provider answered FAILED, in CloudFormation's words."""
    return ValidationError(
        message=f"Received response status [FAILED] from custom resource. Message returned: "
        f"{message}"
    )


class TableStream(_Resource, CloudFormationModel):
    """``Custom::TableStream``: what its provider (handler/stream_lookup.py) answers, without
    running it (moto would invoke it in Docker): the latest stream ARN of the table's replica in
    the stack's region, as the physical id and as ``StreamArn``.

    The provider must exist (``ServiceToken``, a function ARN). A blank name, a missing table or a
    table without an enabled stream fails the resource with the provider's FAILED reason. The
    stream belongs to the table, so deleting the resource deletes nothing.
    """

    TYPE = "Custom::TableStream"
    ATTRIBUTES = ("StreamArn",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> TableStream:
        token, table_name = props["ServiceToken"], str(props.get("TableName") or "").strip()
        try:
            get_lambda_backend(account_id, region_name).get_function(token)
        except Exception as error:  # noqa: BLE001 - any lookup failure means "no provider"
            raise ValidationError(
                message=f"{cls.TYPE} {resource_name}: ServiceToken {token} is not a Lambda "
                f"function in {region_name}"
            ) from error
        if not table_name:
            raise _provider_failed("the TableName property is missing or blank")
        try:
            table = dynamodb_backends[account_id][region_name].get_table(table_name)
        except Exception as error:  # noqa: BLE001 - any lookup failure means "no table"
            raise _provider_failed(
                f"table {table_name} has no replica in {region_name} yet: "
                "deploy the primary region first"
            ) from error
        description = table.describe()["TableDescription"]
        stream_arn = description.get("LatestStreamArn")
        # A disabled stream keeps its LatestStreamArn for a day; only an enabled one counts.
        if not stream_arn or not (description.get("StreamSpecification") or {}).get(
            "StreamEnabled"
        ):
            raise _provider_failed(
                f"table {table_name} in {region_name} has no enabled stream: "
                "the audit writer needs StreamSpecification NEW_AND_OLD_IMAGES"
            )
        return cls(stream_arn, account_id, region_name, StreamArn=stream_arn)

    def delete(self, account_id: str, region_name: str) -> None:
        """The provider deletes nothing: the stream goes with its table."""


class ApiGatewayAccount(_Resource, CloudFormationModel):
    """The region-wide API Gateway setting naming the CloudWatch Logs role."""

    TYPE = "AWS::ApiGateway::Account"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayAccount:
        role_arn = props.get("CloudWatchRoleArn")
        apigateway_backends[account_id][region_name].update_account(
            [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
        )
        return cls(
            f"apigateway-account-{region_name}",
            account_id,
            region_name,
            Id=f"apigateway-account-{region_name}",
        )

    def delete(self, account_id: str, region_name: str) -> None:
        """CloudFormation leaves the account setting in place when the resource goes."""


class ApiGatewayStage(_Resource, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayStage:
        rest_api_id = props["RestApiId"]
        backend = apigateway_backends[account_id][region_name]
        stage = backend.create_stage(
            function_id=rest_api_id,
            stage_name=props["StageName"],
            deploymentId=props["DeploymentId"],
            variables=props.get("Variables"),
            description=props.get("Description", ""),
            tags=_tag_dict(props.get("Tags")),
            tracing_enabled=props.get("TracingEnabled"),
        )
        log = props.get("AccessLogSetting")
        if log:
            stage.access_log_settings = {
                "destinationArn": log.get("DestinationArn"),
                "format": log.get("Format"),
            }
        for setting in props.get("MethodSettings", []):
            path = setting.get("ResourcePath", "/*").lstrip("/") or "*"
            stage.method_settings[f"{path}/{setting.get('HttpMethod', '*')}"] = {
                "metricsEnabled": setting.get("MetricsEnabled", False),
                "dataTraceEnabled": setting.get("DataTraceEnabled", False),
                "throttlingRateLimit": setting.get("ThrottlingRateLimit"),
                "throttlingBurstLimit": setting.get("ThrottlingBurstLimit"),
            }
        resource = cls(props["StageName"], account_id, region_name)
        resource.rest_api_id = rest_api_id
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_stage(
                self.rest_api_id, self.physical_id
            )


class ApiGatewayApiKey(_Resource, CloudFormationModel):
    """The key value arrives resolved from Secrets Manager (see ``patches``)."""

    TYPE = "AWS::ApiGateway::ApiKey"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("APIKeyId",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayApiKey:
        payload = {
            "name": props.get("Name", resource_name),
            "description": props.get("Description"),
            "enabled": props.get("Enabled", False),
            "value": props.get("Value"),
            "tags": _tag_dict(props.get("Tags")),
        }
        if payload["value"] and "{{resolve:" in payload["value"]:
            raise ValidationError(message=f"unresolved dynamic reference in ApiKey {resource_name}")
        key = apigateway_backends[account_id][region_name].create_api_key(payload)
        return cls(key.id, account_id, region_name, APIKeyId=key.id)

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_api_key(self.physical_id)


class ApiGatewayUsagePlan(_Resource, CloudFormationModel):
    TYPE = "AWS::ApiGateway::UsagePlan"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayUsagePlan:
        throttle = props.get("Throttle") or {}
        quota = props.get("Quota") or {}
        payload = {
            "name": props.get("UsagePlanName", resource_name),
            "description": props.get("Description"),
            "apiStages": [
                {"apiId": stage["ApiId"], "stage": stage["Stage"]}
                for stage in props.get("ApiStages", [])
            ],
            "throttle": {
                "rateLimit": throttle.get("RateLimit"),
                "burstLimit": throttle.get("BurstLimit"),
            }
            if throttle
            else None,
            "quota": {
                "limit": quota.get("Limit"),
                "period": quota.get("Period"),
                "offset": quota.get("Offset", 0),
            }
            if quota
            else None,
            "tags": _tag_dict(props.get("Tags")),
        }
        plan = apigateway_backends[account_id][region_name].create_usage_plan(payload)
        return cls(plan.id, account_id, region_name, Id=plan.id)

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_usage_plan(self.physical_id)


class ApiGatewayUsagePlanKey(_Resource, CloudFormationModel):
    TYPE = "AWS::ApiGateway::UsagePlanKey"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayUsagePlanKey:
        plan_key = apigateway_backends[account_id][region_name].create_usage_plan_key(
            props["UsagePlanId"], {"keyId": props["KeyId"], "keyType": props["KeyType"]}
        )
        resource = cls(
            f"{props['KeyId']}:{props['UsagePlanId']}", account_id, region_name, Id=plan_key.id
        )
        resource.plan_id, resource.key_id = props["UsagePlanId"], props["KeyId"]
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_usage_plan_key(
                self.plan_id, self.key_id
            )


class ApiGatewayModel(_Resource, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Model"
    NAME_PROPERTY = "Name"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayModel:
        schema = props.get("Schema")
        apigateway_backends[account_id][region_name].create_model(
            rest_api_id=props["RestApiId"],
            name=resource_name,
            content_type=props.get("ContentType", "application/json"),
            description=props.get("Description", ""),
            schema=schema if isinstance(schema, str) else json.dumps(schema),
        )
        resource = cls(resource_name, account_id, region_name)
        resource.rest_api_id = props["RestApiId"]
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_model(
                self.rest_api_id, self.physical_id
            )


class ApiGatewayRequestValidator(_Resource, CloudFormationModel):
    TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRIBUTES = ("RequestValidatorId",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayRequestValidator:
        validator = apigateway_backends[account_id][region_name].create_request_validator(
            props["RestApiId"],
            props.get("Name", resource_name),
            props.get("ValidateRequestBody", False),
            props.get("ValidateRequestParameters", False),
        )
        resource = cls(validator.id, account_id, region_name, RequestValidatorId=validator.id)
        resource.rest_api_id = props["RestApiId"]
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_request_validator(
                self.rest_api_id, self.physical_id
            )


class ApiGatewayGatewayResponse(_Resource, CloudFormationModel):
    TYPE = "AWS::ApiGateway::GatewayResponse"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayGatewayResponse:
        apigateway_backends[account_id][region_name].put_gateway_response(
            rest_api_id=props["RestApiId"],
            response_type=props["ResponseType"],
            status_code=props.get("StatusCode"),
            response_parameters=props.get("ResponseParameters"),
            response_templates=props.get("ResponseTemplates"),
        )
        resource = cls(f"{props['RestApiId']}-{props['ResponseType']}", account_id, region_name)
        resource.rest_api_id, resource.response_type = props["RestApiId"], props["ResponseType"]
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_gateway_response(
                self.rest_api_id, self.response_type
            )


class AcmCertificate(_Resource, CloudFormationModel):
    """A DNS-validated certificate, ISSUED as CloudFormation leaves it.

    With a ``HostedZoneId`` for a name in ``DomainValidationOptions``, CloudFormation writes ACM's
    validation CNAME into that zone itself and completes the resource once ACM has issued the
    certificate; here the CNAME goes into the moto zone and the certificate is ISSUED at once. A
    name without a zone (or EMAIL validation) keeps a real stack waiting for someone to validate
    it: that fails here instead of passing. The CNAME stays when the certificate goes: it is the
    same for every certificate of the name in the account (the other regions' ones too).
    """

    TYPE = "AWS::CertificateManager::Certificate"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> AcmCertificate:
        domain_name = props["DomainName"]
        names = [domain_name, *props.get("SubjectAlternativeNames", [])]
        zones = {
            o["DomainName"]: o.get("HostedZoneId") for o in props.get("DomainValidationOptions", [])
        }
        if props.get("ValidationMethod", "DNS") != "DNS":
            raise ValidationError(
                message=f"Certificate {domain_name}: the emulator validates only by DNS "
                f"(ValidationMethod {props['ValidationMethod']} waits for e-mail approval)"
            )
        unzoned = [name for name in names if not zones.get(name)]
        if unzoned:
            raise ValidationError(
                message=f"Certificate {domain_name}: no DomainValidationOptions HostedZoneId for "
                f"{', '.join(unzoned)}; CloudFormation would wait for DNS validation"
            )
        backend = acm_backends[account_id][region_name]
        arn = backend.request_certificate(
            domain_name=domain_name,
            idempotency_token=None,
            subject_alt_names=names,
            tags=props.get("Tags", []),
        )
        certificate = backend.get_certificate(arn)
        route53 = route53_backends[account_id][get_partition(region_name)]
        for option in certificate.describe()["Certificate"]["DomainValidationOptions"]:
            record, zone = option["ResourceRecord"], zones[option["DomainName"]]
            change = {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": record["Name"],
                    "Type": record["Type"],
                    "TTL": 300,
                    "ResourceRecords": [{"Value": record["Value"]}],
                },
            }
            try:
                route53.change_resource_record_sets(zone, [change])
            except Exception as error:  # noqa: BLE001 - any Route 53 refusal fails validation
                backend.delete_certificate(arn)
                raise ValidationError(
                    message=f"Certificate {domain_name}: validation record {record['Name']} "
                    f"cannot be written to hosted zone {zone}: "
                    f"{getattr(error, 'message', None) or error}"
                ) from error
        certificate.status = "ISSUED"
        resource = cls(arn, account_id, region_name)
        resource.props = props
        return resource

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: AcmCertificate,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> AcmCertificate:
        """Tags change in place (the ARN the domain name holds stays); anything else replaces
        the certificate, as in CloudFormation."""
        props = cloudformation_json["Properties"]
        untagged = {k: v for k, v in props.items() if k != "Tags"}
        if untagged != {k: v for k, v in original_resource.props.items() if k != "Tags"}:
            return super().update_from_cloudformation_json(
                original_resource, new_resource_name, cloudformation_json, account_id, region_name
            )
        certificate = acm_backends[account_id][region_name].get_certificate(
            original_resource.physical_id
        )
        certificate.tags.clear()
        certificate.tags.add(props.get("Tags", []))
        original_resource.props = props
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            acm_backends[account_id][region_name].delete_certificate(self.physical_id)


class ApiGatewayDomainName(_Resource, CloudFormationModel):
    """A custom domain name; the regional hosted zone id is API Gateway's for the region (see
    ``patches``). The regional certificate must be an ISSUED certificate of the same region, as
    API Gateway requires."""

    TYPE = "AWS::ApiGateway::DomainName"
    NAME_PROPERTY = "DomainName"
    ATTRIBUTES = (
        "DistributionDomainName",
        "DistributionHostedZoneId",
        "DomainNameArn",
        "RegionalDomainName",
        "RegionalHostedZoneId",
    )

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayDomainName:
        backend = apigateway_backends[account_id][region_name]
        if resource_name in backend.domain_names:
            raise ValidationError(
                message=f"Domain name {resource_name} already exists in {region_name}"
            )
        cls._check_certificate(props.get("RegionalCertificateArn"), account_id, region_name)
        types = (props.get("EndpointConfiguration") or {}).get("Types") or ["EDGE"]
        domain = backend.create_domain_name(
            domain_name=resource_name,
            certificate_name=props.get("CertificateName"),
            tags=_tag_dict(props.get("Tags")),
            certificate_arn=props.get("CertificateArn"),
            certificate_body=None,
            certificate_private_key=None,
            certificate_chain=None,
            regional_certificate_name=None,
            regional_certificate_arn=props.get("RegionalCertificateArn"),
            endpoint_configuration={"types": types},
            security_policy=props.get("SecurityPolicy"),
        )
        attributes = {
            "DomainNameArn": f"arn:{get_partition(region_name)}:apigateway:{region_name}::"
            f"/domainnames/{resource_name}",
            "RegionalDomainName": domain.regional_domain_name,
            "RegionalHostedZoneId": domain.regional_hosted_zone_id,
        }
        if "EDGE" in types:
            attributes["DistributionDomainName"] = domain.distribution_domain_name
            attributes["DistributionHostedZoneId"] = domain.distribution_hosted_zone_id
        return cls(resource_name, account_id, region_name, **attributes)

    @staticmethod
    def _check_certificate(arn: str | None, account_id: str, region_name: str) -> None:
        if not arn:
            return
        try:
            status = acm_backends[account_id][region_name].get_certificate(arn).status
        except Exception as error:  # noqa: BLE001 - any lookup failure means "not here"
            raise ValidationError(
                message=f"Invalid certificate ARN: {arn}. Certificate must be in '{region_name}'."
            ) from error
        if status != "ISSUED":
            raise ValidationError(message=f"Certificate {arn} is {status}, not ISSUED")

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: ApiGatewayDomainName,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> ApiGatewayDomainName:
        """The certificate, security policy and tags change in place (the regional domain name
        the alias records point at stays); a new name is a new domain name."""
        if new_resource_name != original_resource.physical_id:
            return super().update_from_cloudformation_json(
                original_resource, new_resource_name, cloudformation_json, account_id, region_name
            )
        props = cloudformation_json["Properties"]
        cls._check_certificate(props.get("RegionalCertificateArn"), account_id, region_name)
        domain = apigateway_backends[account_id][region_name].get_domain_name(new_resource_name)
        domain.regional_certificate_arn = props.get("RegionalCertificateArn")
        domain.certificate_arn = props.get("CertificateArn")
        domain.security_policy = props.get("SecurityPolicy")
        domain.tags = _tag_dict(props.get("Tags"))
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            apigateway_backends[account_id][region_name].delete_domain_name(self.physical_id)


class ApiGatewayBasePathMapping(_Resource, CloudFormationModel):
    """A custom domain's path to a stage; an empty or absent ``BasePath`` maps the root."""

    TYPE = "AWS::ApiGateway::BasePathMapping"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayBasePathMapping:
        mapping = apigateway_backends[account_id][region_name].create_base_path_mapping(
            domain_name=props["DomainName"],
            rest_api_id=props["RestApiId"],
            base_path=props.get("BasePath") or "",
            stage=props.get("Stage"),
        )
        # API Gateway names the root mapping "(none)".
        resource = cls(f"{props['DomainName']}/{mapping.base_path}", account_id, region_name)
        resource.domain_name, resource.base_path = props["DomainName"], mapping.base_path
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():  # gone with its domain name
            apigateway_backends[account_id][region_name].delete_base_path_mapping(
                self.domain_name, self.base_path
            )


class CloudWatchAlarm(_Resource, CloudFormationModel):
    """A metric alarm or a metric-math alarm; an update overwrites it in place, as in AWS."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def _queries(metrics: list[dict] | None) -> list[MetricDataQuery] | None:
        if not metrics:
            return None
        queries = []
        for query in metrics:
            stat = query.get("MetricStat")
            metric_stat = None
            if stat:
                metric = stat["Metric"]
                metric_stat = MetricStat(
                    metric=Metric(
                        metric_name=metric["MetricName"],
                        namespace=metric["Namespace"],
                        dimensions=[
                            Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])
                        ],
                    ),
                    period=stat.get("Period"),
                    stat=stat.get("Stat"),
                    unit=stat.get("Unit"),
                )
            queries.append(
                MetricDataQuery(
                    query_id=query["Id"],
                    label=query.get("Label"),
                    period=query.get("Period"),
                    return_data=query.get("ReturnData"),
                    expression=query.get("Expression"),
                    metric_stat=metric_stat,
                )
            )
        return queries

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> CloudWatchAlarm:
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name,
            namespace=props.get("Namespace"),
            metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=props["EvaluationPeriods"],
            period=props.get("Period"),
            threshold=props.get("Threshold"),
            statistic=props.get("Statistic"),
            description=props.get("AlarmDescription"),
            dimensions=props.get("Dimensions", []),
            alarm_actions=props.get("AlarmActions", []),
            metric_data_queries=cls._queries(props.get("Metrics")),
            datapoints_to_alarm=props.get("DatapointsToAlarm"),
            extended_statistic=props.get("ExtendedStatistic"),
            ok_actions=props.get("OKActions", []),
            insufficient_data_actions=props.get("InsufficientDataActions", []),
            unit=props.get("Unit"),
            actions_enabled=props.get("ActionsEnabled", True),
            treat_missing_data=props.get("TreatMissingData"),
            tags=props.get("Tags", []),
        )
        return cls(resource_name, account_id, region_name, Arn=alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CloudWatchAlarm,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> CloudWatchAlarm:
        if new_resource_name != original_resource.physical_id:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])


class S3BucketPolicy(_Resource, CloudFormationModel):
    TYPE = "AWS::S3::BucketPolicy"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> S3BucketPolicy:
        backend = s3_backends[account_id][get_partition(region_name)]
        backend.put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        return cls(props["Bucket"], account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            s3_backends[account_id][get_partition(region_name)].delete_bucket_policy(
                self.physical_id
            )


class _Extends:
    """A moto model with properties moto ignores applied on top; moto's object is returned."""

    BASE: type[CloudFormationModel]

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.BASE.cloudformation_type()

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.BASE.cloudformation_name_type()

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return cls.BASE.has_cfn_attr(attr)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str
    ) -> None:
        cls.BASE.delete_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )


class KmsKey(_Extends, CloudFormationModel):
    """moto hands template tags (``Key``/``Value``) to a backend that wants ``TagKey``/``TagValue``
    (failing every tagged key) and stores the key policy as a dict where the API layer expects
    JSON text (failing DescribeKey); this converts both."""

    BASE = Key

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Key:
        props = dict(cloudformation_json.get("Properties", {}))
        props["Tags"] = [
            {"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags", [])
        ]
        if not isinstance(props.get("KeyPolicy"), str):
            props["KeyPolicy"] = json.dumps(props["KeyPolicy"])
        key = Key.create_from_cloudformation_json(
            resource_name, {**cloudformation_json, "Properties": props}, account_id, region_name
        )
        return key

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Key,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> Key:
        props = cloudformation_json["Properties"]
        original_resource.description = props.get("Description", original_resource.description)
        original_resource.key_rotation_status = props.get("EnableKeyRotation", False)
        original_resource.policy = json.dumps(props["KeyPolicy"])
        return original_resource


class SsmParameter(_Extends, CloudFormationModel):
    """CloudFormation gives an SSM parameter's tags as a map; moto's model wants a list. A
    parameter without ``Name`` gets a generated one, as in CloudFormation (moto crashed)."""

    BASE = SsmParameterModel

    @classmethod
    def _converted(cls, cloudformation_json: dict, resource_name: str) -> dict:
        props = dict(cloudformation_json.get("Properties", {}))
        props.setdefault("Name", resource_name)
        if isinstance(props.get("Tags"), dict):
            props["Tags"] = [{"Key": k, "Value": v} for k, v in props["Tags"].items()]
        return {**cloudformation_json, "Properties": props}

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> SsmParameterModel:
        return SsmParameterModel.create_from_cloudformation_json(
            resource_name,
            cls._converted(cloudformation_json, resource_name),
            account_id,
            region_name,
        )

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SsmParameterModel,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> SsmParameterModel:
        return SsmParameterModel.update_from_cloudformation_json(
            original_resource,
            new_resource_name,
            cls._converted(cloudformation_json, new_resource_name),
            account_id,
            region_name,
        )


class KmsAlias(_Extends, CloudFormationModel):
    """moto's alias model silently re-points an existing alias; AWS refuses (AlreadyExists), which
    is what stops a second deployment from taking over another's keys."""

    BASE = Alias

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Alias:
        name = cloudformation_json["Properties"]["AliasName"]
        if kms_backends[account_id][region_name].alias_exists(name):
            raise AlreadyExistsException(
                f"An alias with the name arn:aws:kms:{region_name}:{account_id}:{name} "
                "already exists"
            )
        return Alias.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Alias,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> Alias:
        return Alias.update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )


class S3Bucket(_Extends, CloudFormationModel):
    """moto's bucket model applies only encryption and tags; this adds versioning, the public
    access block, ownership controls and the lifecycle rules."""

    BASE = FakeBucket

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        bucket = FakeBucket.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        cls._configure(
            bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name
        )
        return bucket

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: FakeBucket,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> FakeBucket:
        bucket = FakeBucket.update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        cls._configure(
            bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name
        )
        return bucket

    @staticmethod
    def _configure(name: str, props: dict, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            backend.put_bucket_versioning(name, versioning)
        block = props.get("PublicAccessBlockConfiguration")
        if block:
            backend.put_public_access_block(
                name, {key: str(value).lower() for key, value in block.items()}
            )
        ownership = props.get("OwnershipControls")
        if ownership:
            backend.put_bucket_ownership_controls(name, ownership["Rules"][0]["ObjectOwnership"])
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            backend.put_bucket_lifecycle(name, [_lifecycle_rule(r) for r in lifecycle["Rules"]])


def _lifecycle_rule(rule: dict) -> dict:
    """CloudFormation's lifecycle rule shape to the S3 API's (as moto parses it from XML)."""
    converted: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"]}
    if "Prefix" in rule:
        converted["Prefix"] = rule["Prefix"]
    else:
        converted["Filter"] = {"Prefix": ""}
    converted["Transition"] = [
        {"Days": t.get("TransitionInDays"), "StorageClass": t["StorageClass"]}
        for t in rule.get("Transitions", [])
    ]
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": rule["ExpirationInDays"]}
    return converted


class SnsTopicPolicy(_Resource, CloudFormationModel):
    TYPE = "AWS::SNS::TopicPolicy"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> SnsTopicPolicy:
        backend = sns_backends[account_id][region_name]
        for topic_arn in props["Topics"]:
            backend.set_topic_attribute(topic_arn, "policy", json.dumps(props["PolicyDocument"]))
        resource = cls(resource_name, account_id, region_name, Id=resource_name)
        resource.topics = list(props["Topics"])
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sns_backends[account_id][region_name]
        for topic_arn in self.topics:
            topic = backend.topics.get(topic_arn)
            if topic is not None:  # the default policy comes back, as in AWS
                topic._policy_json = topic._create_default_topic_policy(
                    region_name, account_id, topic.name
                )


class SnsSubscription(_Resource, CloudFormationModel):
    TYPE = "AWS::SNS::Subscription"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> SnsSubscription:
        subscription = sns_backends[account_id][region_name].subscribe(
            props["TopicArn"], props["Endpoint"], props["Protocol"]
        )
        return cls(subscription.arn, account_id, region_name, Arn=subscription.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.physical_id)


class SecretsManagerSecret(_Resource, CloudFormationModel):
    """A secret with a generated value (``GenerateSecretString``) and its replica regions."""

    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> SecretsManagerSecret:
        backend = secretsmanager_backends[account_id][region_name]
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if generate:
            password = json.loads(
                backend.get_random_password(
                    password_length=generate.get("PasswordLength", 32),
                    exclude_characters=generate.get("ExcludeCharacters", ""),
                    exclude_numbers=generate.get("ExcludeNumbers", False),
                    exclude_punctuation=generate.get("ExcludePunctuation", False),
                    exclude_uppercase=generate.get("ExcludeUppercase", False),
                    exclude_lowercase=generate.get("ExcludeLowercase", False),
                    include_space=generate.get("IncludeSpace", False),
                    require_each_included_type=generate.get("RequireEachIncludedType", True),
                )
            )["RandomPassword"]
            if "GenerateStringKey" in generate:
                document = json.loads(generate.get("SecretStringTemplate", "{}"))
                document[generate["GenerateStringKey"]] = password
                value = json.dumps(document)
            else:
                value = password
        replicas = [
            {k: v for k, v in (("Region", r["Region"]), ("KmsKeyId", r.get("KmsKeyId"))) if v}
            for r in props.get("ReplicaRegions", [])
        ]
        backend.create_secret(
            name=resource_name,
            secret_string=value,
            secret_binary=None,
            description=props.get("Description"),
            tags=props.get("Tags", []),
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=replicas,
            force_overwrite=False,
        )
        arn = backend.describe_secret(resource_name).arn
        resource = cls(arn, account_id, region_name, Id=arn)
        resource.replica_regions = [r["Region"] for r in replicas]
        return resource

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: SecretsManagerSecret,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> SecretsManagerSecret:
        """In place, as CloudFormation does: the value is never generated again (the API key
        reads it), only the replica regions and the description follow the template."""
        backend = secretsmanager_backends[account_id][region_name]
        secret = backend.describe_secret(original_resource.physical_id)
        if secret.name != new_resource_name:  # a new name is a new secret
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        props = cloudformation_json["Properties"]
        wanted = {r["Region"]: r for r in props.get("ReplicaRegions", [])}
        removed = [r for r in original_resource.replica_regions if r not in wanted]
        added = [
            {k: v for k, v in r.items() if k in ("Region", "KmsKeyId")}
            for region, r in wanted.items()
            if region not in original_resource.replica_regions
        ]
        if removed:
            backend.remove_regions_from_replication(original_resource.physical_id, removed)
        if added:
            backend.replicate_secret_to_regions(original_resource.physical_id, added, False)
        secret.description = props.get("Description", secret.description)
        original_resource.replica_regions = list(wanted)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = secretsmanager_backends[account_id][region_name]
        if self.replica_regions:
            backend.remove_regions_from_replication(self.physical_id, self.replica_regions)
        backend.delete_secret(self.physical_id, None, True)


class Wafv2WebAcl(_Resource, CloudFormationModel):
    TYPE = "AWS::WAFv2::WebACL"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Arn", "Id", "Capacity", "LabelNamespace")

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> Wafv2WebAcl:
        acl = wafv2_backends[account_id][region_name].create_web_acl(
            name=resource_name,
            visibility_config=props["VisibilityConfig"],
            default_action=props["DefaultAction"],
            scope=props["Scope"],
            description=props.get("Description", ""),
            tags=props.get("Tags", []),
            rules=props.get("Rules", []),
            association_config=props.get("AssociationConfig"),
            captcha_config=props.get("CaptchaConfig"),
            challenge_config=props.get("ChallengeConfig"),
            custom_response_bodies=props.get("CustomResponseBodies"),
            token_domains=props.get("TokenDomains"),
        )
        # Ref of a web ACL is "name|id|scope" in CloudFormation.
        resource = cls(
            f"{acl.name}|{acl.id}|{props['Scope']}",
            account_id,
            region_name,
            Arn=acl.arn,
            Id=acl.id,
            Capacity=acl.capacity,
            LabelNamespace=acl.label_namespace,
        )
        resource.scope, resource.acl = props["Scope"], acl
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            wafv2_backends[account_id][region_name].delete_web_acl(
                self.acl.name, self.scope, self.acl.id, self.acl.lock_token
            )


class Wafv2WebAclAssociation(_Resource, CloudFormationModel):
    TYPE = "AWS::WAFv2::WebACLAssociation"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> Wafv2WebAclAssociation:
        wafv2_backends[account_id][region_name].associate_web_acl(
            props["WebACLArn"], props["ResourceArn"]
        )
        return cls(props["ResourceArn"], account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        wafv2_backends[account_id][region_name].disassociate_web_acl(self.physical_id)


class Wafv2LoggingConfiguration(_Resource, CloudFormationModel):
    TYPE = "AWS::WAFv2::LoggingConfiguration"
    ATTRIBUTES = ("ManagedByFirewallManager",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> Wafv2LoggingConfiguration:
        wafv2_backends[account_id][region_name].put_logging_configuration(
            props["ResourceArn"],
            props["LogDestinationConfigs"],
            props.get("RedactedFields"),
            False,
            props.get("LoggingFilter"),
        )
        return cls(props["ResourceArn"], account_id, region_name, ManagedByFirewallManager=False)

    def delete(self, account_id: str, region_name: str) -> None:
        with _already_gone():
            wafv2_backends[account_id][region_name].delete_logging_configuration(self.physical_id)


__all__ = [
    "AcmCertificate",
    "ApiGatewayAccount",
    "ApiGatewayApiKey",
    "ApiGatewayBasePathMapping",
    "ApiGatewayDomainName",
    "ApiGatewayGatewayResponse",
    "ApiGatewayModel",
    "ApiGatewayRequestValidator",
    "ApiGatewayStage",
    "ApiGatewayUsagePlan",
    "ApiGatewayUsagePlanKey",
    "CloudWatchAlarm",
    "GlobalTable",
    "KmsAlias",
    "KmsKey",
    "S3Bucket",
    "S3BucketPolicy",
    "SecretsManagerSecret",
    "SnsSubscription",
    "SsmParameter",
    "TableStream",
    "Wafv2LoggingConfiguration",
    "Wafv2WebAcl",
    "Wafv2WebAclAssociation",
    "SnsTopicPolicy",
]
