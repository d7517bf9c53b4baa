"""The security gate's parts: cfn-lint, checkov, the IAM policy linter, suppression reasons."""
