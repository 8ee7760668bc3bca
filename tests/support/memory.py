"""How much resident memory a piece of work took, read from the kernel (so memory that C
libraries allocate counts too, which tracemalloc does not see)."""

from __future__ import annotations

from collections.abc import Callable


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1])
    raise AssertionError(f"{key} not in /proc/self/status")


def peak_rss_growth_mb(work: Callable[[], object]) -> tuple[float, BaseException | object]:
    """How far the process's resident memory rose above where it started while `work` ran
    (the kernel's high-water mark, reset first), with what `work` returned or raised."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS
    before = _status_kb("VmRSS")
    try:
        result: BaseException | object = work()
    except BaseException as err:
        result = err
    return (_status_kb("VmHWM") - before) / 1024, result
