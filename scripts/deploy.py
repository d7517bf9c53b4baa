"""``python scripts/deploy.py``: deploy the payment system with CloudFormation StackSets
(``payment-deploy``; the code is ``payment_ops.commands.deploy``)."""

from payment_ops.commands.deploy import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/deploy.py"))
