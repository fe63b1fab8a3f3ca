"""The configuration contract: defaults, key-named errors, durations."""

from datetime import timedelta
from pathlib import Path

import pytest

from driftwatch.config import ConfigError, load_config, parse_config, parse_duration


def test_minimal_config_takes_every_default() -> None:
    config = parse_config({"targets": [{"name": "prod", "root": "envs/prod"}]})
    assert config.repo == "."
    assert config.schedule.interval == timedelta(minutes=5)
    assert config.schedule.jitter == timedelta(seconds=30)
    assert (config.http.host, config.http.port) == ("0.0.0.0", 9876)
    assert config.slack.remind_after == timedelta(hours=24)
    assert config.targets[0].workspace is None  # TF_WORKSPACE, else "default" (test_targets.py)
    assert config.terraform_parity == "default"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "targets: required key is missing"),
        ({"targets": []}, "targets: List should have at least 1 item"),
        ({"targets": [{"name": "p"}]}, "targets.0.root: required key is missing"),
        ({"targets": [{"name": "p", "root": "r", "var_file": ["a"]}]}, "targets.0.var_file: unknown key"),
        ({"targets": [{"name": "p", "root": "r"}], "schedule": {"interval": "soon"}}, "schedule.interval:"),
        ({"targets": [{"name": "p", "root": "r"}], "http": {"port": 70000}}, "http.port:"),
        ({"targets": [{"name": "p", "root": "r"}, {"name": "p", "root": "s"}]}, "repeated: p"),
        (
            {"targets": [{"name": "p", "root": "r"}], "ignore": [{"table": "x"}]},
            "ignore.0.reason: required key",
        ),
        ({"targets": [{"name": "p", "root": "r"}], "parse": {"max_file_tokens": 0}}, "parse.max_file_tokens"),
        ({"targets": [{"name": "p", "root": "r"}], "parse": {"max_bytes": 1}}, "parse.max_bytes: unknown"),
    ],
)
def test_invalid_config_names_the_key_and_reason(data: dict, expected: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "driftwatch.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("driftwatch.yaml: invalid configuration")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("24h", 86400), ("1.5h", 5400), ("250ms", 0.25), ("2d", 172800), (0, 0)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("value", [5, 45.0, "5", " 90 "])
def test_a_duration_without_a_unit_is_an_error_naming_the_units(value: object) -> None:
    """`interval: 5` could mean 5 s or 5 min: refused, with the units that are accepted."""
    with pytest.raises(ValueError, match=r"has no unit: write it with one of ms, s, m, h or d"):
        parse_duration(value)
    with pytest.raises(ConfigError) as caught:
        parse_config({"targets": [{"name": "p", "root": "."}], "schedule": {"interval": value}})
    assert "schedule.interval" in str(caught.value) and "ms, s, m, h or d" in str(caught.value)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("targets:\n  - name: p\n    root: [unclosed\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:\d+: not valid YAML"):
        load_config(path)


def test_a_config_that_is_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    """It escaped as a UnicodeDecodeError: a traceback where a config error belongs."""
    path = tmp_path / "c.yaml"
    path.write_bytes(b"targets:\n  - name: caf\xe9\n    root: .\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:2: the configuration is not UTF-8 text \(byte 0xe9\)"):
        load_config(path)


def test_vars_are_strings_like_terraform_dash_var() -> None:
    config = parse_config({"targets": [{"name": "p", "root": "r", "vars": {"n": 3, "on": True}}]})
    assert config.targets[0].vars == {"n": "3", "on": "true"}


def test_relative_repo_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config" / "driftwatch.yaml"
    path.parent.mkdir()
    path.write_text("repo: ../infra\ntargets:\n  - {name: p, root: envs/p}\n")
    config, base = load_config(path)
    assert config.repo_path(base).resolve() == (tmp_path / "infra").resolve()


def test_parse_limits_bound_what_a_scan_parses(tmp_path: Path) -> None:
    """``parse.max_file_tokens`` reaches the parse cache of inspect/validate/scan: a file over it
    is an error naming the file and the limit, the other files are still evaluated."""
    import json
    import subprocess
    import sys

    root = tmp_path / "repo"
    root.mkdir()
    (root / "small.tf").write_text('locals {\n  a = "b"\n}\n')
    (root / "big.tf").write_text("locals {\n" + "".join(f"  v{i} = {i}\n" for i in range(200)) + "}\n")
    config = tmp_path / "driftwatch.yaml"
    config.write_text(json.dumps({"repo": "repo", "targets": [{"name": "p", "root": "."}]}))
    limited = tmp_path / "limited.yaml"
    targets = [{"name": "p", "root": "."}]
    limited.write_text(json.dumps({"repo": "repo", "targets": targets, "parse": {"max_file_tokens": 500}}))

    def validate(path: Path) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "driftwatch", "validate", "--config", str(path)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)

    assert "too large to parse" not in validate(config).stderr
    result = validate(limited)
    assert "big.tf" in result.stderr and "more than 500 tokens" in result.stderr
    assert "small.tf" not in result.stderr
    assert result.returncode == 1
