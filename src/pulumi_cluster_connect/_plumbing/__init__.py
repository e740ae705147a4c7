"""Shared plumbing of the providers: AWS and Kubernetes clients, polling, errors, input rules."""
