"""The use cases every interface calls: the CLI and the web UI are thin layers over these."""
