"""The Teams app package: manifest.json (schema v1.22), English strings, two icons.

Dutch is the manifest's default language; `en-us.json` carries the English names,
descriptions and command titles. The icons are drawn with Pillow at build time: a white
signpost on the accent colour (192x192) and the same signpost in white on transparent
(32x32 outline), as Teams requires. The zip is reproducible: fixed timestamps, sorted.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "name.short": "Wegwijzer",
        "name.full": "Wegwijzer: vragen over je werk bij het Rijk",
        "description.short": "Antwoord op vragen over je werk bij het Rijk, en wie je kan helpen.",
        "description.full": (
            "Wegwijzer beantwoordt vragen over je werk bij de Rijksoverheid: ongewenst gedrag, "
            "integriteit, je rechtspositie en ziekte. Het wijst je de weg naar de juiste hulp: "
            "een vertrouwenspersoon, een P-raadgever, een externe vertrouwenspersoon of een "
            "instantie buiten je organisatie. Wegwijzer bewaart niets van wat je schrijft. "
            "Stel je vraag in een persoonlijke chat; in groepen en kanalen antwoordt het alleen "
            "als je het noemt met @Wegwijzer, en nooit over een persoonlijke kwestie."
        ),
    },
    "en": {
        "name.short": "Wegwijzer",
        "name.full": "Wegwijzer: questions about working for the Dutch government",
        "description.short": "Answers about working for the Dutch government, and who can help.",
        "description.full": (
            "Wegwijzer answers questions about working for the Dutch central government: "
            "undesirable behaviour, integrity, your legal position and sickness. It points you "
            "to the right help: a confidential counsellor, a P-adviser, an external counsellor "
            "or a body outside your organisation. Wegwijzer keeps nothing of what you write. "
            "Ask in a personal chat; in group chats and channels it answers only when you "
            "@mention it, and never about a personal matter."
        ),
    },
}

#: Command menu: (Dutch title, English title, Dutch description, English description).
PERSONAL_COMMANDS = (
    ("menu", "menu", "Alle onderwerpen", "All topics"),
    ("praat met iemand", "talk to someone", "Wie kan mij helpen?", "Who can help me?"),
    ("organisatie", "organisation", "Kies je organisatie", "Choose your organisation"),
    ("privacy", "privacy", "Wat ik wel en niet bewaar", "What I keep and what I do not"),
    ("vergeet", "forget", "Vergeet dit gesprek nu", "Forget this conversation now"),
    ("hulp", "help", "Wat kan ik vragen?", "What can I ask?"),
)
GROUP_COMMANDS = (
    ("menu", "menu", "Alle onderwerpen", "All topics"),
    ("privacy", "privacy", "Wat ik wel en niet bewaar", "What I keep and what I do not"),
    ("hulp", "help", "Wat kan ik vragen?", "What can I ask?"),
)


def _https(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name, "").strip() or default
    if not value:
        raise ValueError(f"{name} is not set (an https:// URL is required in the manifest)")
    if not value.startswith("https://") or len(value) > 2048 or " " in value:
        raise ValueError(f"{name} must be an https:// URL")
    return value


def _commands(items: tuple[tuple[str, str, str, str], ...], lang: int) -> list[dict[str, str]]:
    return [{"title": item[lang], "description": item[2 + lang]} for item in items]


def build_manifest(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest (Dutch) and its English localization file.

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
    nl = TEXTS["nl"]
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
                    {"scopes": ["personal"], "commands": _commands(PERSONAL_COMMANDS, 0)},
                    {"scopes": ["team", "groupChat"], "commands": _commands(GROUP_COMMANDS, 0)},
                ],
            }
        ],
        "validDomains": domains,
    }
    english: dict[str, Any] = {"$schema": LOCALIZATION_SCHEMA_URL, **TEXTS["en"]}
    for list_index, items in enumerate((PERSONAL_COMMANDS, GROUP_COMMANDS)):
        for i, item in enumerate(items):
            prefix = f"bots[0].commandLists[{list_index}].commands[{i}]"
            english[f"{prefix}.title"] = item[1]
            english[f"{prefix}.description"] = item[3]
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
