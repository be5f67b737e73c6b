"""The ``corpus`` command (and ``python -m corpus``).

The cycle collector is paused while the command starts: importing the CLI, numpy and the
kernels and loading the tables makes ~10^5 objects that live as long as the process and no
garbage cycles, yet set off ~56 collections that traverse them (~8 ms of a ~100 ms start).
A command resumes it once it has started (``corpus.cli.resume_gc``; a long run over documents
freezes what start-up made first, ``corpus.cli.long_run_gc``).
"""

import gc
import sys


def main() -> int | None:
    gc.disable()
    from corpus.cli import app

    return app(prog_name="corpus")


if __name__ == "__main__":
    sys.exit(main())
