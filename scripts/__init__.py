"""Deployment tooling: StackSet deploy and delete, and the local AWS emulator."""
