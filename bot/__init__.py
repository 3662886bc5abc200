"""Runtime of the reporting bot: configuration, channels, wiring and the command line."""
