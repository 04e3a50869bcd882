from __future__ import annotations

import hashlib
import json

import pytest

from cmem_ops.errors import ConfigError
from cmem_ops.installers.checksums import IntegrityError, parse_sha256_file, sha256_file, verify_sha256
from cmem_ops.installers.manifest import load_manifest, parse_manifest

HEX = "33687af7a5457459a16c207a9c1971fc70f67e6ec1f011a876094b790741bd63"


@pytest.mark.parametrize("text", [
    HEX + "\n",
    f"{HEX}  valkey-9.1.2-jammy-x86_64.tar.gz\n",
    f"{HEX} *valkey-9.1.2-jammy-x86_64.tar.gz\n",
    f"SHA256 (valkey-9.1.2-jammy-x86_64.tar.gz) = {HEX}\n",
    f"# comment\n{'0' * 64}  other.tar.gz\n{HEX.upper()}  valkey-9.1.2-jammy-x86_64.tar.gz\n",
])
def test_sidecar_formats(text):
    assert parse_sha256_file(text, "valkey-9.1.2-jammy-x86_64.tar.gz") == HEX


def test_sidecar_without_a_digest():
    assert parse_sha256_file("<html>not found</html>") is None


def test_verify(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"hello")
    good = hashlib.sha256(b"hello").hexdigest()
    assert sha256_file(path) == good == verify_sha256(path, good.upper(), "f")
    with pytest.raises(IntegrityError) as info:
        verify_sha256(path, "0" * 64, "f")
    assert "failed its SHA256 check" in info.value.message and info.value.hint


def test_shipped_manifest():
    manifest = load_manifest()
    assert manifest.default_version in manifest.versions
    artifact = manifest.artifact("9.1.2", "jammy", "x86_64")
    assert artifact is not None and artifact.sha256 == HEX
    assert artifact.filename == "valkey-9.1.2-jammy-x86_64.tar.gz" and artifact.top_dir == "valkey-9.1.2-jammy-x86_64"
    assert manifest.url(artifact) == "https://download.valkey.io/releases/valkey-9.1.2-jammy-x86_64.tar.gz"
    assert manifest.url(artifact, "file:///m/") == "file:///m/valkey-9.1.2-jammy-x86_64.tar.gz"
    assert manifest.artifact("9.1.2", "jammy", "riscv64") is None


@pytest.mark.parametrize(("mutate", "why"), [
    (lambda d: d.update(schema=2), "schema"),
    (lambda d: d["releases"]["9.1.2"].update({"jammy-x86_64": "abc"}), "not a SHA256"),
    (lambda d: d["releases"].update({"9.1": {}}), "not X.Y.Z"),
    (lambda d: d.update(default_version="1.2.3"), "default_version"),
    (lambda d: d.pop("variants"), "missing or malformed"),
])
def test_bad_manifests_are_config_errors(tmp_path, mutate, why):
    data = json.loads(json.dumps(_raw()))
    mutate(data)
    with pytest.raises(ConfigError) as info:
        parse_manifest(data, "test.json")
    assert why in info.value.message and "test.json" in info.value.message


def test_unreadable_manifest(tmp_path):
    with pytest.raises(ConfigError):
        load_manifest(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError) as info:
        load_manifest(tmp_path / "bad.json")
    assert "not JSON" in info.value.message


def _raw():
    from importlib import resources
    return json.loads(resources.files("cmem_ops.installers").joinpath("manifest.json").read_text())
