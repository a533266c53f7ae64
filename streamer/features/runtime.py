"""Process settings that decide whether a few-millisecond extraction stays a few milliseconds.

Two things, both measured on the 2-core VM this project runs on (4 s utterance):

- glibc malloc thresholds: each extraction allocates and frees a few MB of short-lived arrays.
  With glibc's dynamic thresholds the heap top is trimmed after every call and the next call
  faults the same pages back in, ~1000 minor page faults per call (over 1 ms here). ``tune_malloc``
  fixes the mmap and trim thresholds so those pages stay mapped (malloc then holds on to up to
  TRIM_THRESHOLD of free memory). Applied once by each command's entry point (ser-live,
  ser-batch's workers, ser-train, the benches), never on import; set
  SER_FEATURES_MALLOC_TUNING=0 to leave the allocator alone.
- BLAS threads: the small matrix products here are over OpenBLAS's threading thresholds, and on
  a busy machine waking a second BLAS thread costs more than the product (median 8 ms instead of
  2.8 ms). ``single_threaded_blas`` limits OpenBLAS to one thread for the duration of a call and
  restores the previous count afterwards; without an OpenBLAS it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
from collections.abc import Callable, Iterator

MALLOC_ENV = "SER_FEATURES_MALLOC_TUNING"
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 16 * 1024 * 1024  # arrays below this come from the heap, not fresh mmaps
TRIM_THRESHOLD = 64 * 1024 * 1024  # free heap kept mapped before trimming

_state: dict[str, object] = {"malloc": False}


def tune_malloc() -> bool:
    """Apply the malloc thresholds once (Linux/glibc only); True when they are in effect."""
    if _state["malloc"]:
        return True
    if os.environ.get(MALLOC_ENV, "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    _state["malloc"] = ok
    return ok


def malloc_tuned() -> bool:
    return bool(_state["malloc"])


_BLAS_SYMBOLS = (  # (get, set) as exported by the OpenBLAS builds numpy ships or links
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


def _find_openblas() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """numpy's OpenBLAS thread getter/setter, found among the loaded libraries."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    import numpy  # noqa: F401  (loads the BLAS numpy uses, if not yet)

    for path in sorted(paths):
        if "numpy" not in path:  # scipy bundles another OpenBLAS; numpy's runs our products
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _BLAS_SYMBOLS:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                getter, setter = getattr(lib, get_name), getattr(lib, set_name)
                getter.restype = ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                return getter, setter
    return None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the body with OpenBLAS limited to one thread (no-op without OpenBLAS)."""
    if "blas" not in _state:
        _state["blas"] = _find_openblas()
    blas = _state["blas"]
    if blas is None:
        yield
        return
    getter, setter = blas  # type: ignore[misc]
    previous = getter()
    if previous == 1:
        yield
        return
    setter(1)
    try:
        yield
    finally:
        setter(previous)
