"""Reading the facility's YAML file (LIFELINE_CONFIG, else ./lifeline.yaml) into its config."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.domain.facility import ConfigError, FacilityConfig, parse_facility


def load_facility(path: Path | None) -> FacilityConfig:
    """Load `path`, else `./lifeline.yaml` if present, else the built-in departments."""
    if path is None:
        default = Path("lifeline.yaml")
        if not default.exists():
            return FacilityConfig()
        path = default
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}:{line} not valid YAML ({getattr(error, 'problem', error)})"
        ) from None
    return parse_facility(data, str(path))
