"""``python scripts/local_aws.py``: the local AWS emulator (CONTRACT §4)
(``payment-local-aws``; the code is ``payment_ops.commands.local_aws``)."""

from payment_ops.commands.local_aws import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python scripts/local_aws.py"))
