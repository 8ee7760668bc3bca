"""Core commands as Discord slash commands with typed options and autocomplete.

Each core `Param` becomes an option: text and choices as string options, integers as
integer options (with their bounds), a suggestion source as autocomplete. discord.py reads
options from the callback's signature, so a signature is made from the spec; the values
Discord sends are joined back into the command's text (`CommandSpec.text_for`), so the
core keeps one parser for every platform."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord import app_commands

from core.chat.router import CHOICE, INTEGER, CommandSpec, Param, Router, Suggestion

log = logging.getLogger(__name__)

MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_TEXT = 100  # descriptions, choice names and choice values

SlashHandler = Callable[
    [discord.Interaction[Any], CommandSpec, Mapping[str, object]], Awaitable[None]
]
Suggest = Callable[[discord.Interaction[Any], str, str], Awaitable[list[Suggestion]]]
Autocomplete = Callable[[discord.Interaction[Any], str], Awaitable[list[app_commands.Choice[Any]]]]


class TeddyCommandTree(app_commands.CommandTree[Any]):
    """The command tree that answers a command it could not run instead of leaving the
    person looking at "The application did not respond"."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        name = interaction.command.name if interaction.command is not None else "this command"
        if isinstance(error, app_commands.CommandInvokeError):
            log.error("/%s failed", name, exc_info=error.original)
            text = "Sorry, something went wrong. Please try again in a moment."
        else:  # options Discord sent that this version of the command does not declare
            log.warning("/%s arrived with options it does not take: %s", name, error)
            text = (
                f"I could not read the options of /{name}: Discord may still show an older "
                f"version of it. Try again in a minute, or see `/help {name}`."
            )
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the person that /%s failed", name)


def register_slash_commands(
    tree: app_commands.CommandTree[Any], router: Router, handle: SlashHandler, suggest: Suggest
) -> None:
    """One slash command per core command, with an option per declared parameter."""
    for spec in router.specs():
        tree.add_command(slash_command(spec, handle, suggest))


def slash_command(
    spec: CommandSpec, handle: SlashHandler, suggest: Suggest
) -> app_commands.Command[Any, Any, None]:
    params = spec.params or _free_text(spec)
    if len(params) > MAX_OPTIONS:
        raise ValueError(f"/{spec.name} has more than {MAX_OPTIONS} parameters")
    keys = {f"o{i}": param for i, param in enumerate(params)}  # Python names for the options

    async def callback(interaction: discord.Interaction[Any], **values: object) -> None:
        await handle(interaction, spec, {keys[k].name: v for k, v in values.items()})

    interaction = inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
    options = [
        inspect.Parameter(
            key,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_annotation(param),
            default=inspect.Parameter.empty if param.required else None,
        )
        for key, param in keys.items()
    ]
    callback.__signature__ = inspect.Signature([interaction, *options])  # type: ignore[attr-defined]
    decorated: Any = callback
    if keys:
        decorated = app_commands.rename(**{k: p.name for k, p in keys.items()})(decorated)
        decorated = app_commands.describe(**{k: p.description[:MAX_TEXT] for k, p in keys.items()})(
            decorated
        )
    choices = {k: _choices(p) for k, p in keys.items() if p.kind == CHOICE}
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    completing: dict[str, Any] = {
        k: _autocomplete(p, suggest) for k, p in keys.items() if p.suggest
    }
    if completing:
        decorated = app_commands.autocomplete(**completing)(decorated)
    return app_commands.Command(
        name=spec.name, description=spec.summary[:MAX_TEXT] or spec.name, callback=decorated
    )


def _free_text(spec: CommandSpec) -> tuple[Param, ...]:
    """A command that declares no parameters but takes arguments gets one free-text option."""
    takes_arguments = "<" in spec.usage or "[" in spec.usage
    return (Param("text", spec.usage[:MAX_TEXT]),) if takes_arguments else ()


def _annotation(param: Param) -> Any:
    if param.kind == INTEGER:
        if param.min_value is None and param.max_value is None:
            return int
        return app_commands.Range[int, param.min_value, param.max_value]
    return str


def _choices(param: Param) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=c[:MAX_TEXT], value=c) for c in param.choices[:MAX_CHOICES]]


def _autocomplete(param: Param, suggest: Suggest) -> Autocomplete:
    source = param.suggest
    assert source is not None

    async def complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[Any]]:
        found = await suggest(interaction, source, str(current or ""))
        return [_choice(param, s) for s in found[:MAX_CHOICES] if _fits(param, s)]

    return complete


def _fits(param: Param, suggestion: Suggestion) -> bool:
    if param.kind == INTEGER:
        return suggestion.value.isdecimal()
    return len(suggestion.value) <= MAX_TEXT


def _choice(param: Param, suggestion: Suggestion) -> app_commands.Choice[Any]:
    label = suggestion.label if len(suggestion.label) <= MAX_TEXT else suggestion.label[:99] + "…"
    value: int | str = int(suggestion.value) if param.kind == INTEGER else suggestion.value
    return app_commands.Choice(name=label, value=value)
