"""Wegwijzer's answer engine. Adapters use only what is re-exported here.

Where a message goes:
    adapter -> `Message` -> `Engine.handle` (bot/_engine.py)
        -> crisis check (bot/_crisis.py) -> commands and choices (bot/_commands.py)
        -> matching (bot/_match.py) -> routing to contacts (bot/_routing.py)
    -> `Reply` -> adapter renders it.
"""

from bot._commands import ACTION_OPEN_DIRECT
from bot._config import default_data_dir, default_knowledge_dir
from bot._engine import MAX_MESSAGE_CHARS, Engine
from bot._kb import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from bot._metrics import homeserver_error, lease_held, rate_limited  # replicas: metrics
from bot._privacy import configure_logging, conversation_key
from bot._stores import bounded  # replicas: a Redis call with a timeout that always holds
from bot._types import (
    LANGS,
    ROLES,
    AnswerSection,
    Channel,
    Choice,
    ChoicesSection,
    Contact,
    ContactMethod,
    ContactsSection,
    CrisisNotice,
    CrisisSection,
    DetailsSection,
    DisclaimerSection,
    FeedbackSection,
    Lang,
    Message,
    Reply,
    ReplyKind,
    Section,
    Source,
    SourcesSection,
    contact_heading,
    contact_lines,
    contact_reach,
)

__all__ = [
    "ACTION_OPEN_DIRECT",
    "LANGS",
    "MAX_MESSAGE_CHARS",
    "ROLES",
    "AnswerSection",
    "Channel",
    "Choice",
    "ChoicesSection",
    "Contact",
    "ContactMethod",
    "ContactsSection",
    "CrisisNotice",
    "CrisisSection",
    "DetailsSection",
    "DisclaimerSection",
    "Engine",
    "FeedbackSection",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Lang",
    "Message",
    "Reply",
    "ReplyKind",
    "Section",
    "Source",
    "SourcesSection",
    "bounded",
    "configure_logging",
    "contact_heading",
    "contact_lines",
    "contact_reach",
    "conversation_key",
    "default_data_dir",
    "default_knowledge_dir",
    "homeserver_error",
    "lease_held",
    "load_knowledge_base",
    "rate_limited",
]
