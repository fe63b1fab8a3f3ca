"""driftwatch: does the DynamoDB table that git declares still look like the one AWS runs?"""

from typing import Any


def __getattr__(name: str) -> Any:
    """``__version__``, looked up on first use: importlib.metadata would cost every process
    (the CLI, the evaluation worker) ~15 ms of start-up for a string only ``--version`` shows."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("driftwatch")
    except PackageNotFoundError:  # running from a source tree that is not installed
        value = "0.0.0"
    globals()["__version__"] = value
    return value
