"""The benchmark command: it runs, its rows have the promised keys, and its workload is the spec.

No timing assertions here: performance targets are checked by running the benchmark, never
by timed unit tests (they would fail on a busy machine and prove nothing on a fast one).
"""

import json

import numpy as np
import pytest

from metanumpy import bench
from metanumpy.bench import timing
from metanumpy.bench.workload import SIZES, learner, meta_batches
from metanumpy.cli import main as cli


def check_row(row, algo, size, path="reference"):
    assert set(bench.ROW_KEYS) <= set(row)
    assert (row["algo"], row["size"], row["path"]) == (algo, size, path)
    assert 0 < row["min_s"] <= row["median_s"] <= row["max_s"]
    assert row["peak_rss_mb"] > 0 and 0 < row["above_baseline_mb"] < row["peak_rss_mb"]
    assert 0.0 <= row["kernel_share"] <= 1.0


def test_measure_in_process_returns_a_row():
    row = bench.measure("fomaml", "S", steps=2, warmup=1)
    check_row(row, "fomaml", "S")
    assert row["inner_steps"] == 5
    assert bench.measure("protonet", "S", steps=2, warmup=0, inner_steps=2)["inner_steps"] is None


def test_the_fast_path_row_leaves_the_switch_as_it_found_it():
    from metanumpy import fast

    check_row(bench.measure("protonet", "S", steps=1, warmup=0, path="fast"), "protonet", "S",
              "fast")
    assert not fast.is_enabled()


def test_command_line_measures_both_paths_in_subprocesses_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    rows = cli(["bench", "--algos", "protonet", "--sizes", "S", "--steps", "2", "--warmup", "1",
                "--paths", "reference,fast", "--json", str(path)])
    assert [r["path"] for r in rows] == ["reference", "fast", "fast-returned"]
    check_row(rows[0], "protonet", "S")
    check_row(rows[1], "protonet", "S", "fast")
    saved = json.loads(path.read_text())
    assert saved["rows"] == rows
    assert {"python", "numpy", "cpu_count", "backend", "torch"} <= set(saved["machine"])
    last = capsys.readouterr().out.strip().splitlines()[-2].split()  # above "wrote ..."
    ratio = rows[0]["median_s"] / rows[1]["median_s"]
    assert last[:3] == ["protonet", "S", "-"] and last[5] == f"{ratio:.2f}x"


def test_the_table_puts_the_paths_side_by_side_and_keeps_pytorchs_faster_thread_count():
    def row(path, seconds, mb, threads=1):
        return {"algo": "maml", "size": "L", "inner_steps": 5, "path": path, "threads": threads,
                "median_s": seconds, "above_baseline_mb": mb}

    rows = [row("reference", 2.0, 900), row("fast", 0.5, 400), row("torch", 1.0, 300),
            row("torch", 1.25, 310, threads=2), row("fast-returned", 0.6, 350)]
    line = bench.table(rows).splitlines()[1].split()
    assert line == ["maml", "L", "5", "2.0000", "0.5000", "4.00x", "1.0000", "0.50x",
                    "900", "400", "350", "300"]
    no_torch = bench.table(rows[:2]).splitlines()[1].split()
    assert no_torch[6:8] == ["-", "-x"] and no_torch[-1] == "-"


def test_ops_reports_engine_and_numpy_microseconds(tmp_path):
    result = bench.main(ops=True, json_path=str(tmp_path / "ops.json"), echo=lambda text: None)
    assert set(result) == {"add forward", "add forward+backward", "matmul forward",
                           "matmul forward+backward"}
    for numbers in result.values():
        assert numbers["engine_us"] > 0 and numbers["numpy_us"] > 0
    assert json.loads((tmp_path / "ops.json").read_text())["ops"] == result


@pytest.mark.parametrize("args, message", [
    (dict(algos="maml,sgd"), "unknown algorithm sgd"),
    (dict(sizes="XL"), "unknown size XL"),
    (dict(inner_steps="1,two"), "positive integers"),
])
def test_bad_arguments_are_explained(args, message):
    with pytest.raises(ValueError, match=message):
        bench.main(**args, echo=lambda text: None)


def test_the_workload_follows_the_spec():
    size = SIZES["M"]
    first, again = meta_batches(size, 2), meta_batches(size, 2)
    assert len(first) == 2 and len(first[0]) == 4  # meta-batch of 4 episodes
    episode = first[0][0]
    assert episode.support_ids.shape == (25, 64) and episode.query_ids.shape == (75, 64)
    lengths = episode.query_mask.sum(axis=1)
    assert lengths.min() >= 32 and lengths.max() <= 64
    assert np.all((episode.query_ids == 0) == (episode.query_mask == 0))  # id 0 only as padding
    assert episode.query_ids.max() < size.vocab
    assert np.array_equal(np.bincount(episode.query_labels), [15] * 5)
    assert np.array_equal(first[1][3].query_ids, again[1][3].query_ids)  # seeded
    model = learner("maml", size).model
    assert model.encoder.embedding.weight.shape == (10000, 128)
    assert [p.dtype for p in model.parameters()] == [np.float32] * 5


def test_kernel_time_is_numpy_and_the_engines_array_only_functions():
    engine = timing._ENGINE
    assert timing.is_kernel("~", "<method 'sum' of 'numpy.ndarray' objects>")
    assert timing.is_kernel("~", "<built-in method numpy.zeros>")
    assert not timing.is_kernel("~", "<built-in method builtins.isinstance>")
    assert timing.is_kernel(f"{engine}/autograd/ops.py", "forward")
    assert timing.is_kernel(f"{engine}/fast/rowsparse.py", "take")
    assert not timing.is_kernel(f"{engine}/autograd/grad.py", "_backpropagate")


@pytest.mark.skipif(not bench.torch_workload.available(), reason="PyTorch not installed (optional)")
@pytest.mark.parametrize("algo", ["maml", "fomaml", "reptile", "protonet", "matching"])
def test_the_pytorch_workload_runs_every_algorithm(algo):
    row = bench.measure(algo, "S", steps=1, warmup=0, path="torch")
    assert row["path"] == "torch" and row["median_s"] > 0 and row["kernel_share"] is None


def test_the_trace_lists_the_files_a_meta_step_runs():
    from metanumpy.bench.trace import files_run

    reference, fast_path = files_run("maml"), files_run("maml", "fast")
    assert "metanumpy/meta/maml.py" in reference and "metanumpy/autograd/grad.py" in reference
    assert not any("/fast/" in name for name in reference)
    assert "metanumpy/fast/fused.py" in fast_path


def test_a_failing_run_reports_the_childs_error():
    with pytest.raises(RuntimeError, match=r"protonet at size S \(reference\) failed.*unknown backend 'nosuch'"):
        bench.suite.run_one("protonet", "S", steps=1, warmup=0, backend="nosuch")
