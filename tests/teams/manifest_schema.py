"""Structural checks for the Teams app manifest v1.22 and its localization file.

Hand-written from the constraints Microsoft documents for the manifest schema (required
fields, lengths, patterns, enums) for the parts Wegwijzer's manifest uses. It is NOT a
copy of Microsoft's schema file: that is not available offline or from PyPI here.
Unknown top-level keys are refused so a typo cannot pass unnoticed.
"""

from __future__ import annotations

from typing import Any

GUID = r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
HTTPS = {"type": "string", "maxLength": 2048, "pattern": r"^[Hh][Tt][Tt][Pp][Ss]://"}
RELATIVE_FILE = {"type": "string", "maxLength": 2048, "pattern": r"^[^/\\:]+$"}
LANGUAGE_TAG = {
    "type": "string",
    "pattern": r"^[A-Za-z]{2,4}([_-][A-Za-z]{4})?([_-]([A-Za-z]{2}|[0-9]{3}))?$",
}
SCOPE = {"enum": ["team", "personal", "groupChat"]}

COMMAND = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "description"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 32},
        "description": {"type": "string", "minLength": 1, "maxLength": 128},
    },
}

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "manifestVersion",
        "version",
        "id",
        "developer",
        "name",
        "description",
        "icons",
        "accentColor",
    ],
    "additionalProperties": False,
    "properties": {
        "$schema": {
            "const": "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
        },
        "manifestVersion": {"const": "1.22"},
        "version": {
            "type": "string",
            "maxLength": 256,
            "pattern": r"^([0-9]|[1-9][0-9]*)\.([0-9]|[1-9][0-9]*)\.([0-9]|[1-9][0-9]*)$",
        },
        "id": {"type": "string", "pattern": GUID},
        "localizationInfo": {
            "type": "object",
            "additionalProperties": False,
            "required": ["defaultLanguageTag"],
            "properties": {
                "defaultLanguageTag": LANGUAGE_TAG,
                "defaultLanguageFile": RELATIVE_FILE,
                "additionalLanguages": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["languageTag", "file"],
                        "properties": {"languageTag": LANGUAGE_TAG, "file": RELATIVE_FILE},
                    },
                },
            },
        },
        "developer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "websiteUrl", "privacyUrl", "termsOfUseUrl"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 32},
                "mpnId": {"type": "string", "maxLength": 10},
                "websiteUrl": HTTPS,
                "privacyUrl": HTTPS,
                "termsOfUseUrl": HTTPS,
            },
        },
        "name": {
            "type": "object",
            "additionalProperties": False,
            "required": ["short"],
            "properties": {
                "short": {"type": "string", "minLength": 1, "maxLength": 30},
                "full": {"type": "string", "minLength": 1, "maxLength": 100},
            },
        },
        "description": {
            "type": "object",
            "additionalProperties": False,
            "required": ["short", "full"],
            "properties": {
                "short": {"type": "string", "minLength": 1, "maxLength": 80},
                "full": {"type": "string", "minLength": 1, "maxLength": 4000},
            },
        },
        "icons": {
            "type": "object",
            "additionalProperties": False,
            "required": ["outline", "color"],
            "properties": {"outline": RELATIVE_FILE, "color": RELATIVE_FILE},
        },
        "accentColor": {"type": "string", "pattern": r"^#[0-9a-fA-F]{6}$"},
        "bots": {
            "type": "array",
            "maxItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["botId", "scopes"],
                "properties": {
                    "botId": {"type": "string", "pattern": GUID},
                    "needsChannelSelector": {"type": "boolean"},
                    "isNotificationOnly": {"type": "boolean"},
                    "supportsFiles": {"type": "boolean"},
                    "supportsCalling": {"type": "boolean"},
                    "supportsVideo": {"type": "boolean"},
                    "scopes": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 3,
                        "uniqueItems": True,
                        "items": SCOPE,
                    },
                    "commandLists": {
                        "type": "array",
                        "maxItems": 2,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["scopes", "commands"],
                            "properties": {
                                "scopes": {"type": "array", "maxItems": 3, "items": SCOPE},
                                "commands": {"type": "array", "maxItems": 10, "items": COMMAND},
                            },
                        },
                    },
                },
            },
        },
        "validDomains": {
            "type": "array",
            "maxItems": 16,
            "uniqueItems": True,
            "items": {"type": "string", "maxLength": 2048},
        },
    },
}

LOCALIZATION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {
            "const": "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.Localization.schema.json"
        },
        "name.short": {"type": "string", "minLength": 1, "maxLength": 30},
        "name.full": {"type": "string", "minLength": 1, "maxLength": 100},
        "description.short": {"type": "string", "minLength": 1, "maxLength": 80},
        "description.full": {"type": "string", "minLength": 1, "maxLength": 4000},
    },
    "patternProperties": {
        r"^bots\[0\]\.commandLists\[[0-9]\]\.commands\[[0-9]\]\.title$": {
            "type": "string",
            "maxLength": 32,
        },
        r"^bots\[0\]\.commandLists\[[0-9]\]\.commands\[[0-9]\]\.description$": {
            "type": "string",
            "maxLength": 128,
        },
    },
}
