"""The `cluster-connect` command line: the local sandbox and the main job (the platform stack) on it."""
