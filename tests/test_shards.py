"""The shard rule: which process rotates a server's code messages."""

from __future__ import annotations

import pytest

from attendance_bot.shards import runs_server, shard_of

# Real snowflakes: the timestamp is the id's bits above 22, which is what the rule looks at.
SERVER = 81384788765712384  # (id >> 22) % 17 == 7, as serenity's docs give it
ON_0_OF_2 = (1_000_000 << 22) | 12345
ON_1_OF_2 = (1_000_001 << 22) | 12345


@pytest.mark.parametrize(
    ("guild_id", "count", "shard"),
    [
        (SERVER, 17, 7),
        (SERVER, 1, 0),
        (ON_0_OF_2, 2, 0),
        (ON_1_OF_2, 2, 1),
        ((5 << 22) | ((1 << 22) - 1), 3, 2),  # the low 22 bits never matter
        (None, 4, 0),  # no server: shard 0, like direct messages
    ],
)
def test_shard_of_follows_discords_rule(guild_id: int | None, count: int, shard: int) -> None:
    """shard_of is (guild_id >> 22) % count, and 0 for no server."""
    assert shard_of(guild_id, count) == shard


@pytest.mark.parametrize(
    ("guild_id", "count", "ids", "runs"),
    [
        (ON_1_OF_2, None, None, True),  # no shards: one process does everything
        (ON_1_OF_2, 2, None, True),  # SHARD_COUNT alone: this process runs every shard
        (ON_0_OF_2, 2, (0,), True),
        (ON_1_OF_2, 2, (0,), False),
        (ON_1_OF_2, 2, (1,), True),
        (ON_0_OF_2, 2, (1,), False),
        (ON_0_OF_2, 2, (0, 1), True),
        (SERVER, 17, (6, 8), False),
        (SERVER, 17, (7,), True),
        (None, 2, (0,), True),  # a session of no server goes with shard 0
        (None, 2, (1,), False),
    ],
)
def test_runs_server(guild_id: int | None, count: int | None, ids: tuple[int, ...] | None, runs: bool) -> None:
    """A process looks after exactly the servers of the shards it runs."""
    assert runs_server(guild_id, count, ids) is runs


def test_every_server_has_exactly_one_process() -> None:
    """Split over processes, each server of a run of ids belongs to one of them and one only."""
    count, processes = 3, [(0,), (1, 2)]
    for n in range(1_000, 1_060):
        guild_id = (n << 22) | 999
        assert sum(runs_server(guild_id, count, ids) for ids in processes) == 1
