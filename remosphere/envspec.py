"""``python -m remosphere.envspec check|defaults ROLE``: the command this project has
always documented, kept for runbooks that call it. The spec is ``servicespec.envspec``."""

import sys

from servicespec.envspec import main

if __name__ == "__main__":
    sys.exit(main())
