"""Each hardening property of the security gate, pinned so a later change cannot drop it."""

from __future__ import annotations

import json

from .conftest import of_type


def _gateway_body(response: dict) -> dict:
    template = response["Properties"]["ResponseTemplates"]["application/json"]
    return json.loads(template.replace("$context.requestId", "req-1"))


def test_functions_reserve_concurrency_only_when_asked_with_dead_letters_tracing_and_cmk(primary):
    expected = {
        "ProcessorFunction": ("ProcessorConcurrencyReserved", "ProcessorReservedConcurrency"),
        "AuditWriterFunction": ("AuditWriterConcurrencyReserved", "AuditWriterReservedConcurrency"),
    }
    functions = of_type(primary, "AWS::Lambda::Function")
    assert set(functions) == set(expected)
    for title, props in ((t, f["Properties"]) for t, f in functions.items()):
        condition, parameter = expected[title]
        assert props["ReservedConcurrentExecutions"] == {
            "Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]
        }
        # No reservation unless the operator asks: empty by default, and the condition
        # is true only for a number.
        assert primary["Parameters"][parameter]["Default"] == ""
        assert primary["Conditions"][condition] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]
        }
        skips = {s["id"]: s["comment"] for s in functions[title]["Metadata"]["checkov"]["skip"]}
        assert "operator's choice" in skips["CKV_AWS_115"]
        assert props["DeadLetterConfig"] == {
            "TargetArn": {"Fn::GetAtt": ["AsyncDeadLetterQueue", "Arn"]}
        }
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["KmsKeyArn"] == {"Fn::GetAtt": ["AppKey", "Arn"]}
    dlq = primary["Resources"]["AsyncDeadLetterQueue"]["Properties"]
    assert dlq["KmsMasterKeyId"] == {"Fn::GetAtt": ["AppKey", "Arn"]}


def test_each_role_may_send_to_the_dead_letter_queue(primary):
    for role in ("ProcessorRole", "AuditWriterRole"):
        statements = primary["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
        sends = [
            s
            for s in statements["Statement"]
            if s["Action"] == ["sqs:SendMessage"]
            and s["Resource"] == [{"Fn::GetAtt": ["AsyncDeadLetterQueue", "Arn"]}]
        ]
        assert sends, role


def test_post_process_validates_a_json_object_body(primary):
    method = primary["Resources"]["ProcessPostMethod"]["Properties"]
    assert method["RequestValidatorId"] == {"Ref": "BodyValidator"}
    assert method["RequestModels"] == {"application/json": {"Ref": "PaymentRequestModel"}}
    validator = primary["Resources"]["BodyValidator"]["Properties"]
    assert validator["ValidateRequestBody"] is True
    schema = json.loads(primary["Resources"]["PaymentRequestModel"]["Properties"]["Schema"])
    # Only the shape: field rules are the handler's, which names every failing field.
    assert schema["type"] == "object"
    assert "required" not in schema and "properties" not in schema


def test_gateway_errors_use_the_contract_error_shape(primary):
    responses = {
        r["Properties"]["ResponseType"]: r
        for r in of_type(primary, "AWS::ApiGateway::GatewayResponse").values()
    }
    assert {
        "BAD_REQUEST_BODY",
        "MISSING_AUTHENTICATION_TOKEN",
        "INVALID_SIGNATURE",
        "EXPIRED_TOKEN",
        "ACCESS_DENIED",
        "THROTTLED",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    } <= set(responses)
    for response_type, response in responses.items():
        body = _gateway_body(response)
        assert set(body) == {"error"}, response_type
        assert set(body["error"]) == {"code", "message", "request_id"}
        assert body["error"]["request_id"] == "req-1"
    assert _gateway_body(responses["BAD_REQUEST_BODY"])["error"]["code"] == "INVALID_JSON"
    assert responses["BAD_REQUEST_BODY"]["Properties"]["StatusCode"] == "400"
    # Refused callers keep API Gateway's 403; a signer that is no client gets the handler's code.
    for refused in ("MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE", "ACCESS_DENIED"):
        assert responses[refused]["Properties"]["StatusCode"] == "403"
    assert _gateway_body(responses["ACCESS_DENIED"])["error"]["code"] == "CLIENT_NOT_AUTHORIZED"
    assert "INVALID_API_KEY" not in responses and "QUOTA_EXCEEDED" not in responses
    assert responses["THROTTLED"]["Properties"]["StatusCode"] == "429"
    assert (
        "gatewayresponse.header.Retry-After"
        in responses["THROTTLED"]["Properties"]["ResponseParameters"]
    )
    assert _gateway_body(responses["DEFAULT_5XX"])["error"]["code"] == "INTERNAL_ERROR"


def test_a_body_over_the_gateway_limit_is_the_contracts_413_payload_too_large(primary):
    """A body over API Gateway's 10 MB never reaches the handler, so the gateway itself must
    answer the contract's code (CONTRACT §2: body too large is 413 PAYLOAD_TOO_LARGE)."""
    (response,) = [
        r
        for r in of_type(primary, "AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "REQUEST_TOO_LARGE"
    ]
    assert response["Properties"]["StatusCode"] == "413"
    assert _gateway_body(response)["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_gateway_responses_and_models_are_part_of_the_deployment(primary):
    (deployment,) = of_type(primary, "AWS::ApiGateway::Deployment").values()
    depends = set(deployment["DependsOn"])
    responses = set(of_type(primary, "AWS::ApiGateway::GatewayResponse"))
    assert responses <= depends


def test_stage_logs_errors_traces_throttles_and_never_caches_payments(primary):
    stage = primary["Resources"]["ApiStage"]["Properties"]
    assert stage["TracingEnabled"] is True
    assert stage["CacheClusterEnabled"] is False
    assert stage["AccessLogSetting"]["Format"]
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
    for setting in settings.values():
        assert setting["LoggingLevel"] == "ERROR"
        assert setting["DataTraceEnabled"] is False
        assert setting["MetricsEnabled"] is True
        assert setting["ThrottlingRateLimit"] > 0 and setting["ThrottlingBurstLimit"] > 0
    assert settings[("/~1process", "POST")]["CachingEnabled"] is False
    reasons = {
        s["id"]: s["comment"]
        for s in primary["Resources"]["ApiStage"]["Metadata"]["checkov"]["skip"]
    }
    assert "CKV_AWS_120" in reasons and "cache" in reasons["CKV_AWS_120"]


def test_waf_protects_the_stage_by_default_and_redacts_the_session_token(primary):
    assert primary["Parameters"]["EnableWaf"]["Default"] == "true"
    assert primary["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    acl = primary["Resources"]["ApiWebAcl"]
    assert acl["Condition"] == "WafEnabled"
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert set(rules) == {
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "RateLimitPerIp",
    }
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    association = primary["Resources"]["ApiWebAclAssociation"]
    assert association["Condition"] == "WafEnabled"
    assert "${PaymentApi}/stages/${ApiStage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]
    logging = primary["Resources"]["ApiWebAclLogging"]["Properties"]
    assert logging["RedactedFields"] == [{"SingleHeader": {"Name": "x-amz-security-token"}}]


def test_waf_blocks_oversized_bodies_in_the_contract_error_shape(primary):
    """The common rule set's body-size rule blocks (a valid payment body is under 1 KB), and
    answers 413 PAYLOAD_TOO_LARGE like the handler, not WAF's bare 403."""
    acl = primary["Resources"]["ApiWebAcl"]["Properties"]
    rules = {r["Name"]: r for r in acl["Rules"]}
    overrides = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"][
        "RuleActionOverrides"
    ]
    (size,) = overrides
    assert size["Name"] == "SizeRestrictions_BODY"
    response = size["ActionToUse"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 413
    body = json.loads(acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "Count" not in json.dumps(rules)


def test_audit_bucket_takes_uploads_only_under_its_key(primary):
    statements = {
        s["Sid"]: s
        for s in primary["Resources"]["AuditBucketPolicy"]["Properties"]["PolicyDocument"][
            "Statement"
        ]
    }
    not_kms = statements["DenyUploadsNotUnderKms"]
    assert not_kms["Effect"] == "Deny" and not_kms["Action"] == ["s3:PutObject"]
    assert not_kms["Condition"]["StringNotEquals"] == {"s3:x-amz-server-side-encryption": "aws:kms"}
    other_key = statements["DenyUploadsUnderAnotherKey"]
    assert other_key["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": ["AuditKey", "Arn"]}
    }


def test_access_logs_are_delivered_only_for_this_deployments_audit_bucket(primary):
    policy = primary["Resources"]["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]
    (delivery,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert "aws:SourceAccount" in delivery["Condition"]["StringEquals"]
    assert "aws:SourceArn" in delivery["Condition"]["ArnLike"]
    assert primary["Resources"]["AccessLogBucket"]["DeletionPolicy"] == "RetainExceptOnCreate"


def test_key_policies_let_logs_use_only_this_deployments_groups(primary):
    statements = primary["Resources"]["AppKey"]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [
        s for s in statements if s["Sid"] == "CloudWatchLogsEncryptsThisDeploymentsLogGroups"
    ]
    patterns = [
        p["Fn::Sub"] for p in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    ]
    # API Gateway names the execution-log group itself (its API id, no suffix): the one
    # pattern without the suffix is that name, narrowed to this project's stage.
    execution = [p for p in patterns if "payment-${EnvironmentSuffix}-" not in p]
    assert [p.rsplit(":", 1)[1] for p in execution] == ["API-Gateway-Execution-Logs_*/prod"]
    # DescribeKey carries no encryption context, so a statement conditioned on one cannot grant it.
    assert "kms:DescribeKey" not in logs["Action"]


def test_the_stages_execution_log_group_is_made_encrypted_retained_and_kept_a_year(
    config, primary, standby
):
    """API Gateway creates API-Gateway-Execution-Logs_{rest-api-id}/{stage} itself, unencrypted
    and kept forever, unless it exists before the stage logs ("Set up CloudWatch logging for
    REST APIs in API Gateway")."""
    for template in (primary, standby):
        group = template["Resources"]["ApiExecutionLogGroup"]
        stage = template["Resources"]["ApiStage"]
        props = group["Properties"]
        stage_name = stage["Properties"]["StageName"]
        assert props["LogGroupName"] == {
            "Fn::Sub": f"API-Gateway-Execution-Logs_${{PaymentApi}}/{stage_name}"
        }
        assert stage["Properties"]["MethodSettings"][0]["LoggingLevel"] != "OFF"
        assert "ApiExecutionLogGroup" in stage["DependsOn"]
        assert (
            props["KmsKeyId"]
            == template["Resources"]["ApiAccessLogGroup"]["Properties"]["KmsKeyId"]
        )
        assert props["RetentionInDays"] == config.log_retention_days >= 365
        # Kept on delete and replacement; a failed first create removes it, so a retry works.
        assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == (
            "RetainExceptOnCreate",
            "Retain",
        )
