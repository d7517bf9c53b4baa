"""The console commands (``payment-deploy``, ``payment-plan``, ...): each module a parser and a
``main(argv) -> int`` over the package's typed calls; ``exits`` maps errors to exit codes."""
