"""CloudTrail: trails (moto's CloudFormation has no ``AWS::CloudTrail::Trail``)."""

from __future__ import annotations

from moto.cloudtrail.models import cloudtrail_backends
from moto.core.common_models import CloudFormationModel

from .base import ProjectModel


class CloudTrailTrail(ProjectModel, CloudFormationModel):
    """A trail with its event selectors, logging as ``IsLogging`` says; ``Ref`` gives the trail
    name, ``Fn::GetAtt Arn`` its ARN (AWS::CloudTrail::Trail, CloudFormation template reference).
    moto refuses a trail whose bucket does not exist, as CloudTrail does."""

    TYPE = "AWS::CloudTrail::Trail"
    NAME_PROPERTY = "TrailName"
    ATTRIBUTES = ("Arn", "SnsTopicArn")

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> CloudTrailTrail:
        backend = cloudtrail_backends[account_id][region_name]
        name = props.get("TrailName") or resource_name
        trail = backend.create_trail(
            name,
            props["S3BucketName"],
            props.get("S3KeyPrefix"),
            props.get("SnsTopicName"),
            props.get("IncludeGlobalServiceEvents", True),
            props.get("IsMultiRegionTrail", False),
            props.get("EnableLogFileValidation", False),
            props.get("IsOrganizationTrail", False),
            props.get("CloudWatchLogsLogGroupArn"),
            props.get("CloudWatchLogsRoleArn"),
            props.get("KMSKeyId"),
            props.get("Tags", []),
        )
        trail.put_event_selectors(props.get("EventSelectors"), props.get("AdvancedEventSelectors"))
        if props.get("IsLogging"):
            trail.start_logging()
        return cls(name, account_id, region_name, Arn=trail.arn, SnsTopicArn="")

    def delete(self, account_id: str, region_name: str) -> None:
        cloudtrail_backends[account_id][region_name].delete_trail(self.physical_id)
