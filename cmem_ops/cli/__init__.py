"""typer wiring only: build the context, call one service, render, return the exit code."""
