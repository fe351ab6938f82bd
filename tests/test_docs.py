"""The documentation matches the code: the generated CLI reference is current, and the
commented config template lists every key with its real default."""

from __future__ import annotations

import dataclasses
import re

import yaml
from contextree.cli.reference import BEGIN, CONFIG_BEGIN, CONFIG_END, END, render, render_config
from contextree.core.config import Config, config_as_dict

from .conftest import REPO


def test_cli_reference_is_current() -> None:
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    current = text[text.index(BEGIN) : text.index(END) + len(END) + 1]
    assert current == render(), "docs/cli.md is stale: run `make docs`"


def test_configuration_reference_is_current() -> None:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    current = text[text.index(CONFIG_BEGIN) : text.index(CONFIG_END) + len(CONFIG_END) + 1]
    assert current == render_config(), "docs/configuration.md is stale: run `make docs`"


def uncommented_template() -> dict:
    """The config template with its `# ` prefixes removed: the defaults as YAML."""
    lines = []
    for line in (REPO / "templates" / "config.yaml").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^# ( *[a-z_]+:.*)$", line)
        if match:
            lines.append(re.sub(r"\s+#.*$", "", match.group(1)))
    return yaml.safe_load("\n".join(lines))


def test_config_template_lists_every_key_with_its_default() -> None:
    template = uncommented_template()
    defaults = config_as_dict(Config())
    assert set(template) == set(defaults), "sections missing from templates/config.yaml"
    for section, values in defaults.items():
        assert set(template[section] or {}) == set(values), f"keys of '{section}' differ"
        for key, value in values.items():
            written = template[section][key]
            if isinstance(value, float):
                assert float(written) == value, f"{section}.{key}"
            elif isinstance(value, tuple):
                assert tuple(written) == value, f"{section}.{key}"
            else:
                assert written == value, f"{section}.{key}: template {written!r}, code {value!r}"


def test_every_config_section_is_documented() -> None:
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(Config):
        if field.name != "warnings":
            assert f"`{field.name}:`" in text or f"## {field.name}" in text, field.name


def test_every_doc_link_in_the_readme_exists() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / link).is_file(), link
