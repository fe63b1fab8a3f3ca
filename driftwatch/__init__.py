"""driftwatch: does the DynamoDB table that git declares still look like the one AWS runs?"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("driftwatch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
