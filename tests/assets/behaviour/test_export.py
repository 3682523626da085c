"""`fraud-engine export` on the ci world: rows as published, as-of labels, formats, DuckDB views, bad arguments.

Most tests call the command line's `main` in-process; one runs the installed console script. Figures
are checked against the published datasets read through the engine's gated reader.
"""

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from engine_assets import cli
from engine_assets.export import write
from engine_assets.quality.contracts import load_contract, load_dictionary
from engine_assets.quality.gates import CheckOutcome, bundle_files, write_validation_bundle
from engine_assets.run.identity import resolve_identity
from engine_assets.storage.datasets import published_partitions
from engine_assets.storage.reader import reader_for

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = "baseline"
BANK_TIMES = ("detected_at", "disputed_at", "chargeback_at", "confirmed_legit_at")


@pytest.fixture(scope="module")
def world(flows_world):
    return resolve_identity("ci", data_root=str(flows_world))


def export(world, *argv: str) -> int:
    return cli.main(["export", "--profile", "ci", "--data-root", str(world.data_root), *argv])


def published(world, dataset: str, days: list[dt.date] | None = None) -> pl.DataFrame:
    """The published day partitions of `dataset` (default every day of the horizon), in day order."""
    reader = reader_for(world, dataset)
    days = days or world.profile.horizon.days
    return pl.concat([reader.table(dataset, {"scenario": SCENARIO, "day": d.isoformat()}) for d in days])


def exported(out: Path, table: str, schema: pl.Schema | None = None) -> pl.DataFrame:
    """An exported table, Parquet files or (given the `schema` to read them with) CSV files; dictionaries as strings."""
    if schema is None:
        frame = pl.concat([pl.read_parquet(f) for f in sorted((out / table).glob("*.parquet"))])
    else:
        frame = pl.concat([pl.read_csv(f, schema=schema) for f in sorted((out / table).glob("*.csv"))])
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))


def leftovers(path: Path) -> list[Path]:
    """Anything an export may have left beside `path`: the path itself and its hidden partial siblings."""
    return [p for p in path.parent.iterdir() if p.name == path.name or p.name.startswith(f".{path.name}.partial-")]


def test_training_table_is_the_published_range(world, tmp_path, capsys):
    days = world.profile.horizon.days[1:]
    assert export(world, "--from", str(days[0]), "--to", str(days[-1]), "--out", str(tmp_path / "out")) == 0
    assert "transactions:" in capsys.readouterr().out
    got = exported(tmp_path / "out", "transactions")
    want = published(world, "seg_6b/transactions", days)
    assert sorted(p.name for p in (tmp_path / "out" / "transactions").iterdir()) == [f"{d}.parquet" for d in days]
    assert got.height == want.height > 0
    assert got.columns == [*load_contract("seg_6b/transactions").column_names, "scenario", "day"]
    assert got.drop("scenario", "day").equals(want)  # without --as-of, exactly as published
    assert set(got["scenario"]) == {SCENARIO} and sorted(set(got["day"])) == days
    assert got.group_by("day").len().sort("day")["len"].to_list() == [
        published(world, "seg_6b/transactions", [d]).height for d in days]


def as_of_between_labels(world) -> dt.datetime:
    """A moment with bank labels known both before and after it."""
    times = published(world, "seg_6b/transactions")["bank_label_at"].drop_nulls().sort()
    assert times.len() >= 2, "the ci world should hold some bank labels"
    return times[times.len() // 2] - dt.timedelta(microseconds=1)


def test_as_of_hides_what_the_bank_learned_later(world, tmp_path):
    as_of = as_of_between_labels(world)
    out = tmp_path / "out"
    assert export(world, "--as-of", as_of.isoformat(), "--include", "labels,events", "--out", str(out)) == 0
    pub = published(world, "seg_6b/transactions")
    got = exported(out, "transactions").drop("scenario", "day")
    assert got["flow_id"].equals(pub["flow_id"])
    earlier = (pub["bank_label_at"] <= as_of).fill_null(False)
    later = (pub["bank_label_at"] > as_of).fill_null(False)
    assert earlier.sum() > 0 and later.sum() > 0
    # Labels known by then are kept; later ones are not known yet (or were something else back then).
    assert got.filter(earlier).select("bank_label", "bank_label_at").equals(
        pub.filter(earlier).select("bank_label", "bank_label_at"))
    assert (got["bank_label_at"].drop_nulls() <= as_of).all()
    hidden = got.filter(later)
    assert (hidden["bank_label"] == "unknown").sum() > 0
    assert hidden.filter(pl.col("bank_label") == "unknown")["bank_label_at"].null_count() == hidden.filter(
        pl.col("bank_label") == "unknown").height
    # The truth is the simulation's, not the bank's: kept as published.
    assert got.select("is_fraud", "fraud_type", "truth_at").equals(pub.select("is_fraud", "fraud_type", "truth_at"))
    # The bank view: every later event time becomes null, with its dispute kind and chargeback outcome.
    bank, pub_bank = exported(out, "bank_view"), published(world, "seg_6b/bank_view")
    for column in BANK_TIMES:
        assert bank[column].drop_nulls().le(as_of).all()
        assert bank[column].count() == pub_bank[column].le(as_of).sum()
    assert bank["dispute_kind"].count() == bank["disputed_at"].count()
    assert bank["chargeback_outcome"].count() == bank["chargeback_at"].count()
    assert bank.select("bank_label", "bank_label_at").equals(got.select("bank_label", "bank_label_at"))
    # Events that had not happened yet are dropped; the others kept.
    events, pub_events = exported(out, "events"), published(world, "seg_6b/events")
    assert events.height == pub_events.filter(pl.col("ts_utc") <= as_of).height < pub_events.height
    cases = exported(out, "cases")
    assert (cases["opened_at"] <= as_of).all() and cases["decided_at"].drop_nulls().le(as_of).all()
    assert (cases.filter(pl.col("decided_at").is_null())["decision"] == "open").all()


def test_as_of_at_the_horizons_end_recomputes_the_published_labels(world, tmp_path):
    end = dt.datetime.combine(world.profile.horizon.end + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    assert export(world, "--as-of", end.isoformat(), "--out", str(tmp_path / "out")) == 0
    got = exported(tmp_path / "out", "transactions").drop("scenario", "day")
    assert got.equals(published(world, "seg_6b/transactions"))


def test_csv_and_parquet_agree(world, tmp_path):
    for fmt in ("parquet", "csv"):
        assert export(world, "--format", fmt, "--include", "labels,entities", "--out", str(tmp_path / fmt)) == 0
    tables = sorted(p.name for p in (tmp_path / "parquet").iterdir() if p.is_dir())
    assert tables == sorted(p.name for p in (tmp_path / "csv").iterdir() if p.is_dir())
    assert {"transactions", "truth_labels", "bank_view", "cases", "parties", "fraud_roles"} <= set(tables)
    for table in tables:
        parquet = exported(tmp_path / "parquet", table)
        csv = exported(tmp_path / "csv", table, parquet.schema)
        assert csv.equals(parquet), table


def test_no_truth_leaves_the_ground_truth_out(world, tmp_path):
    assert export(world, "--no-truth", "--include", "labels", "--out", str(tmp_path / "out")) == 0
    columns = exported(tmp_path / "out", "transactions").columns
    assert not {"is_fraud", "fraud_type", "truth_at"} & set(columns) and "bank_label" in columns
    assert not (tmp_path / "out" / "truth_labels").exists() and (tmp_path / "out" / "bank_view").is_dir()


def test_duckdb_has_a_view_per_published_dataset(world, tmp_path):
    database = tmp_path / "world.duckdb"
    assert export(world, "--include", "entities", "--out", str(tmp_path / "out"), "--duckdb", str(database)) == 0
    expected = {tuple(d.split("/")) for d, entry in load_dictionary().items()
                if entry.kind == "table" and published_partitions(world, load_contract(d))}
    with duckdb.connect(str(database), read_only=True) as con:
        found = set(con.sql("SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal").fetchall())
        total = con.sql("SELECT count(*) FROM seg_6b.transactions").fetchall()[0][0]
        by_day = con.sql("SELECT day, count(*) FROM seg_6b.transactions GROUP BY day ORDER BY day").fetchall()
        parties = con.sql("SELECT country, count(*) FROM seg_6a.parties GROUP BY country ORDER BY country").fetchall()
        exported_rows = con.sql("SELECT count(*) FROM exported.transactions").fetchall()[0][0]
        paths = [r[0] for r in con.sql("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()]
    assert expected and expected <= found
    assert {("exported", t) for t in ("transactions", "parties", "fraud_roles")} <= found
    pub = published(world, "seg_6b/transactions")
    assert total == exported_rows == pub.height
    assert by_day == [(d, published(world, "seg_6b/transactions", [d]).height) for d in world.profile.horizon.days]
    reader = reader_for(world, "seg_6a/parties")
    assert parties == [(c, reader.table("seg_6a/parties", c).height) for c in sorted(world.profile.countries)]
    assert all(Path(p).is_absolute() for sql in paths for p in re.findall(r"'(/[^']+\.parquet)'", sql))


def test_duckdb_alone_needs_no_output_directory(world, tmp_path):
    database = tmp_path / "only.duckdb"
    assert export(world, "--duckdb", str(database)) == 0
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM seg_6b.transactions").fetchall()[0][0] == published(
            world, "seg_6b/transactions").height
        assert not con.sql("SELECT * FROM duckdb_views() WHERE schema_name = 'exported'").fetchall()


@pytest.fixture(scope="module")
def failed_world(world, tmp_path_factory):
    """A copy of the ci world whose 6B validation was published again, failing a check: it did not pass."""
    root = tmp_path_factory.mktemp("failed") / "data"
    shutil.copytree(world.data_root, root, symlinks=True)
    copy = resolve_identity("ci", data_root=str(root))
    write_validation_bundle(copy, "seg_6b", [CheckOutcome("fraud_share", False, 0.09, "0.0010-0.0030")])
    assert "_passed.flag" not in bundle_files(copy, "seg_6b")
    return copy


BAD = {
    "unknown profile": (["--profile", "nope"], "unknown profile 'nope'"),
    "unknown scenario": (["--scenario", "nope"], "--scenario 'nope' is not a scenario of profile ci"),
    "day before the horizon": (["--from", "2026-03-20"], "--from 2026-03-20 lies outside the ci horizon"),
    "day after the horizon": (["--to", "2026-04-20"], "--to 2026-04-20 lies outside the ci horizon"),
    "not a day": (["--from", "27/03/2026"], "is not a date; write it as YYYY-MM-DD"),
    "reversed days": (["--from", "2026-03-29", "--to", "2026-03-28"], "--from 2026-03-29 is after --to 2026-03-28"),
    "as-of before the range": (["--from", "2026-03-28", "--as-of", "2026-03-27"], "is before the exported days"),
    "as-of not a time": (["--as-of", "yesterday"], "--as-of 'yesterday' is neither a date"),
    "unknown include": (["--include", "labels,photos"], "unknown item 'photos'"),
    "unknown format": (["--format", "xlsx"], "invalid choice: 'xlsx'"),
    "world not built": (["--seed", "7"], "no ci world of seed 7"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_arguments_exit_2_with_one_line(world, tmp_path, capsys, case):
    argv, message = BAD[case]
    out, database = tmp_path / "out", tmp_path / "w.duckdb"
    assert export(world, *argv, "--out", str(out), "--duckdb", str(database)) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not leftovers(out) and not leftovers(database)


def test_existing_output_is_never_touched(world, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert export(world, "--out", str(out)) == 2
    assert f"--out {out} already exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    database = tmp_path / "w.duckdb"
    database.write_bytes(b"")
    assert export(world, "--duckdb", str(database)) == 2
    assert "already exists" in capsys.readouterr().err and database.read_bytes() == b""


def test_a_world_that_did_not_pass_validation_is_refused(failed_world, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["export", "--profile", "ci", "--data-root", str(failed_world.data_root), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot be exported" in err and "did not pass validation" in err and err.count("\n") == 1, err
    assert not leftovers(out)


def test_a_failed_export_leaves_nothing(world, tmp_path, monkeypatch):
    calls = []

    def failing_sink(frame, path, fmt):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_sink(frame, path, fmt)

    real_sink = write.sink
    monkeypatch.setattr(write, "sink", failing_sink)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        export(world, "--out", str(out))
    assert len(calls) == 2 and not leftovers(out)
    monkeypatch.undo()

    def failing_database(path, statements):
        raise OSError("no space for the database")

    monkeypatch.setattr("engine_assets.export.run.write_database", failing_database)
    with pytest.raises(OSError, match="no space"):
        export(world, "--out", str(out), "--duckdb", str(tmp_path / "w.duckdb"))
    assert not leftovers(out) and not leftovers(tmp_path / "w.duckdb")


def test_the_console_script(world, tmp_path):
    script = Path(sys.executable).parent / "fraud-engine"
    base = [str(script), "export", "--profile", "ci", "--data-root", str(world.data_root)]
    done = subprocess.run([*base, "--from", "2026-03-29", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert exported(tmp_path / "out", "transactions").height == published(
        world, "seg_6b/transactions", [dt.date(2026, 3, 29)]).height
    bad = subprocess.run([*base, "--from", "2026-03-29", "--to", "2026-03-27", "--out", str(tmp_path / "bad")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "swap them" in bad.stderr
    assert not leftovers(tmp_path / "bad")


def readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Export\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def test_readme_recipes_run_on_an_export(world, tmp_path, monkeypatch):
    [command, *_] = readme_blocks("bash")
    args = cli.parser().parse_args(command.split()[1:])  # the documented command parses as written
    assert (args.as_of, args.include, args.out, args.duckdb) == ("2026-03-31", "labels", "export", "world.duckdb")
    python = readme_blocks("python")
    recipes = {name: next(b for b in python if key in b) for name, key in
               (("polars", "import polars"), ("duckdb", "import duckdb"), ("spark", "import SparkSession"))}
    monkeypatch.chdir(tmp_path)
    # The documented export, on the ci world: its dates and the data root differ, the rest as written.
    assert export(world, "--as-of", "2026-03-28", "--include", args.include, "--out", args.out,
                  "--duckdb", args.duckdb) == 0
    for name in ("polars", "duckdb"):
        exec(compile(recipes[name], f"README {name} recipe", "exec"), {})
    compile(recipes["spark"], "README Spark recipe", "exec")  # pyspark is not a dependency: compiled only


def test_an_export_of_a_world_on_s3_equals_the_export_from_local_disk(world, tmp_path, s3_endpoint, monkeypatch):
    import services

    for name, value in {**services.AWS_ENV, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    on_s3 = resolve_identity("ci", data_root=services.upload(world.data_root, s3_endpoint, "export-world"))
    argv = ["--include", "labels,entities", "--as-of", str(as_of_between_labels(world))]
    assert export(world, *argv, "--out", str(tmp_path / "local")) == 0
    assert export(on_s3, *argv, "--out", str(tmp_path / "s3"), "--duckdb", str(tmp_path / "s3.duckdb")) == 0
    local, remote = sorted((tmp_path / "local").rglob("*.parquet")), sorted((tmp_path / "s3").rglob("*.parquet"))
    assert [p.relative_to(tmp_path / "local") for p in local] == [p.relative_to(tmp_path / "s3") for p in remote]
    assert local and all(a.read_bytes() == b.read_bytes() for a, b in zip(local, remote))
    # DuckDB would need its httpfs extension to read s3://: only the exported tables have views.
    with duckdb.connect(str(tmp_path / "s3.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.sql("SELECT schema_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert schemas == {"exported"}
        assert con.sql("SELECT count(*) FROM exported.transactions").fetchall()[0][0] == published(
            world, "seg_6b/transactions").height
