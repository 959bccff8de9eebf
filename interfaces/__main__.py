"""`python -m interfaces` runs the `journey` command line."""

from interfaces.cli import main

main()
