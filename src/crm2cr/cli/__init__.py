"""The `crm2cr` command line (Typer + Rich): thin over the service functions."""
