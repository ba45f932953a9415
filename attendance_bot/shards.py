"""Discord shards: which server's code messages a bot process looks after (pure, no Discord)."""

from __future__ import annotations


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard Discord sends a server's events to: `(guild_id >> 22) % shard_count` (shard 0 for none)."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def runs_server(guild_id: int | None, shard_count: int | None, shard_ids: tuple[int, ...] | None) -> bool:
    """Whether a process running `shard_ids` of `shard_count` shards (SHARD_COUNT, SHARD_IDS) looks after
    a server: always without shards (one process) and with SHARD_COUNT alone (it runs them all).

    A session without a server (older data) goes with shard 0, like Discord's direct messages.
    """
    if shard_count is None or shard_ids is None:
        return True
    return shard_of(guild_id, shard_count) in shard_ids
