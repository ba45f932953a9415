"""Attachment options (type 11) with a real nextcord bot: registration, resolved data, downloads over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import nextcord
import pytest

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.emulator import Emulator, InteractionRefused, Upload
from attendance_bot.emulator.commands import check_command_list

Scenario = Callable[[Emulator, nextcord.Client], Awaitable[None]]
CSV = b"student_id,name\nS1,Ada\n"
_FILE = nextcord.SlashOption(description="the file")


def make_attachment_bot(guild_id: int) -> nextcord.Client:
    """``/upload file [note] [fetch]``: describes the attachment nextcord built and (if asked) downloads it."""
    client = nextcord.Client(intents=nextcord.Intents.none())

    @client.slash_command(name="upload", description="Take a file", guild_ids=[guild_id])
    async def upload(
        interaction: nextcord.Interaction,
        file: nextcord.Attachment = _FILE,
        note: str = nextcord.SlashOption(description="a note", required=False, default=""),
        fetch: bool = nextcord.SlashOption(description="download it", required=False, default=True),
    ) -> None:
        described = f"{file.filename}|{file.size}|{file.content_type}|{note}"
        if not fetch:
            await interaction.response.send_message(described, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True)
        try:
            data = await file.read()
        except nextcord.HTTPException as exc:
            await interaction.followup.send(f"{described}|failed {exc.status}", ephemeral=True)
            return
        await interaction.followup.send(
            f"{described}|read {len(data)}", file=nextcord.File(io.BytesIO(data), "back.bin")
        )

    return client


def run_with_bot(scenario: Scenario, timeout: float = 40.0) -> None:
    """An emulator, the attachment bot connected to it, then ``scenario``."""

    async def _main() -> None:
        async with Emulator() as emu:
            apply_api_base(emu.api_base)
            bot = make_attachment_bot(emu.guild_id)
            task = asyncio.create_task(bot.start(emu.token))
            try:
                await emu.wait_for_bot(15, commands=("upload",))
                await scenario(emu, bot)
            finally:
                await bot.close()
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    asyncio.run(asyncio.wait_for(_main(), timeout))


# -- registration ------------------------------------------------------------------------------


def test_nextcord_registers_an_attachment_option() -> None:
    """nextcord's `nextcord.Attachment` parameter is registered as a required option of type 11."""

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        (command,) = emu.registered_commands(emu.guild_id)
        options = {o["name"]: o for o in command["options"]}
        assert (options["file"]["type"], options["file"]["required"]) == (11, True)

    run_with_bot(scenario)


def _attachment_option(**extra: Any) -> list[dict[str, Any]]:
    option = {"type": 11, "name": "file", "description": "The file", **extra}
    return [{"type": 1, "name": "upload", "description": "Take a file", "options": [option]}]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"autocomplete": True}, "autocomplete"),
        ({"choices": [{"name": "a", "value": "a"}]}, "choices"),
        ({"min_length": 1}, "min_length"),
        ({"max_value": 5}, "max_value"),
        ({"channel_types": [0]}, "channel_types"),
    ],
    ids=["autocomplete", "choices", "min-length", "max-value", "channel-types"],
)
def test_an_attachment_option_takes_no_type_specific_field(extra: dict[str, Any], field: str) -> None:
    """Autocomplete, choices, lengths, values and channel types are refused on an attachment option."""
    errors = check_command_list(_attachment_option(**extra))
    assert errors["0"]["options"]["0"][field]["_errors"], errors


def test_a_plain_attachment_option_is_accepted() -> None:
    """Required or not, an attachment option with a name and a description is what Discord accepts."""
    assert check_command_list(_attachment_option(required=True)) == {}
    assert check_command_list(_attachment_option(autocomplete=False)) == {}


# -- invocation --------------------------------------------------------------------------------


def test_an_upload_arrives_as_discord_sends_it() -> None:
    """The option's value is the attachment's id; data.resolved.attachments[id] carries what Discord sends."""

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        upload = Upload(CSV, "class list.csv", "text/csv; charset=utf-8")
        handle = emu.dispatch_interaction(emu.instructor, emu.admin_channel_id, "upload", file=upload, fetch=False)
        reply = await handle.wait(10)
        assert reply.content == f"class_list.csv|{len(CSV)}|text/csv; charset=utf-8|"
        data = handle.payload["data"]
        (option,) = [o for o in data["options"] if o["name"] == "file"]
        assert option["type"] == 11
        resolved = data["resolved"]["attachments"][option["value"]]
        assert set(resolved) == {"id", "filename", "size", "url", "proxy_url", "content_type", "ephemeral"}
        assert (resolved["id"], resolved["filename"], resolved["size"]) == (option["value"], "class_list.csv", len(CSV))
        assert resolved["url"].startswith(f"http://127.0.0.1:{emu.port}/ephemeral-attachments/")
        assert emu.downloads == []  # nothing is fetched unless the bot reads it

    run_with_bot(scenario)


def test_attachment_read_downloads_the_bytes_over_loopback() -> None:
    """nextcord's Attachment.read() fetches the uploaded bytes from the emulator; the download is noted."""

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        handle = emu.dispatch_interaction(emu.instructor, emu.admin_channel_id, "upload", file=Upload(CSV, "r.csv"))
        reply = await handle.wait(10)
        assert reply.content == f"r.csv|{len(CSV)}|text/csv||read {len(CSV)}"
        assert reply.files == [("back.bin", CSV)]
        (option,) = [o for o in handle.payload["data"]["options"] if o["name"] == "file"]
        assert emu.downloads == [(int(option["value"]), "r.csv")]
        assert emu.upload(int(option["value"])) is not None

    run_with_bot(scenario)


def test_the_download_has_discords_headers() -> None:
    """A GET of the URL answers 200 with the file's Content-Type and Content-Length, no token needed."""

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        handle = emu.dispatch_interaction(
            emu.instructor, emu.admin_channel_id, "upload", file=Upload(b"\x89PNG\r\n", "a.png"), fetch=False
        )
        await handle.wait(10)
        (resolved,) = handle.payload["data"]["resolved"]["attachments"].values()
        async with aiohttp.ClientSession() as session:
            async with session.get(resolved["url"]) as resp:
                body = await resp.read()
                assert (resp.status, resp.headers["Content-Type"]) == (200, "image/png")
                assert resp.headers["Content-Length"] == "6" and body == b"\x89PNG\r\n"
            async with session.get(resolved["url"].replace(resolved["id"], "1" + resolved["id"])) as resp:
                assert resp.status == 404

    run_with_bot(scenario)


def test_a_declared_size_is_reported_and_streamed_in_full() -> None:
    """Upload(size=...) reports that size without holding it; a download streams it, NUL-padded, in full."""
    size = 3 * 1024 * 1024 + 17

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        upload = Upload(b"student_id,name\n", "big.csv", size=size)
        started = time.monotonic()
        reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "upload", file=upload, fetch=False)
        assert reply.content == f"big.csv|{size}|text/csv|"
        assert time.monotonic() - started < 2 and emu.downloads == []
        reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "upload", file=upload)
        assert reply.content == f"big.csv|{size}|text/csv||read {size}"
        ((_, data),) = reply.files
        assert data.startswith(b"student_id,name\n\x00") and data.rstrip(b"\x00") == b"student_id,name\n"

    run_with_bot(scenario)


def test_a_declared_size_smaller_than_the_data_is_refused() -> None:
    """An Upload cannot claim fewer bytes than it holds."""
    with pytest.raises(ValueError, match="smaller"):
        Upload(b"abc", size=2)


def test_a_fault_on_the_download_reaches_the_bot() -> None:
    """Fault rules apply to the download route: nextcord's read() raises HTTPException with the status."""

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        rule = emu.faults.add(r"^/ephemeral-attachments/", "GET", 503, times=1)
        reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "upload", file=Upload(CSV, "r.csv"))
        assert reply.content == f"r.csv|{len(CSV)}|text/csv||failed 503"
        assert rule.hits == 1 and emu.downloads == []

    run_with_bot(scenario)


def test_an_upload_given_to_another_option_type_is_refused() -> None:
    """A file for a string option is something Discord's client cannot send."""

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        with pytest.raises(InteractionRefused, match="not an attachment option"):
            emu.dispatch_interaction(emu.instructor, emu.admin_channel_id, "upload", file=Upload(CSV), note=Upload(CSV))

    run_with_bot(scenario)


def test_a_bare_id_is_sent_without_resolved_data() -> None:
    """An id the emulator holds no upload for (a forged one) arrives as typed, with nothing resolved."""

    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        handle = emu.dispatch_interaction(emu.instructor, emu.admin_channel_id, "upload", file=123, fetch=False)
        (option,) = [o for o in handle.payload["data"]["options"] if o["name"] == "file"]
        assert option == {"name": "file", "type": 11, "value": "123"}
        assert "attachments" not in handle.payload["data"].get("resolved", {})
        with contextlib.suppress(Exception):
            await handle.wait(2)  # nextcord finds no resolved attachment: no reply is expected

    run_with_bot(scenario)
