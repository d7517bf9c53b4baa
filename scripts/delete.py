"""``python scripts/delete.py``: delete the payment system's stack sets; optionally its data
(``payment-delete``; the code is ``payment_ops.commands.delete``)."""

from payment_ops.commands.delete import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/delete.py"))
