"""`python -m cmem_ops` runs the CLI."""

from .cli.app import main

raise SystemExit(main())
