"""The voice benchmark runs end to end, quickly: a class at once with voice_rule required, everyone in voice."""

from __future__ import annotations

from _bench import run_bench, table


def test_voice_required_burst_loses_nothing_and_has_a_ratio_to_the_bare_bot() -> None:
    """`--quick --scenarios voice:50`: every check-in from the voice channel is acknowledged and stored
    (the bench exits 1 otherwise), accepted (no note), and compared with the bare bot's same burst."""
    run = run_bench("--scenarios", "voice:50", timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {row["bot"]: row for row in table(run.stdout)}
    assert {row["scenario"] for row in rows.values()} == {"50 at once, in voice"}
    assert (rows["ours"]["answered"], rows["ours"]["lost"], rows["ours"]["duplicates"]) == ("50", "0", "0")
    assert rows["bare"]["lost"] == "0"
    assert float(rows["ours"]["throughput ours/bare"]) > 0
    assert "note:" not in run.stderr  # e.g. "answered but not accepted": a refusal would be one
