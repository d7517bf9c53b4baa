"""Secrets Manager: generated secrets with their replicas."""

from __future__ import annotations

import json

from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends

from .base import ProjectModel


class SecretsManagerSecret(ProjectModel, CloudFormationModel):
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
