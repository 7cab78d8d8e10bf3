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


def check_row(row, algo, size):
    assert set(bench.ROW_KEYS) <= set(row)
    assert (row["algo"], row["size"]) == (algo, size)
    assert 0 < row["min_s"] <= row["median_s"] <= row["max_s"]
    assert row["peak_rss_mb"] > 0 and 0.0 <= row["kernel_share"] <= 1.0


def test_measure_in_process_returns_a_row():
    row = bench.measure("fomaml", "S", steps=2, warmup=1)
    check_row(row, "fomaml", "S")
    assert row["inner_steps"] == 5
    assert bench.measure("protonet", "S", steps=2, warmup=0, inner_steps=2)["inner_steps"] is None


def test_command_line_runs_each_row_in_a_subprocess_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    rows = cli(["bench", "--algos", "protonet", "--sizes", "S", "--steps", "2", "--warmup", "1",
                "--json", str(path)])
    check_row(rows[0], "protonet", "S")
    saved = json.loads(path.read_text())
    assert saved["rows"] == rows
    assert {"python", "numpy", "cpu_count", "backend"} <= set(saved["machine"])
    printed = capsys.readouterr().out
    assert "protonet  S" in printed and "0.0038" in printed  # the PyTorch reference alongside


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
    assert timing.is_kernel(f"{engine}/rowsparse.py", "take")
    assert not timing.is_kernel(f"{engine}/autograd/grad.py", "_backpropagate")


def test_table_shows_the_ratio_to_pytorch():
    row = {"algo": "maml", "size": "L", "inner_steps": 5, "median_s": 0.4775, "min_s": 0.4,
           "max_s": 0.5, "peak_rss_mb": 300.0, "kernel_share": 0.5}
    line = bench.table([row]).splitlines()[1]
    assert "0.9550" in line and "0.50x" in line
    other_steps = bench.table([dict(row, inner_steps=10)]).splitlines()[1]
    assert other_steps.rstrip().endswith("-")  # the reference is for 5 inner steps only


def test_a_failing_run_reports_the_childs_error():
    with pytest.raises(RuntimeError, match="protonet at size S failed.*unknown backend 'nosuch'"):
        bench.suite.run_one("protonet", "S", steps=1, warmup=0, backend="nosuch")
