"""The payment system's operational tooling: deploy, plan and delete with CloudFormation
StackSets, the failover drill, the security gate, the taskcat support, and (extra ``local``)
the local AWS emulator and the local API."""
