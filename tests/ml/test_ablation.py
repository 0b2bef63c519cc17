"""The CNN ablation study: a tiny grid end to end through the CLI, resuming, and the FLOP counter."""

import argparse
import datetime
import json
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from ml.cli import main
from ml.models.config import CNNConfig
from ml.models.nets import CNN
from ml.models.size import count_flops
from ml.study.ablation.grid import STUDIES, config_key
from ml.study.ablation.report import difference_text
from ml.study.ablation.run import run_ablation
from ml.study.ablation.schedule import Schedule, parse_deadline
from ml.study.ablation.stats import versus_full
from ml.study.ablation.store import previous_runs
from ml.study.requests import AblationRequest, TimingPass

ROOT = Path(__file__).resolve().parents[2]
# Two studies sharing the full network, two seeds, one epoch on 400 images: ten training runs of
# one batch each, a few seconds in all on two cores.
TINY = {"epochs": 1, "seeds": 2, "limit": 400}


def tiny(*studies: str, seeds: int = TINY["seeds"]) -> AblationRequest:
    return AblationRequest(studies=studies, epochs=TINY["epochs"], seeds=seeds, limit=TINY["limit"])


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("ablation")
    result = subprocess.run(
        [sys.executable, "-m", "ml", "ablate", "--study", "pool,channels", "--epochs", "1", "--seeds", "2",
         "--limit", str(TINY["limit"]), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return out, result, json.loads((out / "results.json").read_text())


def rows(results, study):
    return {row["variant"]: row for row in results["studies"][study]}


def test_every_variant_has_mean_and_std_over_two_seeds_and_the_per_seed_values(tiny_study):
    _, _, results = tiny_study
    assert (results["epochs"], results["seeds"], results["limit"]) == (1, [0, 1], 400)
    assert results["complete"] and results["machine"]["cpu_threads"] >= 1
    assert "ablate --study pool,channels" in results["command"]
    assert list(rows(results, "pool")) == ["max", "avg", "none"]
    assert list(rows(results, "channels")) == ["16/32", "32/64", "64/128"]
    for study in ("pool", "channels"):
        for row in results["studies"][study]:
            accuracy = [r["accuracy"] for r in row["per_seed"]]
            assert [r["seed"] for r in row["per_seed"]] == [0, 1] and row["seeds_done"] == 2
            assert row["accuracy_mean"] == pytest.approx(statistics.fmean(accuracy), abs=1e-3)
            assert row["accuracy_std"] == pytest.approx(statistics.stdev(accuracy), abs=1e-3)  # ddof=1
            for r in row["per_seed"]:
                assert r["train_seconds_per_epoch"] > 0 and r["test_seconds"] > 0
                assert 0 <= r["accuracy"] <= 100


def test_every_variant_is_compared_with_the_full_network_of_its_study(tiny_study):
    out, _, results = tiny_study
    for study, reference in (("pool", "max"), ("channels", "32/64")):
        table = rows(results, study)
        assert table[reference]["versus_full"] is None
        base = [s["accuracy"] for s in table[reference]["per_seed"]]
        for variant, row in table.items():
            if variant == reference:
                continue
            mine = [s["accuracy"] for s in row["per_seed"]]
            comparison = row["versus_full"]
            gap = statistics.fmean(mine) - statistics.fmean(base)
            assert comparison["delta"] == pytest.approx(gap, abs=1e-3)
            assert comparison["p"] is not None and 0 <= comparison["p"] <= 1  # two seeds on each side
    assert "| Δ vs full (points) |" in (out / "ablation.md").read_text()


def test_the_difference_to_the_full_network_is_welchs_t_test():
    from scipy import stats

    # Three seeds each, a clear gap: 0.22 points at a spread of 0.02–0.05.
    better, full = [99.30, 99.35, 99.40], [99.10, 99.12, 99.14]
    comparison = versus_full(better, full)
    assert comparison["delta"] == pytest.approx(0.23, abs=1e-4)
    assert comparison["p"] == pytest.approx(stats.ttest_ind(better, full, equal_var=False).pvalue, abs=1e-4)
    assert comparison["p"] < 0.05 and 0 < comparison["ci95"][0] < 0.23 < comparison["ci95"][1]
    # A gap of 0.16 inside seed noise of ±0.2: no evidence of a difference, the interval spans zero.
    noisy = versus_full([99.05, 99.25, 99.45], [99.42, 99.02, 98.82])
    assert noisy["p"] > 0.3 and noisy["ci95"][0] < 0 < noisy["ci95"][1]
    # One seed on either side: a difference but no test; nothing trained: nothing to say.
    assert versus_full([99.2], full) == {"delta": pytest.approx(0.08, abs=1e-4), "p": None, "ci95": None}
    assert versus_full([], full) is None
    assert difference_text(comparison) == "+0.23 (p 0.008)"
    assert difference_text({"delta": -0.18, "p": None}) == "−0.18" and difference_text(None) == "—"


def test_the_full_network_is_trained_once_per_seed_and_shared_by_both_studies(tiny_study):
    _, result, results = tiny_study
    assert rows(results, "pool")["max"]["reference"] and rows(results, "channels")["32/64"]["reference"]
    assert rows(results, "pool")["max"]["per_seed"] == rows(results, "channels")["32/64"]["per_seed"]
    assert sorted(results["runs"]) == sorted(
        ["full", "pool=avg", "pool=none", "channels=16/32", "channels=64/128"])
    # 5 distinct configs × 2 seeds, not 6 × 2.
    assert "10 training run(s) to do, 0 reused" in result.stderr and "[10/10]" in result.stderr


def test_parameters_and_flops_grow_with_width_and_without_pooling(tiny_study):
    _, _, results = tiny_study
    channels, pool = rows(results, "channels"), rows(results, "pool")
    params = [channels[v]["parameters"] for v in ("16/32", "32/64", "64/128")]
    flops = [channels[v]["flops"] for v in ("16/32", "32/64", "64/128")]
    assert params == sorted(params) and len(set(params)) == 3
    assert flops == sorted(flops) and len(set(flops)) == 3 and flops[0] > 0
    # Without pooling the linear layer sees 28×28 maps: about 14× the parameters of the full network.
    assert pool["none"]["parameters"] > 10 * pool["max"]["parameters"]
    assert pool["none"]["flops"] > pool["max"]["flops"]
    assert pool["avg"]["parameters"] == pool["max"]["parameters"]


def test_each_study_gets_a_valid_png_and_a_markdown_table_with_a_row_per_variant(tiny_study):
    out, result, _ = tiny_study
    for study in ("pool", "channels"):
        with Image.open(out / f"{study}.png") as image:
            image.verify()
            assert image.format == "PNG" and image.size[0] > 500 and image.size[1] > 200
    markdown = (out / "ablation.md").read_text()
    for line in ("| max (full) |", "| avg |", "| none |", "| 16/32 |", "| 32/64 (full) |", "| 64/128 |"):
        assert line in markdown and line in result.stdout  # the CLI prints the tables too
    assert "2 × the multiply-adds" in markdown and "![pool](pool.png)" in markdown


def test_resuming_in_the_same_folder_retrains_nothing(tiny_study, tmp_path):
    out, _, before = tiny_study
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    events = []
    after = run_ablation(tiny("pool", "channels"), tmp_path, on_event=events.append)
    assert events[0] == {"event": "start", "total": 0, "reused": 10, "runs": 10}
    assert not [e for e in events if e["event"] == "run"]
    assert after["runs"] == before["runs"]  # every timing and accuracy as first measured


def test_a_new_study_reuses_the_full_network_already_trained(tiny_study, tmp_path):
    out, _, before = tiny_study
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    events = []
    after = run_ablation(tiny("layers"), tmp_path, on_event=events.append)
    trained = [(e["variant"], e["seed"]) for e in events if e["event"] == "run"]
    assert trained == [("1 block", 0), ("1 block", 1)]
    assert rows(after, "layers")["2 blocks"]["per_seed"] == rows(before, "pool")["max"]["per_seed"]
    assert set(after["runs"]) > set(before["runs"])  # the other studies' runs stay in the file
    assert (tmp_path / "layers.png").stat().st_size > 0


def test_a_timing_pass_trains_nothing_and_gives_the_tables_their_times_and_ratios(tiny_study, tmp_path):
    out, _, before = tiny_study
    shutil.copytree(out, tmp_path, dirs_exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "ml", "ablate", "--study", "pool,channels", "--epochs", "1", "--seeds", "2",
         "--limit", str(TINY["limit"]), "--out", str(tmp_path), "--timing", "--timing-rounds", "2",
         "--timing-batches", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "timing round 2/2 pool=none" in result.stderr
    after = json.loads((tmp_path / "results.json").read_text())
    assert after["runs"] == before["runs"]  # no training run was redone or lost
    timing = after["timing"]
    assert timing["rounds"] == 2 and timing["reference"] == "full"
    # Five distinct networks (the full one shared by both studies), each timed once per round.
    assert set(timing["configs"]) == {"full", "pool=avg", "pool=none", "channels=16/32", "channels=64/128"}
    full = timing["configs"]["full"]
    assert full["train_ratio"] == 1.0 and full["test_ratio"] == 1.0
    for config in timing["configs"].values():
        assert len(config["train_ms_per_batch"]) == 2 and config["train_seconds_per_epoch"] > 0
    # The network without pooling does ~2.4× the full one's work per image and is slower to train.
    assert timing["configs"]["pool=none"]["train_ratio"] > 1.2
    none = rows(after, "pool")["none"]
    assert none["timing"] == timing["configs"]["pool=none"]
    table = (tmp_path / "ablation.md").read_text()
    timed = none["timing"]
    assert f"| {timed['train_seconds_per_epoch']:.2f} | {timed['train_ratio']:.2f} |" in table
    assert "separate timing pass" in table
    # Rewriting the report trains nothing and keeps everything.
    assert main(["ablate", "--study", "pool,channels", "--epochs", "1", "--seeds", "3", "--limit",
                 str(TINY["limit"]), "--out", str(tmp_path), "--report"]) == 0
    partial = json.loads((tmp_path / "results.json").read_text())
    assert partial["runs"] == before["runs"] and partial["timing"] == timing and not partial["complete"]
    assert partial["command"] == before["command"]  # the command that trained, not the report's
    assert "(incomplete)" in (tmp_path / "ablation.md").read_text()
    # A training run afterwards keeps the timing pass.
    again = run_ablation(tiny("pool", "channels"), tmp_path)
    assert again["timing"] == timing


def test_results_from_other_settings_are_set_aside_not_reused(tiny_study, tmp_path):
    out, _, _ = tiny_study
    shutil.copy(out / "results.json", tmp_path / "results.json")
    recipe = {"epochs": 2, "limit": 400, "dry_run": False, "test_samples": 200}
    assert previous_runs(tmp_path / "results.json", recipe) == {}
    assert (tmp_path / "results.replaced.json").exists() and not (tmp_path / "results.json").exists()


def test_an_unknown_study_exits_2_naming_the_valid_ones(tmp_path, capsys):
    assert main(["ablate", "--study", "pool,bogus", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: unknown study bogus; studies are pool, layers, channels, linear, kernel, dropout")
    assert not (tmp_path / "x").exists()


def test_flops_of_a_tiny_cnn_match_a_hand_count():
    cfg = CNNConfig(channels=(2, 4), kernel=(3, 3), convs_per_block=1, linear=8, dropout=0.0)
    # Multiply-adds: conv 1→2 3×3 at 28×28, pool, conv 2→4 3×3 at 14×14, pool, linear 4·7·7→8, 8→10.
    macs = 2 * 28 * 28 * 9 + 4 * 14 * 14 * (2 * 9) + (4 * 7 * 7) * 8 + 8 * 10
    assert count_flops(CNN(cfg)) == 2 * macs == 59744
    # Without pooling the second conv runs at 28×28 and the linear layer sees 4·28·28 inputs.
    unpooled = 2 * 28 * 28 * 9 + 4 * 28 * 28 * 18 + (4 * 28 * 28) * 8 + 8 * 10
    assert count_flops(CNN(replace(cfg, pool="none"))) == 2 * unpooled


def test_every_study_shows_the_full_network_once_under_one_canonical_key():
    assert config_key({}) == config_key({"pool": "max"}) == config_key({"kernel": [5, 3]}) == "full"
    assert config_key({"channels": (16, 32)}) == "channels=16/32"
    for study, variants in STUDIES.items():
        keys = [config_key(overrides) for _, overrides in variants]
        assert keys.count("full") == 1 and len(set(keys)) == len(keys), study


def test_two_jobs_train_every_run_once_in_worker_processes(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ml", "ablate", "--study", "pool", "--epochs", "1", "--seeds", "2",
         "--limit", str(TINY["limit"]), "--out", str(tmp_path), "--jobs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["complete"]
    # Three pooling variants × two seeds, each reported once as it finished, each with its figures.
    finished = [line for line in result.stderr.splitlines() if line.startswith("[") and "/6]" in line]
    assert sorted(int(line[1 : line.index("/")]) for line in finished) == [1, 2, 3, 4, 5, 6]
    for key in ("full", "pool=avg", "pool=none"):
        seeds = results["runs"][key]["seeds"]
        assert sorted(seeds) == ["0", "1"]
        assert all(0 <= run["accuracy"] <= 100 and run["train_seconds"] > 0 for run in seeds.values())
    assert (tmp_path / "pool.png").stat().st_size > 0


def test_jobs_below_one_exit_2(tmp_path, capsys):
    assert main(["ablate", "--study", "pool", "--jobs", "0", "--out", str(tmp_path)]) == 2
    assert "--jobs" in capsys.readouterr().err


def timed_folder(out, per_epoch):
    """``out`` with a real timing pass of the pooling study, its seconds per epoch then set by hand.

    Real runs at this size take a second or two whatever the estimate says, so the test chooses
    estimates that put the deadline between the networks."""
    run_ablation(tiny("pool", seeds=1), out, mode="timing", timing=TimingPass(rounds=1, batches=1))
    stored = json.loads((out / "results.json").read_text())
    for key, seconds in per_epoch.items():
        stored["timing"]["configs"][key].update(train_seconds_per_epoch=seconds, test_seconds=0.0)
    (out / "results.json").write_text(json.dumps(stored))


def test_a_deadline_trains_the_longest_runs_that_fit_first_and_leaves_the_rest_for_next_time(tmp_path):
    timed_folder(tmp_path, {"full": 1.0, "pool=avg": 2.0, "pool=none": 10_000.0})

    def run(until, **kwargs):
        events = []
        results = run_ablation(tiny("pool", seeds=1), tmp_path, on_event=events.append,
                               schedule=Schedule(until=time.time() + until, **kwargs))
        return [e["key"] for e in events if e["event"] == "run"], events[-1], results

    # Estimates × 400: the full network's 400 s end within the 600 s, average pooling's 800 s do not.
    trained, done, results = run(600, slowdown=400)
    assert trained == ["full"] and done["left"] == 2 and not results["complete"]
    # Without a slowdown (one job: 1×), average pooling fits; no pooling (10,000 s) still does not.
    trained, done, results = run(600)
    assert trained == ["pool=avg"] and done["left"] == 1
    assert results["runs"]["pool=none"]["seeds"] == {} and not results["complete"]
    # Given the time, the run left is trained, and the two done before are kept, not redone.
    trained, done, results = run(86_400)
    assert trained == ["pool=none"] and done["left"] == 0 and results["complete"]
    assert all(results["runs"][key]["seeds"]["0"]["accuracy"] > 0 for key in ("full", "pool=avg"))


def test_a_deadline_orders_two_workers_longest_first_and_says_what_is_left(tmp_path):
    timed_folder(tmp_path, {"full": 1.0, "pool=avg": 3.0, "pool=none": 10_000.0})
    result = subprocess.run(
        [sys.executable, "-m", "ml", "ablate", "--study", "pool", "--epochs", "1", "--seeds", "2",
         "--limit", str(TINY["limit"]), "--out", str(tmp_path), "--jobs", "2", "--until", "+60m"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "6 training run(s) to do" in result.stderr and "longest first" in result.stderr
    assert "2 run(s) left, as they would not end by" in result.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert {key: sorted(run["seeds"]) for key, run in results["runs"].items()} == {
        "full": ["0", "1"], "pool=avg": ["0", "1"], "pool=none": []}
    # The two average-pooling runs (3 s/epoch) are started first, the full network's (1 s/epoch) only
    # as a worker frees up, so the first run to finish is one of them.
    finished = [line.split("]")[1].split(":")[0].strip() for line in result.stderr.splitlines()
                if line.startswith("[")]
    assert len(finished) == 4 and finished[0] in ("pool avg seed 0", "pool avg seed 1"), finished


def test_a_deadline_without_a_timing_pass_exits_2_before_training(tmp_path, capsys):
    assert main(["ablate", "--study", "pool", "--epochs", "1", "--seeds", "1", "--limit", str(TINY["limit"]),
                 "--out", str(tmp_path), "--until", "+2h"]) == 2
    err = capsys.readouterr().err
    assert "a deadline needs every run's time from the timing pass" in err and "--timing" in err
    assert not (tmp_path / "results.json").exists()  # nothing trained, nothing written


def test_deadlines_are_a_clock_time_a_date_or_a_duration():
    now = datetime.datetime(2026, 11, 30, 21, 0).timestamp()
    assert parse_deadline("21:30", now) == now + 1800
    assert parse_deadline("20:00", now) == now + 23 * 3600  # already past today: tomorrow
    assert parse_deadline("+90m", now) == now + 5400 and parse_deadline("+2h", now) == now + 7200
    assert parse_deadline("2026-12-01 08:00", now) == now + 11 * 3600
    for bad in ("soon", "+0m", "25:00", "+2d"):
        with pytest.raises(argparse.ArgumentTypeError, match="is not a deadline"):
            parse_deadline(bad, now)
