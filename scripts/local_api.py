"""``python scripts/local_api.py``: the payment API on 127.0.0.1, from the real templates
(``payment-local-api``; the code is ``payment_ops.commands.local_api``)."""

from payment_ops.commands.local_api import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/local_api.py"))
