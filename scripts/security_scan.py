"""``python scripts/security_scan.py``: the security gate (cfn-lint, checkov, parliament)
(``payment-security-scan``; the code is ``payment_ops.commands.security_scan``)."""

from payment_ops.commands.security_scan import main

if __name__ == "__main__":
    raise SystemExit(main())
