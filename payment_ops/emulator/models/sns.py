"""SNS: topic policies and subscriptions."""

from __future__ import annotations

import json

from moto.core.common_models import CloudFormationModel
from moto.sns.models import sns_backends

from .base import ProjectModel


class SnsTopicPolicy(ProjectModel, CloudFormationModel):
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


class SnsSubscription(ProjectModel, CloudFormationModel):
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
