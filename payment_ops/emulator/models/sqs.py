"""SQS: queue policies (moto's CloudFormation has no ``AWS::SQS::QueuePolicy``)."""

from __future__ import annotations

import json

from moto.core.common_models import CloudFormationModel
from moto.sqs.models import sqs_backends

from .base import ProjectModel


class SqsQueuePolicy(ProjectModel, CloudFormationModel):
    """Sets the ``Policy`` attribute of every queue in ``Queues`` (queue URLs, as ``Ref`` of a
    queue gives them); deleting it removes the attribute (AWS::SQS::QueuePolicy, CloudFormation
    template reference)."""

    TYPE = "AWS::SQS::QueuePolicy"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> SqsQueuePolicy:
        backend = sqs_backends[account_id][region_name]
        names = [url.rstrip("/").rsplit("/", 1)[-1] for url in props["Queues"]]
        for queue_name in names:
            backend.set_queue_attributes(
                queue_name, {"Policy": json.dumps(props["PolicyDocument"])}
            )
        resource = cls(resource_name, account_id, region_name, Id=resource_name)
        resource.queue_names = names
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for queue_name in self.queue_names:
            if queue_name in backend.queues:  # the queue may have gone first with the stack
                backend.set_queue_attributes(queue_name, {"Policy": ""})
