"""`python -m contextree` is the `mem` command."""

from .cli.app import main

if __name__ == "__main__":
    main()
