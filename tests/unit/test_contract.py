"""The contract checker the sandbox tests hold EKS answers to: it reports what departs from botocore's model."""

from __future__ import annotations

from .. import contract


def test_the_shape_validator_reports_wrong_types_and_unknown_members() -> None:
    output = contract.EKS.operation_model("DescribeFargateProfile").output_shape
    assert output is not None
    bad = {"fargateProfile": {"status": "READY", "createdAt": "x", "subnets": "s", "extra": 1, "tags": {"a": 1}}}
    errors = contract.shape_problems(output, bad)
    assert any("status" in e and "READY" in e for e in errors)
    assert any("subnets" in e for e in errors)
    assert any("extra" in e for e in errors)
    assert any("['a']" in e for e in errors)


def test_the_contract_checker_catches_an_unknown_member_a_bad_enum_and_a_wrong_type() -> None:
    operation = contract.EKS.operation_model("DescribeUpdate")
    body = {"update": {"id": 1, "status": "Done", "extra": True}}

    assert operation.output_shape is not None
    found = contract.shape_problems(operation.output_shape, body, "DescribeUpdate")

    assert sorted(found) == [
        "DescribeUpdate.update.extra: not a member of Update",
        "DescribeUpdate.update.id: expected a string, got 1",
        "DescribeUpdate.update.status: 'Done' is not one of ['InProgress', 'Failed', 'Cancelled', 'Successful']",
    ]
