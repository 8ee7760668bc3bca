"""`/stats` in `teddy chat`: the chart is written to a file and its path printed."""

from pathlib import Path

from teddy.servers import Servers
from tests.e2e.test_console import run_chat


def test_console_stats_writes_the_chart_to_a_file_and_prints_its_path(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    out = run_chat(tmp_path, servers, ["/log 45m #chem", "/stats"], "--user", "kim")
    assert "Logged 45 min of #chem" in str(out[0]["text"])
    stats = out[1]
    assert "Study time: 45 min (#chem 45 min)" in str(stats["text"])
    assert "Streak: 1 day" in str(stats["text"])
    [path] = stats["files"]  # type: ignore[misc]
    chart = Path(str(path))
    assert chart.name.endswith(".png") and "stats-week" in chart.name
    assert chart.is_relative_to(tmp_path)  # under TEDDY_HOME
    assert chart.read_bytes().startswith(b"\x89PNG")
