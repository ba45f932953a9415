"""Application command registrations checked as Discord checks them: names, lengths, counts, option rules."""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

log = logging.getLogger(__name__)

CHAT_INPUT, USER, MESSAGE, PRIMARY_ENTRY_POINT = 1, 2, 3, 4
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
OPTION_TYPES = tuple(range(1, 12))
CHOICE_TYPES = (3, 4, 10)  # STRING, INTEGER, NUMBER
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_PER_TYPE = {CHAT_INPUT: 100, USER: 5, MESSAGE: 5, PRIMARY_ENTRY_POINT: 1}

_BAD_LENGTH_100 = "Must be between 1 and 100 in length."
_DUPLICATE_COMMAND = "Application command names must be unique"

Errors = dict[str, Any]
Path = tuple[str, ...]


def _add(errors: Errors, path: Path, code: str, message: str) -> None:
    """Record one error at ``path`` in Discord's nested ``{"a": {"0": {"_errors": [...]}}}`` shape."""
    node = errors
    for key in path:
        node = node.setdefault(key, {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _name_char_ok(ch: str) -> bool:
    """One character of ``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]$``."""
    if ch in "-_'":
        return True
    category = unicodedata.category(ch)
    if category[0] in "LN":
        return True
    return category[0] == "M" and unicodedata.name(ch, "").startswith(("DEVANAGARI", "THAI"))


def is_valid_chat_name(name: Any) -> bool:
    """A CHAT_INPUT command or option name: 1-32 allowed characters, lower case where a letter has one."""
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    return all(_name_char_ok(ch) for ch in name) and name == name.lower()


def _check_name(errors: Errors, path: Path, name: Any, *, chat: bool) -> None:
    if chat:
        if not is_valid_chat_name(name):
            _add(errors, (*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    elif not isinstance(name, str) or not 1 <= len(name) <= 32:
        _add(errors, (*path, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")


def _check_description(errors: Errors, path: Path, description: Any) -> None:
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        _add(errors, (*path, "description"), "BASE_TYPE_BAD_LENGTH", _BAD_LENGTH_100)


def _check_choices(errors: Errors, path: Path, option: dict[str, Any]) -> None:
    choices = option.get("choices") or []
    if not choices:
        return
    if len(choices) > MAX_CHOICES:
        _add(errors, (*path, "choices"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICES} or fewer in length.")
    if option.get("type") not in CHOICE_TYPES:
        _add(errors, (*path, "choices"), "APPLICATION_COMMAND_OPTION_CHOICES_INVALID", "Choices are not allowed here")
    if option.get("autocomplete"):
        _add(
            errors,
            (*path, "autocomplete"),
            "APPLICATION_COMMAND_AUTOCOMPLETE_WITH_CHOICES",
            "Autocomplete cannot be enabled on options that have choices",
        )
    for i, choice in enumerate(choices):
        name = choice.get("name") if isinstance(choice, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            _add(errors, (*path, "choices", str(i), "name"), "BASE_TYPE_BAD_LENGTH", _BAD_LENGTH_100)


# Fields only some option types take: autocomplete (STRING, INTEGER, NUMBER), min/max values
# (INTEGER, NUMBER), min/max lengths (STRING), channel types (CHANNEL). An ATTACHMENT takes none.
_TYPE_FIELDS = (
    ("autocomplete", CHOICE_TYPES),
    ("min_value", (4, 10)),
    ("max_value", (4, 10)),
    ("min_length", (3,)),
    ("max_length", (3,)),
    ("channel_types", (7,)),
)


def _check_type_fields(errors: Errors, path: Path, option: dict[str, Any]) -> None:
    kind = option.get("type")
    for name, kinds in _TYPE_FIELDS:
        value = option.get(name)
        if value is not None and value is not False and value != [] and kind not in kinds:
            _add(
                errors,
                (*path, name),
                "APPLICATION_COMMAND_OPTION_INVALID_FIELD",
                f"{name} is not allowed for options of type {kind}",
            )


def _check_option(errors: Errors, path: Path, option: Any, *, depth: int) -> None:
    if not isinstance(option, dict):
        _add(errors, path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    kind = option.get("type")
    if kind not in OPTION_TYPES:
        _add(errors, (*path, "type"), "BASE_TYPE_CHOICES", f"Value must be one of {OPTION_TYPES}.")
    _check_name(errors, path, option.get("name"), chat=True)
    _check_description(errors, path, option.get("description"))
    _check_choices(errors, path, option)
    _check_type_fields(errors, path, option)
    if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
        _check_options(errors, path, option.get("options") or [], depth=depth + 1, group=kind == SUB_COMMAND_GROUP)


def _check_nesting(errors: Errors, path: Path, options: Sequence[Any], *, depth: int, group: bool) -> None:
    """Sub-commands only at the top or in a group, groups only at the top, never mixed with plain options."""
    kinds = [o.get("type") for o in options if isinstance(o, dict)]
    nested = [k in (SUB_COMMAND, SUB_COMMAND_GROUP) for k in kinds]
    bad = (
        (group and not all(k == SUB_COMMAND for k in kinds))
        or (depth > 0 and not group and any(nested))
        or (any(nested) and not all(nested))
    )
    if bad:
        _add(
            errors,
            (*path, "options"),
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        )


def _check_order_and_names(errors: Errors, path: Path, options: Sequence[Any]) -> None:
    seen_optional = False
    names = Counter(o.get("name") for o in options if isinstance(o, dict))
    for i, option in enumerate(options):
        if not isinstance(option, dict) or option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            continue
        if option.get("required"):
            if seen_optional:
                _add(
                    errors,
                    (*path, "options", str(i)),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
    for i, option in enumerate(options):
        if isinstance(option, dict) and names[option.get("name")] > 1:
            _add(
                errors,
                (*path, "options", str(i), "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Command option names must be unique",
            )


def _check_options(errors: Errors, path: Path, options: Any, *, depth: int = 0, group: bool = False) -> None:
    if not isinstance(options, list):
        _add(errors, (*path, "options"), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(options) > MAX_OPTIONS:
        _add(errors, (*path, "options"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_OPTIONS} or fewer in length.")
    _check_nesting(errors, path, options, depth=depth, group=group)
    _check_order_and_names(errors, path, options)
    for i, option in enumerate(options):
        _check_option(errors, (*path, "options", str(i)), option, depth=depth)


def check_command(body: Any, path: Path = ()) -> Errors:
    """Form errors of one command body (empty when Discord would accept it)."""
    errors: Errors = {}
    if not isinstance(body, dict):
        _add(errors, path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return errors
    kind = body.get("type") or CHAT_INPUT
    if kind not in MAX_PER_TYPE:
        _add(errors, (*path, "type"), "BASE_TYPE_CHOICES", f"Value must be one of {tuple(MAX_PER_TYPE)}.")
        return errors
    chat = kind in (CHAT_INPUT, PRIMARY_ENTRY_POINT)
    _check_name(errors, path, body.get("name"), chat=chat)
    if chat:
        _check_description(errors, path, body.get("description"))
    if kind == CHAT_INPUT:
        _check_options(errors, path, body.get("options") or [])
    elif body.get("options"):
        _add(errors, (*path, "options"), "APPLICATION_COMMAND_OPTIONS_INVALID", "Only chat input commands have options")
    return errors


def _merge(into: Errors, other: Errors) -> None:
    for key, value in other.items():
        if key == "_errors":
            into.setdefault("_errors", []).extend(value)
        else:
            _merge(into.setdefault(key, {}), value)


def check_command_list(bodies: Sequence[Any]) -> Errors:
    """Form errors of a bulk overwrite: every command (paths start with its index), duplicates, counts."""
    errors: Errors = {}
    for i, body in enumerate(bodies):
        _merge(errors, check_command(body, (str(i),)))
    keys = {i: (b.get("name"), b.get("type") or CHAT_INPUT) for i, b in enumerate(bodies) if isinstance(b, dict)}
    counts = Counter(keys.values())
    for i, key in keys.items():
        if counts[key] > 1:
            _add(errors, (str(i), "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", _DUPLICATE_COMMAND)
    for kind, limit in MAX_PER_TYPE.items():
        if sum(1 for _, k in keys.values() if k == kind) > limit:
            _add(errors, (), "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return errors


def too_many(existing: Iterable[dict[str, Any]], body: dict[str, Any]) -> int | None:
    """The limit a POST of ``body`` would exceed in a scope already holding ``existing`` (None if it fits)."""
    kind = body.get("type") or CHAT_INPUT
    same = [c for c in existing if (c.get("type") or CHAT_INPUT) == kind]
    if any(c.get("name") == body.get("name") for c in same):
        return None  # an overwrite, not a new command
    limit = MAX_PER_TYPE.get(kind)
    return limit if limit is not None and len(same) >= limit else None
