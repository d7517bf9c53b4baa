"""SSM: String parameters."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ssm.models import Parameter as SsmParameterModel

from .base import ExtendsMoto


class SsmParameter(ExtendsMoto, CloudFormationModel):
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
