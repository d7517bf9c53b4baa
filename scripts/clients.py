"""``python scripts/clients.py``: add, update, revoke and list the payment API's clients
(``payment-clients``; the code is ``payment_ops.commands.clients``)."""

from payment_ops.commands.clients import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/clients.py"))
