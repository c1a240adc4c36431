"""The Teams app package: manifest.json (schema v1.22), English strings, two icons.

Dutch is the manifest's default language; `en-us.json` carries the English names,
descriptions and command titles. All of that wording comes from knowledge/texts.yaml
(the `teams_app_*` and `teams_command_*` keys). The icons are drawn with Pillow at build
time: a white signpost on the accent colour (192x192) and the same signpost in white on
transparent (32x32 outline), as Teams requires. The zip is reproducible: fixed timestamps, sorted.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import KnowledgeBase, KnowledgeBaseError, Lang, default_knowledge_dir, load_knowledge_base

MANIFEST_VERSION = "1.22"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/"
    "MicrosoftTeams.schema.json"
)
LOCALIZATION_SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/"
    "MicrosoftTeams.Localization.schema.json"
)
PACKAGE_NAME = "wegwijzer-teams.zip"
COLOR_ICON, OUTLINE_ICON, ENGLISH_FILE = "color.png", "outline.png", "en-us.json"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
#: Rijksoverheid "lintblauw".
DEFAULT_ACCENT = "#154273"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DOMAIN = re.compile(r"^(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+$")

#: Manifest texts: (manifest field, texts.yaml key, longest allowed by the schema).
MANIFEST_TEXTS = (
    ("name.short", "teams_app_name_short", 30),
    ("name.full", "teams_app_name_full", 100),
    ("description.short", "teams_app_description_short", 80),
    ("description.full", "teams_app_description_full", 4000),
)
#: Command menus by scope: each is `teams_command_<name>` (the title, a command the bot
#: understands) and `teams_command_<name>_help` (its description) in texts.yaml.
PERSONAL_COMMANDS = ("menu", "talk", "org", "privacy", "forget", "help")
GROUP_COMMANDS = ("menu", "privacy", "help")
COMMAND_TITLE_MAX, COMMAND_HELP_MAX = 32, 128


def _texts(kb: KnowledgeBase, lang: Lang) -> dict[str, str]:
    """The manifest's strings in one language, checked against the manifest's limits."""
    out: dict[str, str] = {}

    def take(field: str, key: str, limit: int) -> None:
        if key not in kb.texts:
            raise ValueError(f"knowledge/texts.yaml has no '{key}' (Teams app package)")
        value = " ".join(kb.text(key, lang).split())
        if not value or len(value) > limit:
            raise ValueError(
                f"knowledge/texts.yaml '{key}' ({lang}) must be 1 to {limit} characters"
            )
        out[field] = value

    for field, key, limit in MANIFEST_TEXTS:
        take(field, key, limit)
    for name in dict.fromkeys((*PERSONAL_COMMANDS, *GROUP_COMMANDS)):
        take(f"command.{name}", f"teams_command_{name}", COMMAND_TITLE_MAX)
        take(f"command.{name}.help", f"teams_command_{name}_help", COMMAND_HELP_MAX)
    return out


def _knowledge(env: Mapping[str, str]) -> KnowledgeBase:
    root = default_knowledge_dir(env)
    try:
        return load_knowledge_base(root)
    except KnowledgeBaseError as exc:
        raise ValueError(
            f"WEGWIJZER_KNOWLEDGE_DIR ({root}) does not load; run 'wegwijzer kb validate'"
        ) from exc


def _https(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name, "").strip() or default
    if not value:
        raise ValueError(f"{name} is not set (an https:// URL is required in the manifest)")
    if not value.startswith("https://") or len(value) > 2048 or " " in value:
        raise ValueError(f"{name} must be an https:// URL")
    return value


def _commands(names: tuple[str, ...], texts: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"title": texts[f"command.{n}"], "description": texts[f"command.{n}.help"]} for n in names
    ]


def build_manifest(
    env: Mapping[str, str], kb: KnowledgeBase | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest (Dutch) and its English localization file.

    Args:
        env: The settings (`MicrosoftAppId`, `WEGWIJZER_TEAMS_*`).
        kb: The knowledge base whose texts.yaml has the wording; by default the one in
            `WEGWIJZER_KNOWLEDGE_DIR` (or the bundled one).

    Raises:
        ValueError: A setting is missing or wrong; the message names it.
    """
    bot_id = env.get("MicrosoftAppId", "").strip()
    if not _GUID.match(bot_id):
        raise ValueError("MicrosoftAppId must be set to the bot's application (client) id")
    app_id = env.get("WEGWIJZER_TEAMS_APP_ID", "").strip() or bot_id
    if not _GUID.match(app_id):
        raise ValueError("WEGWIJZER_TEAMS_APP_ID must be a GUID")
    version = env.get("WEGWIJZER_TEAMS_APP_VERSION", "").strip() or "1.0.0"
    if not _VERSION.match(version):
        raise ValueError("WEGWIJZER_TEAMS_APP_VERSION must look like 1.0.0")
    accent = env.get("WEGWIJZER_TEAMS_ACCENT_COLOR", "").strip() or DEFAULT_ACCENT
    if not _COLOR.match(accent):
        raise ValueError("WEGWIJZER_TEAMS_ACCENT_COLOR must look like #154273")
    privacy = _https(env, "WEGWIJZER_TEAMS_PRIVACY_URL")
    terms = _https(env, "WEGWIJZER_TEAMS_TERMS_URL")
    website = _https(env, "WEGWIJZER_TEAMS_WEBSITE_URL", privacy)
    developer = env.get("WEGWIJZER_TEAMS_DEVELOPER_NAME", "").strip() or "Rijksoverheid"
    if len(developer) > 32:
        raise ValueError("WEGWIJZER_TEAMS_DEVELOPER_NAME may be 32 characters at most")
    domains = [d.strip().lower() for d in env.get("WEGWIJZER_TEAMS_DOMAINS", "").split(",")]
    domains = [d for d in domains if d]
    if any(not _DOMAIN.match(d) for d in domains):
        raise ValueError("WEGWIJZER_TEAMS_DOMAINS must be host names, comma separated")
    knowledge = kb if kb is not None else _knowledge(env)
    nl, en = _texts(knowledge, "nl"), _texts(knowledge, "en")
    manifest: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id.lower(),
        "localizationInfo": {
            "defaultLanguageTag": "nl-nl",
            "additionalLanguages": [{"languageTag": "en-us", "file": ENGLISH_FILE}],
        },
        "developer": {
            "name": developer,
            "websiteUrl": website,
            "privacyUrl": privacy,
            "termsOfUseUrl": terms,
        },
        "name": {"short": nl["name.short"], "full": nl["name.full"]},
        "description": {"short": nl["description.short"], "full": nl["description.full"]},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": accent.upper(),
        "bots": [
            {
                "botId": bot_id.lower(),
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["personal"], "commands": _commands(PERSONAL_COMMANDS, nl)},
                    {"scopes": ["team", "groupChat"], "commands": _commands(GROUP_COMMANDS, nl)},
                ],
            }
        ],
        "validDomains": domains,
    }
    english: dict[str, Any] = {"$schema": LOCALIZATION_SCHEMA_URL}
    english.update({field: en[field] for field, _, _ in MANIFEST_TEXTS})
    for list_index, names in enumerate((PERSONAL_COMMANDS, GROUP_COMMANDS)):
        for i, name in enumerate(names):
            prefix = f"bots[0].commandLists[{list_index}].commands[{i}]"
            english[f"{prefix}.title"] = en[f"command.{name}"]
            english[f"{prefix}.description"] = en[f"command.{name}.help"]
    return manifest, english


def _signpost(size: int) -> list[list[tuple[float, float]]]:
    """A signpost (post and two arrow signs) as polygons in a size x size square."""
    s = size / 32.0

    def scale(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * s, y * s) for x, y in points]

    post: list[tuple[float, float]] = [(14.5, 4), (17.5, 4), (17.5, 29), (14.5, 29)]
    right: list[tuple[float, float]] = [(6, 7), (23, 7), (27, 10.5), (23, 14), (6, 14)]
    left: list[tuple[float, float]] = [(26, 16), (9, 16), (5, 19.5), (9, 23), (26, 23)]
    return [scale(p) for p in (post, right, left)]


def draw_icons() -> tuple[bytes, bytes]:
    """The colour icon (192x192, opaque) and the outline icon (32x32, white on transparent)."""
    from PIL import Image, ImageDraw

    def png(image: Image.Image) -> bytes:
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        return buf.getvalue()

    color = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), DEFAULT_ACCENT)
    draw = ImageDraw.Draw(color)
    # Drawn inside the central 120 px: Teams crops the colour icon's outer area.
    inner = 120
    offset = (COLOR_SIZE - inner) / 2
    for poly in _signpost(inner):
        draw.polygon([(x + offset, y + offset) for x, y in poly], fill="#FFFFFF")
    outline = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(outline)
    for poly in _signpost(OUTLINE_SIZE):
        draw.polygon(poly, fill=(255, 255, 255, 255))
    return png(color), png(outline)


def build(out_dir: Path, env: Mapping[str, str]) -> Path:
    """Write `wegwijzer-teams.zip` into `out_dir` and return its path."""
    manifest, english = build_manifest(env)
    color, outline = draw_icons()
    files = {
        "manifest.json": json.dumps(manifest, ensure_ascii=False, indent=2).encode(),
        ENGLISH_FILE: json.dumps(english, ensure_ascii=False, indent=2).encode(),
        COLOR_ICON: color,
        OUTLINE_ICON: outline,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PACKAGE_NAME
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return path
