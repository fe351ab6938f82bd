"""`python -m contextree` is the `mem` command."""

from .cli.entry import main

if __name__ == "__main__":
    main()
