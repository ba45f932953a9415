"""The code message's Check in button and the form it opens, keyed by session in their custom ids."""

from __future__ import annotations

from typing import Any

import nextcord

from .. import messages

# `check-in:<session id>` on the button and on the form: whichever process runs when either comes
# back (a restart in between included) knows the session from the id alone.
PREFIX = "check-in:"
CODE_FIELD = "code"
MAX_TYPED = 32  # as /here's code option: more than any code, spaces and a dash included
_BUTTON = 2
_PRIMARY = 1
_ACTION_ROW = 1


def custom_id(session_id: str) -> str:
    """The button's and the form's custom id for a session (Discord allows 100 characters)."""
    return f"{PREFIX}{session_id}"


def session_of(custom: str | None) -> str | None:
    """The session a custom id names, or None when it is not a Check in button's or form's."""
    if not custom or not custom.startswith(PREFIX):
        return None
    return custom[len(PREFIX) :] or None


def button_row(session_id: str) -> list[dict[str, Any]]:
    """The code message's components: one row with the Check in button (raw, as the rotation sends its
    messages through nextcord's HTTP routes)."""
    button = {
        "type": _BUTTON,
        "style": _PRIMARY,
        "label": messages.check_in_button_label(),
        "custom_id": custom_id(session_id),
    }
    return [{"type": _ACTION_ROW, "components": [button]}]


class CheckInForm(nextcord.ui.Modal):
    """The form the button opens: one field for the code. Its submission is not handled here but by
    CheckInCog.on_interaction from its custom id, so that a form opened before a restart still counts."""

    def __init__(self, session_id: str) -> None:
        super().__init__(messages.check_in_modal_title(session_id), custom_id=custom_id(session_id), auto_defer=False)
        self.add_item(
            nextcord.ui.TextInput(
                label=messages.check_in_field_label(),
                custom_id=CODE_FIELD,
                style=nextcord.TextInputStyle.short,
                min_length=1,
                max_length=MAX_TYPED,
                required=True,
                placeholder=messages.check_in_field_placeholder("A7K3"),
            )
        )


def typed_code(data: dict[str, Any]) -> str:
    """The code typed into a submitted form (its data as Discord sends it: action rows, or labels)."""
    todo = list(data.get("components") or [])
    while todo:
        item = todo.pop(0)
        if item.get("custom_id") == CODE_FIELD:
            return str(item.get("value") or "")
        todo.extend(item.get("components") or [])
        if isinstance(item.get("component"), dict):
            todo.append(item["component"])
    return ""
