"""ASL templates: statemachines/<flow>.asl.json with ${snake_case} placeholders.

Terraform fills them with templatefile(); the embedded deployer fills them here, with the same
variables (Deployment.template_variables), so a placeholder either side lacks fails both.
"""

from __future__ import annotations

import json
import re

from arcadeflow.deployment import REPO_ROOT

PLACEHOLDER = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")


class MissingPlaceholder(KeyError):
    pass


def render_definition(relative_path: str, variables: dict[str, str]) -> str:
    text = (REPO_ROOT / relative_path).read_text()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise MissingPlaceholder(f"{relative_path}: no value for ${{{name}}}")
        return variables[name]

    rendered = PLACEHOLDER.sub(fill, text)
    json.loads(rendered)  # a template must stay valid JSON once filled
    return rendered
