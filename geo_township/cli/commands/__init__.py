"""One module per command; each defines `command`, registered in geo_township.cli.COMMANDS."""
