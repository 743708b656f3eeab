"""`python -m geo_township` runs the command line."""

from geo_township.cli import main

if __name__ == "__main__":
    main()
