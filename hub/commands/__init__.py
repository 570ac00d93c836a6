"""One module per `deme` subcommand."""
