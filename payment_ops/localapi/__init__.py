"""The payment API on this machine: the deployed REST API served over HTTP, the handlers in-process.

``python scripts/local_api.py`` deploys the stack sets into the local emulator with the real
deploy code, then reads the REST API back from the emulator (``deployed``), answers HTTP as API
Gateway would (``gateway``, ``throttle``), invokes the deployed functions' handlers in this process
(``functions``) and drives the audit writer from the table's stream (``stream``).
"""
