"""The failover drill's parts: ``discovery`` (the deployment and its Route 53 failover pair, read
from AWS), ``inversion`` (the primary health check inverted, always put back), ``probes`` (what
shows the failover worked: the domain's answers, or payments through the secondary region's API
in the emulator), ``report`` (the table and the JSON file) and ``steps`` (the drill in order).
``scripts/failover_drill.py`` is the command line.
"""
