"""`python -m pulumi_cluster_connect.cli` runs the `cluster-connect` command."""

import sys

from pulumi_cluster_connect.cli.main import main

sys.exit(main())
