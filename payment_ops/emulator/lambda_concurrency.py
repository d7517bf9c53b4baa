"""Lambda's account concurrency, as AWS keeps it: ``GetAccountSettings`` and the floor of 100.

moto has no ``GetAccountSettings`` and, unless told, enforces no concurrency quota, so a
reservation that AWS refuses succeeds here and the deploy's preflight cannot run. AWS's rules
(Lambda developer guide, "Lambda quotas",
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, and "Configuring
reserved concurrency for a function",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html):

- each account has a concurrency quota per region (1,000 by default; new accounts may have
  less), reported by ``GetAccountSettings`` as ``AccountLimit.ConcurrentExecutions``, with
  ``UnreservedConcurrentExecutions`` = the quota less every function's reservation;
- a reservation (``PutFunctionConcurrency``, or ``ReservedConcurrentExecutions`` when a function
  is created, as CloudFormation does) that would leave fewer than 100 unreserved is refused
  with ``InvalidParameterValueException``.

The emulated quota is ``PAYMENT_EMULATOR_LAMBDA_CONCURRENCY`` (default 1000), so a test can
stand in for a new account with a quota of 10 or 50.
"""

from __future__ import annotations

import json
import os
from typing import Any

from moto.awslambda import urls
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse

QUOTA_VARIABLE = "PAYMENT_EMULATOR_LAMBDA_CONCURRENCY"
DEFAULT_QUOTA = 1000
MIN_UNRESERVED = 100
# AWS's message for the refusal (the guide's "Configuring reserved concurrency" page).
BELOW_MINIMUM = (
    "Specified ReservedConcurrentExecutions for function decreases account's "
    "UnreservedConcurrentExecution below its minimum value of [100]."
)
# Lambda's per-region code storage quota (75 GB) and per-function package limits ("Lambda
# quotas"), reported in AccountLimit like AWS does.
TOTAL_CODE_SIZE = 80_530_636_800
CODE_SIZE_UNZIPPED = 262_144_000
CODE_SIZE_ZIPPED = 52_428_800


def quota() -> int:
    return int(os.environ.get(QUOTA_VARIABLE, DEFAULT_QUOTA))


def _reserved(backend: LambdaBackend, except_function: str | None = None) -> int:
    return sum(
        int(fn.reserved_concurrency or 0)
        for fn in backend.list_functions()
        if fn.function_name != except_function
    )


def _refuse_below_minimum(backend: LambdaBackend, function_name: str, wanted: Any) -> None:
    if wanted is None:
        return
    if quota() - _reserved(backend, function_name) - int(wanted) < MIN_UNRESERVED:
        raise InvalidParameterValueException(BELOW_MINIMUM)


def _get_account_settings(self: LambdaResponse) -> tuple[int, dict, str]:
    functions = self.backend.list_functions()
    limit = quota()
    settings = {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
            "CodeSizeZipped": CODE_SIZE_ZIPPED,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - _reserved(self.backend),
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(fn.code_size or 0) for fn in functions),
            "FunctionCount": len(functions),
        },
    }
    return 200, {}, json.dumps(settings)


def install() -> None:
    """Serve GetAccountSettings and enforce the floor on create and PutFunctionConcurrency."""
    # GetAccountSettings is GET /2016-08-19/account-settings/ in botocore's lambda model.
    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = LambdaResponse.dispatch
    LambdaResponse.get_account_settings = _get_account_settings  # type: ignore[attr-defined]

    create_function = LambdaBackend.create_function
    put_function_concurrency = LambdaBackend.put_function_concurrency

    def create_checked(self: LambdaBackend, spec: dict[str, Any]) -> Any:
        _refuse_below_minimum(
            self, spec.get("FunctionName", ""), spec.get("ReservedConcurrentExecutions")
        )
        return create_function(self, spec)

    def put_checked(self: LambdaBackend, function_name: str, reserved_concurrency: str) -> str:
        name = self.get_function(function_name).function_name
        _refuse_below_minimum(self, name, reserved_concurrency)
        return put_function_concurrency(self, function_name, reserved_concurrency)

    LambdaBackend.create_function = create_checked  # type: ignore[method-assign]
    LambdaBackend.put_function_concurrency = put_checked  # type: ignore[method-assign]
