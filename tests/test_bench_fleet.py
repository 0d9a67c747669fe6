"""The fleet page benchmark, small: it seeds PostgreSQL and SQLite with
events whose hourly counts and totals agree, and every page it times
answers (the full run is ``python -m bench.bench_fleet``)."""
from bench import bench_fleet


def test_the_fleet_bench_seeds_consistently_and_every_page_answers(capsys):
    assert bench_fleet.main(["--kiosks", "40", "--events", "3000", "--requests", "2", "--no-record"]) == 0
    out = capsys.readouterr().out
    assert "PostgreSQL" in out and "SQLite" in out and out.count("3,000 events over 30 days") == 2
    assert "| fleet list, a manager's 3 venues |" in out and "/metrics" in out
