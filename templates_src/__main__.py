"""``python -m templates_src``. Guarded: the lint workers import the main module by name
(multiprocessing's "Safe importing of main module" rule for the spawn and forkserver start
methods), and must not run a build of their own when they do."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
