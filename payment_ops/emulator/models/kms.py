"""KMS: keys and aliases (as moto creates them, plus what it drops)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.kms.exceptions import AlreadyExistsException
from moto.kms.models import Alias, Key, kms_backends

from .base import ExtendsMoto


class KmsKey(ExtendsMoto, CloudFormationModel):
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


class KmsAlias(ExtendsMoto, CloudFormationModel):
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
