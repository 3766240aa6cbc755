"""`python -m procclaw` is the `procclaw` command."""

import sys

from procclaw.cli.main import main

sys.exit(main())
