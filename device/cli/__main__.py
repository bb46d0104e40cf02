"""`python -m device.cli`: the `cushion` command."""

import sys

from device.cli.cushion import main

sys.exit(main())
