"""Shared by every model: identity, attributes, replace-on-update, and the mixin for models that
extend moto's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.core.common_models import CloudFormationModel


@contextmanager
def already_gone() -> Iterator[None]:
    """A delete finds its resource gone with its parent (a stage with its API): that is done.

    moto deletes a stack's resources in no particular order, retrying failures."""
    try:
        yield
    except Exception as error:  # noqa: BLE001
        name = type(error).__name__
        if not (isinstance(error, KeyError) or "NotFound" in name or "Nonexistent" in name):
            raise


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


class ProjectModel:
    """What every project model shares: identity, attributes, replace-on-update."""

    TYPE = ""
    NAME_PROPERTY = ""  # the property that names the resource, "" when AWS generates the name
    ATTRIBUTES: tuple[str, ...] = ()

    def __init__(self, physical_id: str, account_id: str, region_name: str, **attributes: Any):
        self.physical_id = physical_id
        self.account_id = account_id
        self.region_name = region_name
        self.attributes = attributes

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        return cls.create(
            resource_name, cloudformation_json.get("Properties", {}), account_id, region_name
        )

    @classmethod
    def create(cls, resource_name: str, props: dict, account_id: str, region_name: str) -> Any:
        """Make the resource in moto's backend from its template properties."""
        raise NotImplementedError

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        # CloudFormation replaces what it cannot update in place; for these types that is safe.
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str
    ) -> None:
        """Unused: moto deletes through the instance's ``delete``."""

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError


def provider_failed(message: str) -> ValidationError:
    """A custom resource whose provider answered FAILED, in CloudFormation's words."""
    return ValidationError(
        message=f"Received response status [FAILED] from custom resource. Message returned: "
        f"{message}"
    )


class ExtendsMoto:
    """A moto model with properties moto ignores applied on top; moto's object is returned."""

    BASE: type[CloudFormationModel]

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.BASE.cloudformation_type()

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.BASE.cloudformation_name_type()

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return cls.BASE.has_cfn_attr(attr)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str
    ) -> None:
        cls.BASE.delete_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name
        )
