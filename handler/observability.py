"""One JSON object per log line, and CloudWatch metrics carried inside those lines (EMF).

Embedded Metric Format costs no API call: CloudWatch Logs extracts the metrics from the line
the function prints anyway, so the request path stays one DynamoDB write.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

METRIC_NAMESPACE = "PaymentInfrastructure"
LOGGER_NAME = "payment"


class JsonFormatter(logging.Formatter):
    """``{"timestamp", "level", "logger", "message", **fields}``; fields come from
    ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            line.update(fields)
        if record.exc_info:
            # Operators get the traceback (escaped into the same single line); clients never do.
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at the time (Lambda ships stdout to CloudWatch)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stdout
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def get_logger(name: str = LOGGER_NAME) -> logging.Logger:
    """A logger under ``payment`` that prints JSON lines.

    Not propagated to the root logger: the Lambda runtime's root handler would prefix each
    line with its own text format and break the JSON (and the EMF extraction).
    """
    base = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h, _StdoutHandler) for h in base.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        base.addHandler(handler)
        base.setLevel(logging.INFO)
        base.propagate = False
    return logging.getLogger(name)


def metric_fields(
    metrics: Mapping[str, int],
    dimensions: Mapping[str, str],
    namespace: str = METRIC_NAMESPACE,
) -> dict[str, Any]:
    """Fields that turn a log line into CloudWatch ``Count`` metrics (EMF specification)."""
    if not metrics:
        return {}
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in metrics],
                }
            ],
        },
        **dimensions,
        **metrics,
    }
