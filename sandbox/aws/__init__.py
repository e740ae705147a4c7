"""The sandbox's AWS endpoint: moto in server mode plus the EKS operations and lifecycles it lacks."""
