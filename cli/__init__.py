"""The `mem` command line: typer commands that parse, call core once and render."""
