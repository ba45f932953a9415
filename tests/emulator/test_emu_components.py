"""Message components and modals in the emulator, as Discord checks and sends them: buttons stored on
messages and returned by REST, a pressed button (interaction type 3), a modal (callback 9) checked
field by field, and its submission (type 5), with a real nextcord client answering."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import nextcord
import pytest

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.emulator import Emulator, InteractionRefused, ModalRefused
from attendance_bot.emulator.components import check_message_components, check_modal

ROW = 1
BUTTON = 2
TEXT_INPUT = 4
LABEL = 18


def button(custom_id: str | None = "press", label: str | None = "Press", style: int = 1, **more: Any) -> dict[str, Any]:
    found = {"type": BUTTON, "style": style, **more}
    if custom_id is not None:
        found["custom_id"] = custom_id
    if label is not None:
        found["label"] = label
    return found


def row(*children: dict[str, Any]) -> dict[str, Any]:
    return {"type": ROW, "components": list(children)}


def text_input(custom_id: str = "code", **more: Any) -> dict[str, Any]:
    return {"type": TEXT_INPUT, "custom_id": custom_id, "style": 1, "label": "Code", **more}


def modal(*components: dict[str, Any], title: str = "Check in", custom_id: str = "form") -> dict[str, Any]:
    return {"title": title, "custom_id": custom_id, "components": list(components) or [row(text_input())]}


def _codes(errors: dict[str, Any]) -> list[str]:
    """Every error code in a nested Invalid Form Body."""
    found = [e["code"] for e in errors.get("_errors", [])]
    for key, value in errors.items():
        if key != "_errors" and isinstance(value, dict):
            found += _codes(value)
    return found


@pytest.mark.parametrize(
    ("case", "components", "code"),
    [
        ("six rows", [row(button(f"b{i}")) for i in range(6)], "BASE_TYPE_MAX_LENGTH"),
        ("a button outside a row", [button()], "UNION_TYPE_CHOICES"),
        ("an empty row", [row()], "BASE_TYPE_BAD_LENGTH"),
        ("six buttons in a row", [row(*(button(f"b{i}") for i in range(6)))], "BASE_TYPE_BAD_LENGTH"),
        ("no custom id", [row(button(None))], "BASE_TYPE_REQUIRED"),
        ("a 101-character custom id", [row(button("x" * 101))], "BASE_TYPE_BAD_LENGTH"),
        ("the same custom id twice", [row(button("a"), button("a", label="Other"))], "COMPONENT_CUSTOM_ID_DUPLICATED"),
        ("an 81-character label", [row(button(label="x" * 81))], "BASE_TYPE_BAD_LENGTH"),
        ("no label or emoji", [row(button(label=None))], "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED"),
        ("style 7", [row(button(style=7))], "BASE_TYPE_CHOICES"),
        (
            "a link button with a custom id",
            [row(button(style=5, url="https://example.org"))],
            "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
        ),
        ("a link button without a url", [row(button(None, style=5))], "BASE_TYPE_REQUIRED"),
        ("a text input on a message", [row(text_input())], "UNION_TYPE_CHOICES"),
    ],
)
def test_message_components_discord_refuses(case: str, components: list[dict[str, Any]], code: str) -> None:
    """Each layout Discord refuses is refused with its error code."""
    assert code in _codes(check_message_components(components)), case


def test_message_components_discord_takes() -> None:
    """Five rows, five buttons in a row, a link button, emoji-only: accepted."""
    rows = [row(*(button(f"b{r}{i}") for i in range(5))) for r in range(4)]
    rows.append(row(button(None, style=5, url="https://example.org"), button("e", label=None, emoji={"name": "✅"})))
    assert check_message_components(rows) == {}


@pytest.mark.parametrize(
    ("case", "data", "code"),
    [
        ("no title", {"custom_id": "form", "components": [row(text_input())]}, "BASE_TYPE_REQUIRED"),
        ("a 46-character title", modal(title="x" * 46), "BASE_TYPE_BAD_LENGTH"),
        ("an empty custom id", modal(custom_id=""), "BASE_TYPE_BAD_LENGTH"),
        ("no components", {"title": "t", "custom_id": "f", "components": []}, "BASE_TYPE_BAD_LENGTH"),
        ("six components", modal(*(row(text_input(f"c{i}")) for i in range(6))), "BASE_TYPE_BAD_LENGTH"),
        ("a button in a modal", modal(row(button())), "UNION_TYPE_CHOICES"),
        ("two inputs in a row", modal(row(text_input("a"), text_input("b"))), "BASE_TYPE_BAD_LENGTH"),
        ("a text input without a label", modal(row({"type": 4, "custom_id": "c", "style": 1})), "BASE_TYPE_REQUIRED"),
        ("a 46-character label", modal(row(text_input(label="x" * 46))), "BASE_TYPE_BAD_LENGTH"),
        ("style 3", modal(row(text_input(style=3))), "BASE_TYPE_CHOICES"),
        ("max_length 4001", modal(row(text_input(max_length=4001))), "NUMBER_TYPE_MAX"),
        ("max_length 0", modal(row(text_input(max_length=0))), "NUMBER_TYPE_MIN"),
        ("min above max", modal(row(text_input(min_length=5, max_length=4))), "BASE_TYPE_BAD_LENGTH"),
        ("a value longer than max", modal(row(text_input(max_length=4, value="ABCDE"))), "BASE_TYPE_BAD_LENGTH"),
        ("a 101-character placeholder", modal(row(text_input(placeholder="x" * 101))), "BASE_TYPE_BAD_LENGTH"),
        ("the same field twice", modal(row(text_input("a")), row(text_input("a"))), "COMPONENT_CUSTOM_ID_DUPLICATED"),
        (
            "a label without text",
            modal({"type": LABEL, "component": {**text_input(), "label": None}}),
            "BASE_TYPE_REQUIRED",
        ),
    ],
)
def test_modals_discord_refuses(case: str, data: dict[str, Any], code: str) -> None:
    """Each modal Discord refuses is refused with its error code."""
    assert code in _codes(check_modal(data)), case


def test_modals_discord_takes() -> None:
    """The action-row form nextcord sends, and the label form Discord now recommends."""
    assert (
        check_modal(modal(row(text_input(min_length=1, max_length=32, placeholder="e.g. A7K3", required=True)))) == {}
    )
    labelled = {"type": LABEL, "label": "The code", "description": "On the screen", "component": {**text_input()}}
    del labelled["component"]["label"]
    assert check_modal(modal(labelled)) == {}


# -- through REST and a real nextcord client -----------------------------------------------------


class FormBot(nextcord.Client):
    """A bare nextcord client: `/panel` posts a message with buttons; "form" opens a modal of one field,
    "bad" a modal Discord refuses; a submitted form is answered with its value; "defer" defers."""

    def __init__(self, guild_id: int) -> None:
        intents = nextcord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents)
        self.submitted: list[nextcord.Interaction] = []

        @self.slash_command(name="panel", description="Post the buttons", guild_ids=[guild_id])
        async def panel(interaction: nextcord.Interaction) -> None:
            components = [
                row(button("form", "Open form"), button("bad", "Bad form"), button("off", "Off", disabled=True))
            ]
            sent = await self.http.send_message(interaction.channel_id, "Buttons", components=components)
            await interaction.response.send_message(str(sent["id"]), ephemeral=True)

    async def on_interaction(self, interaction: nextcord.Interaction) -> None:
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        if interaction.type is nextcord.InteractionType.component:
            title = "x" * 46 if data["custom_id"] == "bad" else "Check in"
            form = nextcord.ui.Modal(title, custom_id="the-form", auto_defer=False)
            form.add_item(nextcord.ui.TextInput("Code", custom_id="code", min_length=2, max_length=6))
            try:
                await interaction.response.send_modal(form)
            except nextcord.HTTPException:
                pass
            form.stop()
        elif interaction.type is nextcord.InteractionType.modal_submit:
            self.submitted.append(interaction)
            value = data["components"][0]["components"][0]["value"]
            message = interaction.message.id if interaction.message else None
            if value == "AGAIN":  # a modal in answer to a modal: Discord refuses it
                again = nextcord.ui.Modal("Again", custom_id="again", auto_defer=False)
                again.add_item(nextcord.ui.TextInput("Code", custom_id="code"))
                try:
                    await interaction.response.send_modal(again)
                except nextcord.HTTPException as exc:
                    await interaction.response.send_message(f"refused {exc.status}", ephemeral=True)
                again.stop()
                return
            await interaction.response.send_message(f"got {value} from {message}", ephemeral=True)
        else:
            await self.process_application_commands(interaction)


Scenario = Callable[[Emulator, FormBot, int], Awaitable[None]]


def run_with_form_bot(scenario: Scenario, timeout: float = 40.0) -> None:
    """An emulator, the form bot, and the message with its buttons (its id passed to the scenario)."""

    async def _main() -> None:
        async with Emulator() as emu:
            apply_api_base(emu.api_base)
            bot = FormBot(emu.guild_id)
            task = asyncio.create_task(bot.start(emu.token))
            try:
                await emu.wait_for_bot(15, commands=("panel",))
                reply = await emu.invoke(emu.instructor, emu.attendance_channel_id, "panel")
                await scenario(emu, bot, int(reply.content or "0"))
            finally:
                await bot.close()
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    asyncio.run(asyncio.wait_for(_main(), timeout))


def test_buttons_are_stored_numbered_and_returned_by_rest() -> None:
    """The message keeps its buttons, each given an id as Discord gives them; GET returns them."""

    async def scenario(emu: Emulator, bot: FormBot, message_id: int) -> None:
        stored = emu.get_message(message_id)
        assert stored is not None
        [stored_row] = stored.components
        assert [b["custom_id"] for b in stored_row["components"]] == ["form", "bad", "off"]
        assert sorted(c["id"] for c in [stored_row, *stored_row["components"]]) == [1, 2, 3, 4]
        headers = {"Authorization": f"Bot {emu.token}"}
        async with aiohttp.ClientSession() as session:
            url = f"{emu.api_base}/channels/{emu.attendance_channel_id}/messages/{message_id}"
            async with session.get(url, headers=headers) as resp:
                assert (await resp.json())["components"] == stored.components
            bad = {"content": "x", "components": [row(button("a"), button("a", label="Twice"))]}
            async with session.post(
                f"{emu.api_base}/channels/{emu.attendance_channel_id}/messages", json=bad, headers=headers
            ) as resp:
                body = await resp.json()
                assert resp.status == 400 and body["code"] == 50035
                assert "COMPONENT_CUSTOM_ID_DUPLICATED" in _codes(body["errors"])

    run_with_form_bot(scenario)


def test_a_pressed_button_opens_the_modal_and_its_submission_reaches_the_bot() -> None:
    """Type 3 with the message attached → callback 9 (the modal, read back) → type 5 with the value in
    the modal's shape, the message attached again; the bot's answer comes back like any reply."""

    async def scenario(emu: Emulator, bot: FormBot, message_id: int) -> None:
        student = emu.students[0]
        opened = await emu.press_button(student, message_id, label="Open form")
        assert opened.type == 9 and opened.data["title"] == "Check in" and opened.data["custom_id"] == "the-form"
        [field] = Emulator.modal_fields(opened)
        assert (field["custom_id"], field["label"], field["min_length"], field["max_length"]) == ("code", "Code", 2, 6)
        handle = emu.dispatch_modal_submit(student, opened, {"code": "A7K3"})
        assert handle.payload["type"] == 5 and handle.payload["message"]["id"] == str(message_id)
        assert handle.payload["data"]["components"][0]["components"][0]["value"] == "A7K3"
        reply = await handle.wait(10)
        assert reply.content == f"got A7K3 from {message_id}" and reply.ephemeral
        with pytest.raises(InteractionRefused, match="no open modal"):
            emu.dispatch_modal_submit(student, opened, {"code": "A7K3"})  # the form closed when it was sent

    run_with_form_bot(scenario)


def test_the_client_sends_no_submission_discord_would_not() -> None:
    """A required field left empty, a value outside the field's lengths, an unknown field, or someone
    else's modal: refused before anything reaches the bot; a valid one still goes through after."""

    async def scenario(emu: Emulator, bot: FormBot, message_id: int) -> None:
        student, other = emu.students[0], emu.students[1]
        opened = await emu.press_button(student, message_id, label="Open form")
        for values, why in [
            ({}, "required"),
            ({"code": "A"}, "2-6"),
            ({"code": "A" * 7}, "2-6"),
            ({"name": "x"}, "no field"),
        ]:
            with pytest.raises(InteractionRefused, match=why):
                emu.dispatch_modal_submit(student, opened, values)
        with pytest.raises(InteractionRefused, match="opened by"):
            emu.dispatch_modal_submit(other, opened, {"code": "A7K3"})
        assert bot.submitted == []
        assert (await emu.submit_modal(student, opened, {"code": "A7"})).content == f"got A7 from {message_id}"

    run_with_form_bot(scenario)


def test_a_modal_discord_refuses_fails_the_press_and_a_modal_answers_no_modal() -> None:
    """A 46-character title: 400 to the bot, ModalRefused to the test. A submission cannot be answered with
    a modal; a disabled button or an unknown one cannot be pressed."""

    async def scenario(emu: Emulator, bot: FormBot, message_id: int) -> None:
        with pytest.raises(ModalRefused, match="BASE_TYPE_BAD_LENGTH"):
            await emu.press_button(emu.students[0], message_id, label="Bad form")
        for label in ("Off", "Nowhere"):
            with pytest.raises(InteractionRefused):
                emu.dispatch_button(emu.students[0], message_id, label=label)
        opened = await emu.press_button(emu.students[0], message_id, label="Open form")
        assert (await emu.submit_modal(emu.students[0], opened, {"code": "AGAIN"})).content == "refused 400"
        outsider = emu.add_member("outsider")
        emu.set_channel_overwrite(emu.attendance_channel_id, outsider.id, deny=1 << 10)
        with pytest.raises(InteractionRefused, match="cannot see"):
            emu.dispatch_button(outsider, message_id, label="Open form")

    run_with_form_bot(scenario)
