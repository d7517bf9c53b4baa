"""``python scripts/failover_drill.py``: a failover drill for the payment API's Route 53 pair
(``payment-drill``; the code is ``payment_ops.commands.failover_drill``)."""

from payment_ops.commands.failover_drill import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/failover_drill.py"))
