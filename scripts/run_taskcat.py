"""``python scripts/run_taskcat.py``: the taskcat regional deploy tests (CONTRACT §5)
(``payment-taskcat``; the code is ``payment_ops.commands.run_taskcat``)."""

from payment_ops.commands.run_taskcat import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/run_taskcat.py"))
