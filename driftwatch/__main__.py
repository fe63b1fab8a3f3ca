import sys

from driftwatch.cli import main

sys.exit(main())
