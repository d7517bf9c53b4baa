"""Support for ``scripts/run_taskcat.py``: taskcat's own environment, the emulator process, and
the files that run inside the taskcat environment (``runner.py`` and the prehook plugin)."""
