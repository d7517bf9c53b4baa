"""Two gaps of moto 5.2's emulation that the local API cannot work around from outside.

Applied only to the emulator that ``local_api.py`` starts in its own process (see the
``scripts.emulator`` package for the project-wide extensions; both belong there in time):

- A deployed ``AWS::Lambda::EventSourceMapping`` on the table's stream makes moto invoke the
  function on every write, in Docker. Without Docker each write costs ~75 ms of failed attempts
  and moto then *empties the stream*, so no reader would see the records. Locally the stream
  is read by ``stream.StreamPoller`` with the mapping's settings, as Lambda would.
- ``AWS::ApiGateway::Method`` drops ``RequestValidatorId`` and ``RequestModels``, so
  ``GetMethod`` would not show the body validation the template declares.
"""

from __future__ import annotations

from typing import Any

from moto.apigateway.models import Method, apigateway_backends
from moto.awslambda.models import LambdaBackend

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return

    def send_dynamodb_items(self: Any, function_arn: str, items: list, source: str) -> str:
        return ""  # nothing delivered: the records stay in the stream for the poller

    LambdaBackend.send_dynamodb_items = send_dynamodb_items  # type: ignore[method-assign]

    create = Method.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_with_validation(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001, E501
        method = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        props = cloudformation_json["Properties"]
        if props.get("RequestValidatorId") or props.get("RequestModels"):
            stored = (
                apigateway_backends[account_id][region_name]
                .get_resource(props["RestApiId"], props["ResourceId"])
                .resource_methods[props["HttpMethod"]]
            )
            stored.request_validator_id = props.get("RequestValidatorId")
            stored.request_models = props.get("RequestModels")
        return method

    Method.create_from_cloudformation_json = classmethod(create_with_validation)  # type: ignore[assignment]
    _applied = True
