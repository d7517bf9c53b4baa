"""Lambda code of the payment system.

``handler.app`` serves the payment API (``POST /process``, ``GET /health``);
``handler.audit`` writes the audit trail from the table's stream; ``handler.stream_lookup``
answers the standby template's ``Custom::TableStream`` (the stream ARN of the table replica in
its region). Runtime dependencies are
the standard library and boto3, which the Lambda Python runtime ships.
"""
