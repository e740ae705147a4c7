"""The Kubernetes versions the sandbox's EKS offers, their support calendar, and DescribeClusterVersions."""

from __future__ import annotations

import calendar
import time
from datetime import date
from typing import Any

from . import exceptions, messages
from .call import Call

# 1.23 to 1.35: what EKS offered up to this botocore release. A version outside (1.40, 1.22) is one EKS does
# not offer, and it refuses it as "unsupported Kubernetes version".
KUBERNETES_VERSIONS = tuple(f"1.{minor}" for minor in range(23, 36))
# When standard support ended (or ends), as EKS's calendar gives it; after that date a version is in extended
# support. The sandbox offers every minor it ever served, so none is UNSUPPORTED here.
END_OF_STANDARD_SUPPORT = {
    "1.23": date(2023, 10, 11),
    "1.24": date(2024, 1, 31),
    "1.25": date(2024, 5, 1),
    "1.26": date(2024, 6, 11),
    "1.27": date(2024, 7, 24),
    "1.28": date(2024, 11, 26),
    "1.29": date(2025, 3, 23),
    "1.30": date(2025, 7, 23),
    "1.31": date(2025, 11, 26),
    "1.32": date(2026, 3, 23),
    "1.33": date(2026, 7, 29),
    "1.34": date(2026, 12, 2),
    "1.35": date(2027, 3, 27),
}
STANDARD_SUPPORT, EXTENDED_SUPPORT = "STANDARD_SUPPORT", "EXTENDED_SUPPORT"
DEFAULT_VERSION = "1.33"
DEFAULT_PLATFORM_VERSION = "eks.1"


def offered(version: str) -> bool:
    return version in KUBERNETES_VERSIONS


def _epoch(day: date) -> float:
    return float(calendar.timegm(day.timetuple()))


def support_status(version: str, now: float | None = None) -> str:
    """STANDARD_SUPPORT or EXTENDED_SUPPORT on the day `now` (epoch seconds, default today)."""
    ends = END_OF_STANDARD_SUPPORT[version]
    return EXTENDED_SUPPORT if (time.time() if now is None else now) >= _epoch(ends) else STANDARD_SUPPORT


def _information(version: str) -> dict[str, Any]:
    return {
        "clusterVersion": version,
        "clusterType": "eks",
        "defaultPlatformVersion": DEFAULT_PLATFORM_VERSION,
        "defaultVersion": version == DEFAULT_VERSION,
        "endOfStandardSupportDate": _epoch(END_OF_STANDARD_SUPPORT[version]),
        "versionStatus": support_status(version),
    }


def describe_cluster_versions(call: Call) -> dict[str, Any]:
    """The versions asked for (`clusterVersions`), else every offered one, filtered by `versionStatus`."""
    wanted = call.query.get("clusterVersions") or list(KUBERNETES_VERSIONS)
    status = call.query_one("versionStatus")
    if status is not None and status not in (STANDARD_SUPPORT, EXTENDED_SUPPORT, "UNSUPPORTED"):
        raise exceptions.InvalidParameterException(messages.BAD_VERSION_STATUS.format(status=status))
    found = [_information(v) for v in KUBERNETES_VERSIONS if v in wanted]
    if call.query_one("defaultOnly") == "true":
        found = [v for v in found if v["defaultVersion"]]
    return {"clusterVersions": [v for v in found if status is None or v["versionStatus"] == status]}
