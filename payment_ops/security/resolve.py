"""Turn CloudFormation intrinsics in a policy document into plausible concrete values.

IAM linters read policies as AWS stores them, with real ARNs. A template's policies are built
from ``Ref``/``GetAtt``/``Sub``; this gives each reference the value AWS would produce, in a
sample account, so the linter checks each action against a resource of the right type.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from templates_src.cfn_graph import SUB_VARIABLE, get_att_parts, sub_parts

SAMPLE_ACCOUNT = "111122223333"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"

# Resource types whose Ref is not their name.
_REF_IS_ARN = {"AWS::SNS::Topic", "AWS::SecretsManager::Secret", "AWS::KMS::Key"}
_NAME_PROPERTIES = (
    "TableName", "BucketName", "FunctionName", "RoleName", "QueueName", "TopicName",
    "LogGroupName", "AliasName", "Name",
)  # fmt: skip


class Resolver:
    def __init__(self, template: dict, region: str) -> None:
        self.template = template
        self.region = region
        self.resources = template.get("Resources", {})
        self.parameters = template.get("Parameters", {})

    # --- names and attributes -----------------------------------------------------------

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::Partition": PARTITION,
            "AWS::Region": self.region,
            "AWS::AccountId": SAMPLE_ACCOUNT,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": "StackSet-sample",
            "AWS::NoValue": "",
        }.get(name)

    def _parameter(self, name: str) -> str:
        default = self.parameters[name].get("Default")
        return str(default) if default not in (None, "") else f"sample-{name.lower()}"

    def _name(self, logical_id: str) -> str:
        props = self.resources[logical_id].get("Properties", {})
        for key in _NAME_PROPERTIES:
            if key in props:
                return str(self.resolve(props[key]))
        return logical_id.lower()

    def _arn(self, logical_id: str) -> str:
        resource_type = self.resources[logical_id]["Type"]
        name = self._name(logical_id)
        r, a = self.region, SAMPLE_ACCOUNT
        patterns = {
            "AWS::DynamoDB::GlobalTable": f"arn:aws:dynamodb:{r}:{a}:table/{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{r}:{a}:table/{name}",
            # The standby's stream lookup names the table replica it describes.
            "Custom::TableStream": f"arn:aws:dynamodb:{r}:{a}:table/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{r}:{a}:key/{_uuid(logical_id)}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{r}:{a}:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{r}:{a}:{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{r}:{a}:function:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{a}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{r}:{a}:log-group:{name}:*",
            "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{r}:{a}:secret:{name}-AbCdEf",
            "AWS::WAFv2::WebACL": f"arn:aws:wafv2:{r}:{a}:regional/webacl/{name}/{_uuid(name)}",
        }
        return patterns.get(
            resource_type, f"arn:aws:{resource_type.split('::')[1].lower()}:{r}:{a}:{name}"
        )

    def _ref(self, name: str) -> str:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.parameters:
            return self._parameter(name)
        if self.resources[name]["Type"] in _REF_IS_ARN:
            return self._arn(name)
        if self.resources[name]["Type"] == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.{URL_SUFFIX}/{SAMPLE_ACCOUNT}/{self._name(name)}"
        return self._name(name)

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self._arn(logical_id)
        if attribute == "StreamArn":
            # A real stream label is a timestamp with colons; parliament splits ARNs on ":",
            # so the sample label leaves them out.
            return self._arn(logical_id) + "/stream/2026-01-01T00-00-00.000"
        if attribute in ("QueueName", "TopicName", "Name"):
            return self._name(logical_id)
        return f"{logical_id.lower()}-{attribute.lower()}"

    def _import(self, export_name: str) -> str:
        """An export of another stack in the region (the replica stack's keys and topic)."""
        r, a = self.region, SAMPLE_ACCOUNT
        if export_name.endswith("-key-arn"):
            return f"arn:aws:kms:{r}:{a}:key/{_uuid(export_name)}"
        if export_name.endswith("-topic-arn"):
            return f"arn:aws:sns:{r}:{a}:{export_name.removesuffix('-arn')}"
        raise ValueError(f"no sample value for the export {export_name}")

    # --- intrinsics ---------------------------------------------------------------------

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match) -> str:
            key = match.group(1)
            if key in variables:
                return str(self.resolve(variables[key]))
            if "." in key and not key.startswith("AWS::"):
                logical_id, attribute = key.split(".", 1)
                return self._get_att(logical_id, attribute)
            return self._ref(key)

        return SUB_VARIABLE.sub(replace, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self._ref(value)
            if key == "Fn::GetAtt":
                logical_id, attribute = get_att_parts(value)
                return self._get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self._sub(*sub_parts(value))
            if key == "Fn::Join":
                delimiter, items = value
                return delimiter.join(str(self.resolve(item)) for item in items)
            if key == "Fn::ImportValue":
                return self._import(str(self.resolve(value)))
            if key == "Fn::If":
                # Policies are checked as they are when the condition holds (the stricter case).
                return self.resolve(value[1])
        return {key: self.resolve(value) for key, value in node.items()}


def _uuid(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
