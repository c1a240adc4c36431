"""Chat-platform adapters. Each turns platform events into `bot.Message`, awaits
`bot.Engine.handle`, and renders the `bot.Reply` in its platform's own idiom.

Platform SDK imports stay inside their own module, so a platform is swapped in one file.
`bot.cli` imports them lazily, only when their platform is configured.
"""
