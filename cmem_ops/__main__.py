"""`python -m cmem_ops` runs the CLI."""

from .cli.main import main

raise SystemExit(main())
