"""The run config: every key of the example read, every mistake named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import ConfigError, InputError
from archiver.parallel.executor import default_workers
from archiver.runs.config import (
    POOL_FROM,
    Cluster,
    key_line,
    load_config,
    parse_config,
    parse_duration,
    with_overrides,
)
from archiver.runs.pipeline import workers_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "archive.toml"

GOOD = """\
[archive]
db = "data/archive.db"

[fetch]
per_host_rate = 0.5
timeout = 20

[schedule]
recent_every = "2h"
old_every = "2w"

[[sources]]
canonical = "copies"

[[sources]]
urls = ["https://www.example.org/a", "https://www.example.org/b"]
limit = 1

[[sources]]
feed = "https://www.example.org/rss"
follow_links = false

[notify]
webhook = "https://hooks.example.org/x"
on = ["broken"]
"""


def test_the_example_config_is_valid_and_names_the_seed_folder() -> None:
    config = load_config(str(EXAMPLE))
    assert config.policy.per_host_rate == 1.0
    assert config.schedule.recent_every == 6 * 3600
    assert config.schedule.links_broken_every == 30 * 86400
    assert [s.kind for s in config.sources] == ["canonical"]
    assert config.db_path() == str(ROOT / "db" / "archive.db")
    assert config.notify.on == frozenset({"broken", "drift"})


def test_a_good_config_gives_typed_values(tmp_path: Path) -> None:
    config = parse_config(GOOD, path=str(tmp_path / "archive.toml"))
    assert config.policy.per_host_rate == 0.5
    assert config.policy.timeout == 20 and config.policy.read_timeout <= 20
    assert config.schedule.recent_every == 7200 and config.schedule.old_every == 14 * 86400
    kinds = [(s.kind, s.limit, s.follow_links, s.line) for s in config.sources]
    assert kinds == [
        ("canonical", None, True, 12),
        ("urls", 1, True, 15),
        ("feed", None, False, 19),
    ]
    assert config.sources[1].value == ("https://www.example.org/a", "https://www.example.org/b")
    assert config.db_path() == str(tmp_path / "data" / "archive.db")
    assert config.notify.webhook == "https://hooks.example.org/x"


def test_command_line_fetch_options_win_over_the_config() -> None:
    config = with_overrides(
        parse_config(GOOD), per_host_rate=3.0, timeout=2.0, connect_to=["a.test=127.0.0.9:81"]
    )
    assert config.policy.per_host_rate == 3.0
    assert config.policy.timeout == 2.0 and config.policy.connect_timeout == 2.0
    assert config.routes == {"a.test": "127.0.0.9:81"}


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("45s", 45), ("90m", 5400), ("6h", 21600), ("30d", 2592000), ("2w", 1209600), (12, 12),
     ("1.5h", 5400), ("0", 0)],
)  # fmt: skip
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["soon", "-3h", "6 hours", True, [1], "h"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


MISTAKES = [
    # (config text, line named, words in the message)
    ('[fetch]\nper_host_rate = "fast"\n', 2, "must be a number"),
    ("[fetch]\ntimeout = 10\nper_host_connections = 0\n", 3, "at least 1"),
    ('[schedule]\nrecent_every = "6h"\nold_every = "sometimes"\n', 3, "not a duration"),
    ('[schedule]\nrecent_evry = "6h"\n', 2, "unknown key"),
    ('[[sources]]\ncanonical = "a"\n\n[[sources]]\nfeed = "x"\nurls = ["https://a.b/"]\n', 4,
     "exactly one of"),
    ('[[sources]]\nurls = ["https://ok.test/", "ftp://nope.test/"]\n', 2, "not an http(s) URL"),
    ('[[sources]]\ncanonical = "a"\nlimit = 0\n', 3, "above 0"),
    ('[notify]\nwebhook = "hooks.example.org"\n[[sources]]\ncanonical = "a"\n', 2, "http(s)"),
    ('[notify]\non = ["everything"]\n[[sources]]\ncanonical = "a"\n', 2, "events among"),
    ('[fetch]\nconnect_to = ["nohost"]\n[[sources]]\ncanonical = "a"\n', 2, "HOST=ADDR:PORT"),
    ('[[sources]]\ncanonical = "a"\n[archiv]\ndb = "x"\n', 3, "unknown key"),
    ('[fetch]\ntimeout = 10\nper_host_rate = \n', 3, "not valid TOML"),
    ('[[sources]]\ncanonical = "a"\ncanonical = "b"\n', 3, "not valid TOML"),
    ('[cluster]\nworkers = -1\n', 2, "at least 0"),
    ('[cluster]\n\nworkers = 1000\n', 3, "at most 256"),
    ('[cluster]\nworkers = 2.5\n', 2, "whole number"),
    ('[cluster]\nworkers = 2\nscheduler = "somewhere"\n', 3, "not a scheduler address"),
    ('[cluster]\nscheduler = "tcp://10.0.0.1:99999"\n', 2, "not a scheduler address"),
    ('[cluster]\nschedulr = "tcp://10.0.0.1:8786"\n', 2, "unknown key"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "words"), MISTAKES)
def test_a_mistake_names_the_file_and_line(text: str, line: int, words: str) -> None:
    if "[[sources]]" not in text:
        text += '\n[[sources]]\ncanonical = "a"\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path="conf/archive.toml")
    message = str(caught.value)
    assert message.startswith(f"conf/archive.toml:{line}: "), message
    assert words in message
    assert "\n" not in message


def test_cluster_from_the_config_and_the_command_line() -> None:
    assert parse_config(GOOD).cluster == Cluster()  # unset: one per CPU, when enough is due
    text = GOOD + '\n[cluster]\nscheduler = "tcp://10.0.0.1:8786"\nworkers = 0\n'
    config = parse_config(text)
    assert config.cluster == Cluster(scheduler="tcp://10.0.0.1:8786", workers=0)
    assert with_overrides(config, workers=3).cluster.workers == 3
    moved = with_overrides(config, scheduler=" 10.0.0.2:8786 ")
    assert moved.cluster.scheduler == "10.0.0.2:8786"
    with pytest.raises(InputError, match="--scheduler: not a scheduler address"):
        with_overrides(config, scheduler="tcp://nowhere")


def test_the_default_pools_only_a_run_with_enough_work() -> None:
    assert workers_for(Cluster(), due=POOL_FROM - 1) == 1
    assert workers_for(Cluster(), due=POOL_FROM) == default_workers()
    assert workers_for(Cluster(workers=1), due=10_000) == 1
    assert workers_for(Cluster(workers=3), due=1) == 3
    assert workers_for(Cluster(workers=0), due=1) == default_workers()


def test_no_sources_is_a_mistake() -> None:
    with pytest.raises(ConfigError, match="no \\[\\[sources\\]\\]"):
        parse_config("[fetch]\ntimeout = 5\n", path="a.toml")


def test_key_line_finds_keys_in_the_right_array_table() -> None:
    text = "[[sources]]\nlimit = 1\n\n[[sources]]\n# limit = 9\nlimit = 2\n[notify]\nlimit = 3\n"
    assert key_line(text, "sources", "limit", 0) == 2
    assert key_line(text, "sources", "limit", 1) == 6
    assert key_line(text, "notify", "limit") == 8
    assert key_line(text, "sources", None, 1) == 4


def test_cli_bad_config_exits_2_with_one_line_naming_the_line(tmp_path: Path) -> None:
    config = tmp_path / "archive.toml"
    config.write_text('[schedule]\nold_every = "whenever"\n\n[[sources]]\ncanonical = "."\n')
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "a.db"), "run", "--config", str(config)]
    )
    assert result.exit_code == 2, result.output
    assert f"{config}:2: [schedule] old_every: not a duration" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "a.db").exists()  # nothing was opened, let alone fetched


def test_cli_missing_or_binary_config_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["run", "--config", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2 and "no such config file" in missing.output
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    bad = runner.invoke(cli, ["run", "--config", str(binary)])
    assert bad.exit_code == 2 and "not UTF-8" in bad.output


def test_cli_missing_canonical_folder_exits_2_naming_the_source_line(tmp_path: Path) -> None:
    config = tmp_path / "archive.toml"
    config.write_text('[archive]\ndb = "a.db"\n\n[[sources]]\ncanonical = "no-such-folder"\n')
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert f"{config}:4:" in result.output and "no-such-folder" in result.output
    assert not (tmp_path / "a.db").exists()  # checked before the archive is opened


# -- every number has a range (issue 14 item 8): inf, nan and 1e309 are valid TOML, not valid config


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("[fetch]\ntimeout", "1e309"),
        ("[fetch]\ntimeout", "inf"),
        ("[fetch]\ntimeout", "nan"),
        ("[fetch]\nread_timeout", "1e300"),
        ("[fetch]\nbatch", "100000000"),
        ("[notify]\ntimeout", "inf"),
        ("[notify]\nsmtp_port", "70000"),
        ("[schedule]\nrecent_days", "inf"),
        ("[schedule]\nold_every", "1e309"),
        ('[schedule]\nold_every = "99999999999w"\n#', "0"),
    ],
)
def test_config_refuses_absurd_numbers(key: str, value: str) -> None:
    text = f'{key} = {value}\n\n[[sources]]\ncanonical = "a"\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path="archive.toml")
    assert str(caught.value).startswith("archive.toml:2: "), caught.value
    assert "\n" not in str(caught.value)


def test_run_with_an_infinite_timeout_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "archive.toml"
    config.write_text('[fetch]\ntimeout = 1e309\n\n[[sources]]\nurls = ["https://a.example/"]\n')
    args = ["--db", str(tmp_path / "a.db"), "run", "--config", str(config)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "timeout" in result.output and "Traceback" not in result.output
