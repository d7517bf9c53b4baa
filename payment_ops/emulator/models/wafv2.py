"""WAFv2: web ACL, its association with a stage, its logging configuration."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.wafv2.models import wafv2_backends

from .base import ProjectModel, already_gone


class Wafv2WebAcl(ProjectModel, CloudFormationModel):
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
        with already_gone():
            wafv2_backends[account_id][region_name].delete_web_acl(
                self.acl.name, self.scope, self.acl.id, self.acl.lock_token
            )


class Wafv2WebAclAssociation(ProjectModel, CloudFormationModel):
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


class Wafv2LoggingConfiguration(ProjectModel, CloudFormationModel):
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
        with already_gone():
            wafv2_backends[account_id][region_name].delete_logging_configuration(self.physical_id)
