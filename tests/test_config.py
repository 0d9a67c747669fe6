import os
import re

import pytest

from kiosk.app.config import key_lines, load, load_secrets, load_text, masked_secrets
from kiosk.core.errors import ConfigError
from kiosk.app.schema import SCHEMA

ROOT = os.path.dirname(os.path.dirname(__file__))


def problems_of(text, file="kiosk.toml"):
    with pytest.raises(ConfigError) as info:
        load_text(text, file)
    return [str(p) for p in info.value.problems]


def test_defaults_fill_every_key():
    cfg = load_text('[status]\nbase_url = "http://x"\n')
    assert cfg.status.deadline == 1.5
    assert cfg.policy.admit == ["green", "blue"]
    assert cfg.signals.relay_active_high is True


def test_every_error_reported_at_once_with_file_line_and_key():
    text = """[kiosk]
langauge = "kk"
[status]
deadline = "soon"
[policy]
admit = ["gren"]
on_failure = "admit"
[scaner]
port = "x"
"""
    found = problems_of(text)
    assert "kiosk.toml:2: kiosk.langauge: unknown key (did you mean 'language'?)" in found
    assert any(p.startswith("kiosk.toml:4: status.deadline: expected a number") for p in found)
    assert any(p.startswith("kiosk.toml:6: policy.admit: 'gren'") and "did you mean 'green'" in p
               for p in found)
    assert any(p.startswith("kiosk.toml:7: policy.on_failure") for p in found)
    assert any(p.startswith("kiosk.toml:8: scaner: unknown section (did you mean 'scanner'?)")
               for p in found)
    assert any("status.base_url: is required" in p for p in found)
    assert len(found) == 6


def test_ranges_and_booleans_are_checked():
    found = problems_of('[status]\nbase_url="x"\ndeadline = 60\n[signals]\nrelay_active_high = 1\n'
                        'pulse_seconds = 0\n')
    assert any("status.deadline: 60 is above the maximum" in p for p in found)
    assert any("signals.relay_active_high: expected true or false" in p for p in found)
    assert any("signals.pulse_seconds: 0 is below the minimum" in p for p in found)


def test_rules_are_validated_with_their_lines():
    found = problems_of('[status]\nbase_url="x"\n[[policy.rules]]\ndays = ["saturday"]\n'
                        'from = "25:00"\nadmitt = ["green"]\n')
    assert any(p.startswith("kiosk.toml:4: policy.rules.days: 'saturday'") for p in found)
    assert any(p.startswith("kiosk.toml:5: policy.rules.from") for p in found)
    assert any("policy.rules.admitt: unknown key (did you mean 'admit'?)" in p for p in found)


def test_not_toml_names_the_line():
    found = problems_of('[status]\nbase_url = "x"\nthis is not toml\n')
    assert found[0].startswith("kiosk.toml:3: toml: not valid TOML")


def test_key_lines_follow_tables():
    lines = key_lines("a = 1\n[x]\nb = 2\n\n[y.z]\n c = 3\n")
    assert lines == {"a": 1, "x": 2, "x.b": 3, "y.z": 5, "y.z.c": 6}


def test_example_config_is_valid_and_documents_every_key():
    path = os.path.join(ROOT, "config", "kiosk.example.toml")
    load(path)
    text = open(path, encoding="utf-8").read()
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in text
        for key in keys:
            shown = f"[[{section}.{key}]]" in text or re.search(rf"^{key} = ", text, re.M)
            assert shown, f"{section}.{key} undocumented"


def test_demo_config_is_valid():
    load(os.path.join(ROOT, "config", "demo.toml"))


def test_secrets_must_be_private(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text('status_token = "t0ken"\n')
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError) as info:
        load_secrets(str(path))
    assert "chmod 600" in str(info.value)
    os.chmod(path, 0o600)
    secrets = load_secrets(str(path))
    assert secrets.status_token == "t0ken"
    assert "t0ken" not in str(masked_secrets(secrets))


def test_missing_secrets_file_means_no_secrets(tmp_path):
    assert load_secrets(str(tmp_path / "absent.toml")).status_token == ""


def test_config_is_read_only():
    cfg = load_text('[status]\nbase_url = "http://x"\n')
    with pytest.raises(AttributeError):
        cfg.status.deadline = 5
