"""Product tooling beside the runtime: schema generation and other developer commands."""
