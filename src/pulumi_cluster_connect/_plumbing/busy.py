"""The one retry for "the service is busy, try again": an operation refused while another one runs.

EKS allows one Fargate profile operation and one update per cluster at a time (ResourceInUseException); IAM roles
take a while to propagate before RegisterCluster accepts them. Transient faults (throttling, 5xx) are
`aws.patiently`'s; this is for answers that say "not now" about the object itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from . import cancellation, errors, polling, progress

T = TypeVar("T")

BACKOFF = polling.Backoff(first=2.0, factor=1.5, cap=15.0)


def resource_in_use(err: errors.AwsApiError) -> bool:
    """ResourceInUse that means "busy" (EKS also answers it for "already exists", which is not)."""
    return err.code == "ResourceInUseException" and "already exists" not in err.message


def when_free(
    call: Callable[[], T],
    action: str,
    timeout: float,
    *,
    busy: Callable[[errors.AwsApiError], bool] = resource_in_use,
    reason: Callable[[errors.AwsApiError], str] = lambda err: err.message,
    backoff: polling.Backoff = BACKOFF,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call`, asked again while the service answers that it is `busy`, for up to `timeout` seconds; then the
    service's error, saying how long we waited. A cancel (Ctrl-C) ends the waiting."""
    deadline = clock() + timeout
    next_interval = backoff.intervals()
    while True:
        try:
            return call()
        except errors.AwsApiError as err:
            remaining = deadline - clock()
            if not busy(err):
                raise
            if remaining <= 0:
                raise errors.AwsApiError(
                    err.operation,
                    err.code,
                    f"{err.message} (still busy after waiting to {action})",
                    err.status,
                    err.where,
                ) from err
            cancellation.raise_if_requested(action, err.code)
            progress.report(f"{action}: busy, asking again ({remaining:.0f}s left): {reason(err)}")
            sleep(min(next_interval(), remaining))
