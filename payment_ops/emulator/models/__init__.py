"""moto CloudFormation models for the resource types moto 5.2 skips, one class per type.

Each model creates the real resource in moto's backend (so boto3 sees it), answers ``Ref`` and
``Fn::GetAtt`` like CloudFormation, and deletes the resource with its stack unless the template
retains it. moto finds a model through ``CloudFormationModel.__subclasses__()``, so every class
here subclasses ``CloudFormationModel`` directly (the shared behaviour comes from a mixin).

Besides the AWS types, ``Custom::TableStream`` is served here (``patches`` routes it past moto's
CustomModel): its real provider, handler/stream_lookup.py, answers it in process
(``provider``). The regional failover types: ``AWS::CertificateManager::Certificate``
(DNS-validated through the hosted zone, ISSUED), ``AWS::ApiGateway::DomainName`` and
``AWS::ApiGateway::BasePathMapping``; the failover records themselves are moto's
``AWS::Route53::RecordSet``, fixed in ``patches``.

One module per service; ``base`` holds what the models share, ``provider`` runs a custom
resource's provider handler.
"""

from __future__ import annotations

from .acm import AcmCertificate
from .apigateway import (
    ApiGatewayAccount,
    ApiGatewayBasePathMapping,
    ApiGatewayDomainName,
    ApiGatewayGatewayResponse,
    ApiGatewayModel,
    ApiGatewayRequestValidator,
    ApiGatewayStage,
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanKey,
)
from .cloudtrail import CloudTrailTrail
from .cloudwatch import CloudWatchAlarm
from .dynamodb import GlobalTable, TableStream
from .kms import KmsAlias, KmsKey
from .logs import LogsMetricFilter
from .s3 import S3Bucket, S3BucketPolicy
from .sns import SnsSubscription, SnsTopicPolicy
from .sqs import SqsQueuePolicy
from .ssm import SsmParameter
from .wafv2 import Wafv2LoggingConfiguration, Wafv2WebAcl, Wafv2WebAclAssociation

__all__ = [
    "AcmCertificate",
    "ApiGatewayAccount",
    "ApiGatewayBasePathMapping",
    "ApiGatewayDomainName",
    "ApiGatewayGatewayResponse",
    "ApiGatewayModel",
    "ApiGatewayRequestValidator",
    "ApiGatewayStage",
    "ApiGatewayUsagePlan",
    "ApiGatewayUsagePlanKey",
    "CloudTrailTrail",
    "CloudWatchAlarm",
    "GlobalTable",
    "KmsAlias",
    "KmsKey",
    "LogsMetricFilter",
    "S3Bucket",
    "S3BucketPolicy",
    "SnsSubscription",
    "SsmParameter",
    "TableStream",
    "Wafv2LoggingConfiguration",
    "Wafv2WebAcl",
    "Wafv2WebAclAssociation",
    "SnsTopicPolicy",
    "SqsQueuePolicy",
]
