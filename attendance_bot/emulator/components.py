"""Message components and modals as Discord checks them: buttons in action rows on messages, modals
(callback 9) of text inputs, and the data a pressed button or a submitted modal sends back."""

from __future__ import annotations

import copy
from typing import Any

ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
SELECTS = (3, 5, 6, 7, 8)
TEXT_DISPLAY = 10
LABEL = 18
LINK_STYLE = 5
PREMIUM_STYLE = 6
MAX_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
MAX_MODAL_COMPONENTS = 5
MAX_TEXT = 4000

Errors = dict[str, Any]


class _Form:
    """Discord's Invalid Form Body errors, nested by the path of the bad field."""

    def __init__(self) -> None:
        self.errors: Errors = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.errors
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def length(self, path: tuple[str | int, ...], value: object, low: int, high: int, *, needed: bool) -> None:
        """A string of `low`-`high` characters (absent: refused when `needed`)."""
        if value is None:
            if needed:
                self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return
        if not isinstance(value, str):
            self.add(path, "BASE_TYPE_STRING", "Must be a string.")
        elif not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def number(self, path: tuple[str | int, ...], value: object, low: int, high: int) -> None:
        """An optional whole number in `low`-`high`."""
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, "NUMBER_TYPE_COERCE", f"Value {value!r} is not int.")
        elif not low <= value <= high:
            self.add(path, "NUMBER_TYPE_MIN" if value < low else "NUMBER_TYPE_MAX", f"Must be {low}-{high}.")


def check_message_components(components: object) -> Errors:
    """Form errors of a message's `components` (empty when Discord accepts them): at most 5 action
    rows, each of 1-5 buttons or one select; a button of a valid style with a label or emoji (80
    characters at most), a custom id of 1-100 characters (a link button a url instead), custom ids
    unique in the message."""
    form = _Form()
    if components is None:
        return {}
    if not isinstance(components, list):
        form.add(("components",), "BASE_TYPE_ARRAY", "Must be an array.")
        return form.errors
    if len(components) > MAX_ROWS:
        form.add(("components",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ROWS} or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(components):
        at: tuple[str | int, ...] = ("components", i)
        if not isinstance(row, dict) or row.get("type") != ACTION_ROW:
            form.add((*at, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).')
            continue
        children = row.get("components")
        if not isinstance(children, list) or not children:
            form.add((*at, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
            continue
        kinds = [child.get("type") if isinstance(child, dict) else None for child in children]
        if any(kind in SELECTS for kind in kinds) and len(children) > 1:
            form.add(
                (*at, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        if len(children) > MAX_BUTTONS_PER_ROW:
            form.add((*at, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        for j, child in enumerate(children):
            _check_message_child(form, (*at, "components", j), child, seen)
    return form.errors


def _check_message_child(form: _Form, at: tuple[str | int, ...], child: object, seen: set[str]) -> None:
    if not isinstance(child, dict):
        form.add(at, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    kind = child.get("type")
    if kind in SELECTS:
        _custom_id(form, at, child, seen)
        return
    if kind != BUTTON:
        form.add((*at, "type"), "UNION_TYPE_CHOICES", f"Component type {kind!r} is not allowed in an action row.")
        return
    style = child.get("style")
    if style not in (1, 2, 3, 4, LINK_STYLE, PREMIUM_STYLE):
        form.add((*at, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}.")
        return
    form.length((*at, "label"), child.get("label"), 0, 80, needed=False)
    if style == LINK_STYLE:
        form.length((*at, "url"), child.get("url"), 1, 512, needed=True)
        if child.get("custom_id") is not None:
            form.add(
                (*at, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A link button cannot have a custom id."
            )
    elif style == PREMIUM_STYLE:
        if child.get("sku_id") is None:
            form.add((*at, "sku_id"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        _custom_id(form, at, child, seen)
        if child.get("url") is not None:
            form.add((*at, "url"), "BUTTON_COMPONENT_URL_NOT_ALLOWED", "Only a link button has a url.")
    if style != PREMIUM_STYLE and not child.get("label") and not child.get("emoji"):
        form.add((*at, "label"), "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A button needs a label or an emoji.")


def _custom_id(form: _Form, at: tuple[str | int, ...], child: dict[str, Any], seen: set[str]) -> None:
    custom = child.get("custom_id")
    form.length((*at, "custom_id"), custom, 1, 100, needed=True)
    if isinstance(custom, str):
        if custom in seen:
            form.add((*at, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
        seen.add(custom)


def check_modal(data: object) -> Errors:
    """Form errors of a MODAL callback's `data` (empty when Discord accepts it): a title of 1-45
    characters, a custom id of 1-100, 1-5 components, each an action row holding exactly one text
    input (the older form, as nextcord sends it), a label (1-45 characters, description up to 100)
    holding one, or a text display; a text input with a custom id unique in the modal, style 1 or 2,
    lengths 0-4000 and 1-4000 (min not above max), a value up to max, a placeholder up to 100."""
    form = _Form()
    if not isinstance(data, dict):
        form.add(("data",), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return form.errors
    form.length(("data", "title"), data.get("title"), 1, 45, needed=True)
    form.length(("data", "custom_id"), data.get("custom_id"), 1, 100, needed=True)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= MAX_MODAL_COMPONENTS:
        form.add(("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        return form.errors
    seen: set[str] = set()
    for i, item in enumerate(components):
        at: tuple[str | int, ...] = ("data", "components", i)
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == ACTION_ROW:
            children = item.get("components")  # type: ignore[union-attr]
            if not isinstance(children, list) or len(children) != 1:
                form.add((*at, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1 in length.")
                continue
            _check_text_input(form, (*at, "components", 0), children[0], seen, labelled=False)
        elif kind == LABEL:
            form.length((*at, "label"), item.get("label"), 1, 45, needed=True)  # type: ignore[union-attr]
            form.length((*at, "description"), item.get("description"), 0, 100, needed=False)  # type: ignore[union-attr]
            _check_text_input(form, (*at, "component"), item.get("component"), seen, labelled=True)  # type: ignore[union-attr]
        elif kind == TEXT_DISPLAY:
            form.length((*at, "content"), item.get("content"), 1, MAX_TEXT, needed=True)  # type: ignore[union-attr]
        else:
            form.add((*at, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1, 10, 18).')
    return form.errors


def _check_text_input(form: _Form, at: tuple[str | int, ...], child: object, seen: set[str], *, labelled: bool) -> None:
    """One text input (the emulator's modals hold text inputs only)."""
    if not isinstance(child, dict) or child.get("type") != TEXT_INPUT:
        form.add((*at, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (4,).')
        return
    _custom_id(form, at, child, seen)
    if child.get("style") not in (1, 2):
        form.add((*at, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    if labelled:
        if child.get("label") is not None:
            form.add((*at, "label"), "TEXT_INPUT_LABEL_NOT_ALLOWED", "A text input in a label takes the label's.")
    else:
        form.length((*at, "label"), child.get("label"), 1, 45, needed=True)
    form.number((*at, "min_length"), child.get("min_length"), 0, MAX_TEXT)
    form.number((*at, "max_length"), child.get("max_length"), 1, MAX_TEXT)
    low, high = child.get("min_length"), child.get("max_length")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        form.add((*at, "min_length"), "BASE_TYPE_BAD_LENGTH", "min_length must not be above max_length.")
    limit = high if isinstance(high, int) else MAX_TEXT
    form.length((*at, "value"), child.get("value"), 0, limit, needed=False)
    form.length((*at, "placeholder"), child.get("placeholder"), 0, 100, needed=False)
    if child.get("required") is not None and not isinstance(child.get("required"), bool):
        form.add((*at, "required"), "BASE_TYPE_BOOLEAN", "Must be either true or false.")


def number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The components as Discord stores them: every one given an `id`, in order, where none was set
    (0 counts as none), never one another component already has."""
    numbered = copy.deepcopy(components)
    flat = list(_walk(numbered))
    taken = {c["id"] for c in flat if isinstance(c.get("id"), int) and c["id"]}
    next_id = 1
    for component in flat:
        if not component.get("id"):
            while next_id in taken:
                next_id += 1
            component["id"] = next_id
            taken.add(next_id)
    return numbered


def _walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component, parents before their children, in order."""
    out: list[dict[str, Any]] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        out.append(component)
        out.extend(_walk(list(component.get("components") or [])))
        if isinstance(component.get("component"), dict):
            out.extend(_walk([component["component"]]))
    return out


def buttons(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The buttons of a message's components, in order."""
    return [c for c in _walk(components) if c.get("type") == BUTTON]


def text_inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    """The text inputs of a modal, in order, each with the label shown beside it."""
    found: list[dict[str, Any]] = []
    for item in modal.get("components") or []:
        if item.get("type") == ACTION_ROW:
            found.extend(dict(c) for c in item.get("components") or [] if c.get("type") == TEXT_INPUT)
        elif item.get("type") == LABEL and (item.get("component") or {}).get("type") == TEXT_INPUT:
            found.append({**item["component"], "label": item.get("label")})
    return found


def check_submission(modal: dict[str, Any], values: dict[str, str]) -> str | None:
    """Why Discord's client would not send these values for the modal (None when it would): an
    unknown field, a required field left empty, or a value outside its field's lengths."""
    fields = {field["custom_id"]: field for field in text_inputs(modal)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        return f"the modal has no field {unknown[0]!r} (its fields: {sorted(fields)})"
    for custom, field in fields.items():
        value = values.get(custom, "")
        if not value:
            if field.get("required", True):
                return f"field {custom!r} is required"
            continue
        low = int(field.get("min_length") or 0)
        high = int(field.get("max_length") or MAX_TEXT)
        if not low <= len(value) <= high:
            return f"field {custom!r} takes {low}-{high} characters, not {len(value)}"
    return None


def submission_data(modal: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A MODAL_SUBMIT interaction's `data`: the modal's custom id and each field's value, in the shape
    the modal was sent in (action rows, or labels), with the ids Discord gives them."""
    numbered = number_components(list(modal.get("components") or []))
    components: list[dict[str, Any]] = []
    for item in numbered:
        if item.get("type") == ACTION_ROW:
            children = [_submitted(c, values) for c in item.get("components") or [] if c.get("type") == TEXT_INPUT]
            components.append({"type": ACTION_ROW, "id": item["id"], "components": children})
        elif item.get("type") == LABEL:
            components.append({"type": LABEL, "id": item["id"], "component": _submitted(item["component"], values)})
        elif item.get("type") == TEXT_DISPLAY:
            components.append({"type": TEXT_DISPLAY, "id": item["id"]})
    return {"custom_id": modal["custom_id"], "components": components}


def _submitted(field: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    return {
        "type": TEXT_INPUT,
        "id": field["id"],
        "custom_id": field["custom_id"],
        "value": values.get(field["custom_id"], ""),
    }
