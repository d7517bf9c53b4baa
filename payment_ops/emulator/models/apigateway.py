"""API Gateway: account settings, stage, usage plan and its key, model, request
validator, gateway response, custom domain name and base-path mapping."""

from __future__ import annotations

import json

from moto.acm.models import acm_backends
from moto.apigateway.models import apigateway_backends
from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.utilities.utils import get_partition

from .base import ProjectModel, already_gone, tag_dict


class ApiGatewayAccount(ProjectModel, CloudFormationModel):
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


# API Gateway's refusal of a stage that logs while the account and region name no CloudWatch
# Logs role ("Set up CloudWatch logging for REST APIs in API Gateway": the role is an account
# setting, AWS::ApiGateway::Account, that must exist before logging is turned on).
NO_LOGGING_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"


def _logs(props: dict) -> bool:
    """Whether the stage writes execution or access logs."""
    return bool(props.get("AccessLogSetting")) or any(
        setting.get("LoggingLevel", "OFF") != "OFF" or setting.get("DataTraceEnabled")
        for setting in props.get("MethodSettings", [])
    )


class ApiGatewayStage(ProjectModel, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Stage"
    NAME_PROPERTY = "StageName"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> ApiGatewayStage:
        rest_api_id = props["RestApiId"]
        backend = apigateway_backends[account_id][region_name]
        if _logs(props) and not backend.get_account().cloudwatch_role_arn:
            raise ValidationError(message=NO_LOGGING_ROLE)
        stage = backend.create_stage(
            function_id=rest_api_id,
            stage_name=props["StageName"],
            deploymentId=props["DeploymentId"],
            variables=props.get("Variables"),
            description=props.get("Description", ""),
            tags=tag_dict(props.get("Tags")),
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
        with already_gone():
            apigateway_backends[account_id][region_name].delete_stage(
                self.rest_api_id, self.physical_id
            )


class ApiGatewayUsagePlan(ProjectModel, CloudFormationModel):
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
            "tags": tag_dict(props.get("Tags")),
        }
        plan = apigateway_backends[account_id][region_name].create_usage_plan(payload)
        return cls(plan.id, account_id, region_name, Id=plan.id)

    def delete(self, account_id: str, region_name: str) -> None:
        with already_gone():
            apigateway_backends[account_id][region_name].delete_usage_plan(self.physical_id)


class ApiGatewayUsagePlanKey(ProjectModel, CloudFormationModel):
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
        with already_gone():
            apigateway_backends[account_id][region_name].delete_usage_plan_key(
                self.plan_id, self.key_id
            )


class ApiGatewayModel(ProjectModel, CloudFormationModel):
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
        with already_gone():
            apigateway_backends[account_id][region_name].delete_model(
                self.rest_api_id, self.physical_id
            )


class ApiGatewayRequestValidator(ProjectModel, CloudFormationModel):
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
        with already_gone():
            apigateway_backends[account_id][region_name].delete_request_validator(
                self.rest_api_id, self.physical_id
            )


class ApiGatewayGatewayResponse(ProjectModel, CloudFormationModel):
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
        with already_gone():
            apigateway_backends[account_id][region_name].delete_gateway_response(
                self.rest_api_id, self.response_type
            )


class ApiGatewayDomainName(ProjectModel, CloudFormationModel):
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
            tags=tag_dict(props.get("Tags")),
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
        domain.tags = tag_dict(props.get("Tags"))
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        with already_gone():
            apigateway_backends[account_id][region_name].delete_domain_name(self.physical_id)


class ApiGatewayBasePathMapping(ProjectModel, CloudFormationModel):
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
        with already_gone():  # gone with its domain name
            apigateway_backends[account_id][region_name].delete_base_path_mapping(
                self.domain_name, self.base_path
            )
