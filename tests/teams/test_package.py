"""`wegwijzer teams-package`: a valid manifest, English strings, icons at their sizes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from adapters.teams import build_package
from tests.teams.helpers import APP_ID
from tests.teams.manifest_schema import LOCALIZATION_SCHEMA, MANIFEST_SCHEMA

pytestmark = pytest.mark.teams

REPO = Path(__file__).resolve().parents[2]
ENV = {
    "MicrosoftAppId": APP_ID,
    "WEGWIJZER_TEAMS_PRIVACY_URL": "https://wegwijzer.example.nl/privacy",
    "WEGWIJZER_TEAMS_TERMS_URL": "https://wegwijzer.example.nl/voorwaarden",
    "WEGWIJZER_TEAMS_DOMAINS": "wegwijzer.example.nl",
}


def _read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}


def test_package_is_valid(tmp_path: Path) -> None:
    files = _read(build_package(tmp_path / "out", ENV))
    assert set(files) == {"manifest.json", "en-us.json", "color.png", "outline.png"}
    manifest = json.loads(files["manifest.json"])
    english = json.loads(files["en-us.json"])
    validator = jsonschema.Draft202012Validator
    validator.check_schema(MANIFEST_SCHEMA)
    validator(MANIFEST_SCHEMA).validate(manifest)
    validator(LOCALIZATION_SCHEMA).validate(english)
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["id"] == APP_ID  # defaults to the bot id
    assert manifest["developer"]["privacyUrl"] == ENV["WEGWIJZER_TEAMS_PRIVACY_URL"]
    assert manifest["developer"]["termsOfUseUrl"] == ENV["WEGWIJZER_TEAMS_TERMS_URL"]
    # Dutch by default, English in the localization file that the manifest names.
    assert manifest["localizationInfo"]["defaultLanguageTag"] == "nl-nl"
    (extra,) = manifest["localizationInfo"]["additionalLanguages"]
    assert extra == {"languageTag": "en-us", "file": "en-us.json"}
    assert "Rijk" in manifest["description"]["short"]
    assert "government" in english["description.short"]
    assert "bewaart niets" in manifest["description"]["full"]
    assert "keeps nothing" in english["description.full"]
    # Every localized command key points at a command that exists in the manifest.
    for key in english:
        if key.startswith("bots[0]"):
            lst, cmd = (int(part.split("]")[0]) for part in key.split("[")[2:4])
            assert cmd < len(bot["commandLists"][lst]["commands"])
    for name in (manifest["icons"]["color"], manifest["icons"]["outline"]):
        assert name in files


def test_icons_have_the_required_sizes(tmp_path: Path) -> None:
    files = _read(build_package(tmp_path, ENV))
    color = Image.open(io.BytesIO(files["color.png"]))
    outline = Image.open(io.BytesIO(files["outline.png"]))
    assert color.format == outline.format == "PNG"
    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    assert color.convert("RGBA").getextrema()[3] == (255, 255)  # fully opaque
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    # Outline: white on a transparent background, nothing else.
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    assert any(a == 255 for *_, a in pixels) and any(a == 0 for *_, a in pixels)


def test_package_is_reproducible(tmp_path: Path) -> None:
    first = build_package(tmp_path / "a", ENV).read_bytes()
    assert build_package(tmp_path / "b", ENV).read_bytes() == first


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MicrosoftAppId", ""),
        ("MicrosoftAppId", "bot"),
        ("WEGWIJZER_TEAMS_PRIVACY_URL", ""),
        ("WEGWIJZER_TEAMS_TERMS_URL", "http://insecure.example/terms"),
        ("WEGWIJZER_TEAMS_APP_VERSION", "1.0"),
        ("WEGWIJZER_TEAMS_ACCENT_COLOR", "blue"),
        ("WEGWIJZER_TEAMS_DOMAINS", "https://x.example/"),
    ],
)
def test_bad_settings_are_value_errors(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        build_package(tmp_path, {**ENV, name: value})
    assert not (tmp_path / "wegwijzer-teams.zip").exists()


def test_cli_builds_the_package(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEGWIJZER_", "Microsoft"))}
    env["PYTHONPATH"] = str(REPO)
    cmd = [sys.executable, "-m", "bot.cli", "teams-package", "--out", str(tmp_path / "pkg")]
    out = subprocess.run(
        cmd, capture_output=True, text=True, env={**env, **ENV}, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).name == "wegwijzer-teams.zip"
    missing = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert missing.returncode == 2
    assert "MicrosoftAppId" in missing.stderr
