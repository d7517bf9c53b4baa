"""``python scripts/setup_tools.py``: create or update the checkov and taskcat environments
(``payment-setup-tools``; the code is ``payment_ops.commands.setup_tools``)."""

from payment_ops.commands.setup_tools import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/setup_tools.py"))
