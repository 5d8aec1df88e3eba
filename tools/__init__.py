"""Product tooling: the commands and clients that know arcadeflow's flows (duels, fan-out), and
the schema generator (`python -m tools.schemas`).

The runtime (arcadeflow/) knows no product; these plug into its CLI through the
`arcadeflow.commands` entry points declared in pyproject.toml (tools/commands.py). They may use
the runtime's helpers; the runtime never imports them. Not part of the Lambda package.
"""
