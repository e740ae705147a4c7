"""AWS clients follow boto3's conventions: region order, profiles, endpoint variables, retry mode."""

from __future__ import annotations

import threading
from typing import Any

import botocore.exceptions
import pytest

from pulumi_cluster_connect._plumbing import aws, cancellation, errors

from .fake_clock import FakeClock


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")


def test_the_resource_region_wins_over_stack_config_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert aws.eks("ap-south-1", {"aws:region": "us-east-2"}).meta.region_name == "ap-south-1"


def test_stack_config_region_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert aws.eks(None, {"aws:region": "us-east-2"}).meta.region_name == "us-east-2"


def test_the_standard_chain_gives_the_region_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert aws.eks().meta.region_name == "eu-west-1"


def test_no_region_anywhere_is_a_clear_error() -> None:
    with pytest.raises(errors.ClusterConnectError, match="aws:region"):
        aws.eks()


def test_the_eks_endpoint_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:2")
    assert aws.eks("us-west-2").meta.endpoint_url == "http://127.0.0.1:2"
    assert aws.iam("us-west-2").meta.endpoint_url == "http://127.0.0.1:1"


def test_an_unknown_profile_is_refused_by_boto3() -> None:
    with pytest.raises(botocore.exceptions.ProfileNotFound):
        aws.eks("us-west-2", {"aws:profile": "no-such-profile"})


def test_retries_use_the_standard_mode_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    config: Any = aws.eks("us-west-2").meta.config
    assert config.retries["mode"] == "standard"
    monkeypatch.setenv(aws.RETRY_MODE_ENV, "adaptive")
    config = aws.eks("us-west-2").meta.config
    assert config.retries["mode"] == "adaptive"


def test_client_errors_are_translated_with_the_service_code_and_message() -> None:
    error = botocore.exceptions.ClientError(
        {
            "Error": {"Code": "ResourceInUseException", "Message": "cluster busy"},
            "ResponseMetadata": {"HTTPStatusCode": 409},  # type: ignore[typeddict-item]
        },
        "CreateFargateProfile",
    )
    with pytest.raises(errors.AwsApiError) as translated, errors.translated_aws_errors("EKS CreateFargateProfile"):
        raise error
    assert str(translated.value) == "EKS CreateFargateProfile failed: ResourceInUseException: cluster busy"
    assert translated.value.status == 409
    assert translated.value.__cause__ is error
    assert errors.aws_error_code(translated.value) == "ResourceInUseException"


def test_a_client_is_built_once_per_process_for_the_same_settings() -> None:
    first = aws.eks("us-west-2", {"aws:region": "us-east-2"})

    assert aws.eks("us-west-2", {"aws:region": "us-east-2"}) is first
    assert aws.eks("eu-west-1") is not first
    assert aws.iam("us-west-2") is not aws.eks("us-west-2")  # type: ignore[comparison-overlap]


def test_a_changed_environment_gets_a_new_client(monkeypatch: pytest.MonkeyPatch) -> None:
    before = aws.eks("us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:3")
    after = aws.eks("us-west-2")

    assert after is not before
    assert after.meta.endpoint_url == "http://127.0.0.1:3"


def test_the_client_cache_is_keyed_by_plain_values_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-keep-me")
    aws.eks("us-west-2")

    for key in aws._built:
        assert all(isinstance(part, str) for part in key)
        assert "do-not-keep-me" not in repr(key)


def test_a_refused_endpoint_fails_after_a_few_quick_attempts_naming_the_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    eks = aws.eks("us-west-2")
    attempts: list[int] = []
    eks.meta.events.register("before-send.eks.DescribeCluster", lambda **_: attempts.append(1))
    with pytest.raises(errors.AwsApiError) as failed:
        eks.describe_cluster(name="c")
    assert failed.value.code == "EndpointConnectionError"
    assert "http://127.0.0.1:9" in str(failed.value)
    assert aws.never_reached(failed.value)
    assert len(attempts) == aws.CONNECT_ATTEMPTS  # botocore alone would make 8


def test_missing_credentials_say_where_boto3_looked_and_how_to_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(errors.AwsApiError) as failed:
        aws.eks("us-west-2").describe_cluster(name="c")
    assert failed.value.code == "NoCredentialsError"
    for where in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "~/.aws/credentials", "aws:profile"):
        assert where in str(failed.value)


def unreachable() -> errors.AwsApiError:
    return errors.AwsApiError("EKS DescribeCluster", "EndpointConnectionError", "Could not connect")


def test_patiently_gives_up_soon_on_an_endpoint_it_cannot_reach_before_anything_was_accepted() -> None:
    clock = FakeClock()

    def call() -> None:
        clock.now += 1.0
        raise unreachable()

    with pytest.raises(errors.AwsApiError, match="EndpointConnectionError"):
        aws.patiently(call, "describe", timeout=1800, clock=clock, sleep=clock.sleep)
    assert aws.CONNECT_PATIENCE <= clock.now < aws.CONNECT_PATIENCE + 15


def test_patiently_waits_out_an_unreachable_endpoint_for_work_aws_accepted() -> None:
    clock = FakeClock()

    def call() -> str:
        clock.now += 1.0
        if clock.now < 300:
            raise unreachable()
        return "ACTIVE"

    assert aws.patiently(call, "describe", timeout=1800, accepted=True, clock=clock, sleep=clock.sleep) == "ACTIVE"


def test_patiently_stops_asking_once_the_engine_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cancellation, "_requested", threading.Event())
    clock = FakeClock()

    def call() -> None:
        cancellation.request()
        raise errors.AwsApiError("EKS DescribeUpdate", "ThrottlingException", "slow down", 400)

    with pytest.raises(errors.Cancelled, match="describe"):
        aws.patiently(call, "describe", timeout=1800, clock=clock, sleep=clock.sleep)
    assert clock.now == 0.0
