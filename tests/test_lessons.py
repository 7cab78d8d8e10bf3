"""The lessons run, keep their format, and what they teach holds in their own summary.json.

Every lesson runs as a real script in --fast mode (all of them at once, one process each,
started on first use) and one check per lesson asserts its key claim from the numbers it
recorded. To add a lesson: write `check_NN(values)` below and add it to CHECKS.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from metanumpy import lessons

ROOT = Path(__file__).resolve().parent.parent
LESSON_FILES = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.py"))


# --- one check per lesson: its key claim, from summary.json ---------------------------------


def check_01(v):
    assert v["meta_grad_error"] < 1e-12  # the engine's meta-gradient is the hand formula
    assert abs(v["meta_grad_engine"] - v["meta_grad_hand"]) < 1e-12
    assert abs(v["meta_grad_first_order"] - v["meta_grad_hand"]) > 1e-3  # the Hessian term matters
    assert v["hvp_error"] < 1e-10 and v["second_derivative_error"] < 1e-12
    assert v["gradcheck_caught_wrong_backward"] is True
    assert v["query_loss_after"] < v["query_loss_before"]


def check_02(v):
    assert v["plenty_acc"] > v["few_acc"]  # the few-shot problem
    assert v["unseen_few"] > v["unseen_plenty"]
    for key in ("plenty_acc", "few_acc", "acc_1_per_topic", "acc_60_per_topic"):
        assert 0.0 <= v[key] <= 1.0


def check_03(v):
    assert v["splits_disjoint"] is True and v["classes_shared_between_splits"] == 0
    assert v["support_query_overlap"] == 0
    assert v["distinct_labels_of_one_class"] > 1  # labels are remapped per episode
    for method in ("bow", "finetune", "pretrain"):
        for shots in (1, 5):
            key = f"{method}_{shots}shot"
            assert 0.0 <= v[key] <= 1.0 and 0.0 <= v[f"{key}_ci95"] <= 1.0


def check_04(v):
    assert v["hand_vs_library"] < 1e-5     # the hand-written step is MAML.episode_loss
    assert v["trap_vs_correct"] > 1e-2     # forgetting params=fast changes the meta-gradient
    assert v["first_vs_second_order"] > 1e-3
    assert v["maml_0_inner_steps"] <= 1.0 and v["maml_seconds_per_step"] > 0
    for key in ("bow", "trap", "maml", "fomaml", "anil", "metasgd"):
        assert 0.0 <= v[key] <= 1.0 and v[f"{key}_ci95"] >= 0.0


def accuracies_are_fractions(v, keys):
    for key in keys:
        assert 0.0 <= v[key] <= 1.0 and 0.0 <= v[f"{key}_ci95"] <= 1.0, key


def check_05(v):
    assert v["hand_vs_library"] < 1e-5    # the hand-written outer step is Reptile.meta_train_step
    assert v["outer_step_size"] > 1e-4    # ... and that step did move the weights
    assert v["reptile_seconds_per_step"] > 0 and v["fomaml_seconds_per_step"] > 0
    accuracies_are_fractions(v, ["reptile", "fomaml", "bow", "finetune"])


def check_06(v):
    assert v["attention_row_sum_error"] < 1e-5 and v["probs_row_sum_error"] < 1e-5
    assert v["attention_hand_vs_library"] < 1e-5 and v["probs_hand_vs_library"] < 1e-5
    assert v["max_weight_tau10"] > v["max_weight_tau1"]  # a higher temperature sharpens
    accuracies_are_fractions(v, ["matching_tau10", "matching_tau1", "bow", "pretrain"])


def check_07(v):
    assert v["prototypes_hand_vs_library"] < 1e-5   # prototypes are the class means
    assert v["logits_hand_vs_library"] < 1e-4       # logits are -squared distances
    assert v["linear_vs_distance"] < 1e-4           # ... a linear classifier in disguise
    assert v["separation_before"] > 0 and v["separation_after"] > 0
    accuracies_are_fractions(v, [f"{m}_{k}shot" for m in ("protonet", "bow", "pretrain")
                                 for k in (1, 5)])
    assert 0.0 <= v["new_product_accuracy"] <= 1.0  # predict on a fixed support set (run.py)


def check_08(v):
    for family in ("topics", "crossdomain"):
        assert v[f"{family}_embeddings_bytes"] > 0 and v[f"{family}_loaded_rows"] > 0
        accuracies_are_fractions(v, [f"{family}_{k}" for k in (
            "bow", "supervised", "random_untrained", "skipgram_untrained", "protonet_random",
            "protonet_skipgram")])
    assert v["crossdomain_unknown_test"] > v["crossdomain_unknown_train"]  # a domain shift


def check_09(v):
    maml = [v[f"maml_memory_{k}_steps"] for k in (1, 2, 5, 10)]
    assert maml == sorted(maml) and maml[-1] > maml[0]     # memory grows with inner steps
    fomaml = [v[f"fomaml_memory_{k}_steps"] for k in (1, 2, 5, 10)]
    assert maml[-1] > 1.5 * fomaml[-1]                     # below second order at 10 steps
    linked = [v[f"fomaml_fast_memory_{k}_steps"] for k in (1, 2, 5, 10)]
    assert max(linked) < 1.1 * min(linked)                 # fast path: flat in the steps
    assert fomaml[-1] > 2 * linked[-1]                     # the reference keeps every step
    for algo in ("maml", "fomaml", "reptile", "matching", "protonet"):
        assert v[f"{algo}_seconds_per_step"] > 0
    accuracies_are_fractions(v, [f"{m}_{k}shot" for k in (1, 2, 5, 10) for m in (
        "maml", "fomaml", "reptile", "matching", "protonet", "pretrained", "bow_centroid")])


def check_10(v):
    assert v["features_per_sentence"] > 0
    # before training, the lexical ProtoNet is the strong baseline (up to hash collisions)
    assert abs(v["lexical_untrained"] - v["tfidf"]) < 0.1
    # the prototype head starts MAML where ProtoNet starts; a learned head starts at chance
    assert abs(v["fomaml_proto_untrained"] - v["lexical_untrained"]) < 0.05
    assert v["fomaml_learned_untrained"] < v["fomaml_proto_untrained"] - 0.1
    accuracies_are_fractions(v, ["bow", "tfidf", "bag_untrained", "bag", "lexical_untrained",
                                 "lexical", "fomaml_learned_untrained",
                                 "fomaml_proto_untrained", "fomaml_proto"])


CHECKS = {
    "01_autograd": check_01,
    "02_text_encoder": check_02,
    "03_episodes_and_baselines": check_03,
    "04_maml": check_04,
    "05_reptile": check_05,
    "06_matching_networks": check_06,
    "07_prototypical_networks": check_07,
    "08_pretraining_and_meta_learning": check_08,
    "09_comparison": check_09,
    "10_real_text_lessons": check_10,
}


# --- running the lessons ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_runs(tmp_path_factory):
    """Start every lesson with --fast at once; `fast_runs(name)` waits for one and returns
    (summary dict, stdout, out folder)."""
    root = tmp_path_factory.mktemp("lessons")
    processes = {}
    for path in LESSON_FILES:
        out = root / path.stem
        processes[path.stem] = (out, subprocess.Popen(
            [sys.executable, str(path), "--fast", "--out", str(out)], cwd=root,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=lessons.lesson_environment()))

    def wait(name):
        out, process = processes[name]
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"{name} --fast failed:\n{stderr[-4000:]}"
        return json.loads((out / "summary.json").read_text(encoding="utf-8")), stdout, out

    yield wait
    for _, process in processes.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_lesson_runs_and_its_claim_holds(fast_runs, name):
    summary, stdout, out = fast_runs(name)
    assert summary["lesson"] == name and summary["fast"] is True
    assert summary["plots"], f"{name} saved no plot"
    for plot_file in summary["plots"]:
        assert (out / plot_file).stat().st_size > 0, f"{name}: empty plot {plot_file}"
    assert set(summary["headline"]) <= set(summary["values"])
    CHECKS[name](summary["values"])


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_quoted_output_is_printed(fast_runs, name):
    """A `# prints: ...` comment quotes a line the lesson prints (see lessons/README.md)."""
    source = (ROOT / "lessons" / f"{name}.py").read_text(encoding="utf-8")
    quoted = re.findall(r"^# prints: (.*)$", source, flags=re.M)
    _, stdout, _ = fast_runs(name)
    printed = stdout.splitlines()
    for line in quoted:
        assert line in printed, f"{name} quotes {line!r}, but its run does not print it"


def test_every_lesson_is_checked():
    assert sorted(p.stem for p in LESSON_FILES) == sorted(CHECKS)


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_format(path):
    source = path.read_text(encoding="utf-8")
    assert source.startswith("# %% [markdown]\n# # Lesson"), "a lesson opens with its title cell"
    assert "\n# %%\n" in source, "a lesson has code cells"
    assert re.search(r"^# ## Summary$", source, flags=re.M), "a lesson has a Summary cell"
    assert re.search(r"^# ## Exercises$", source, flags=re.M), "a lesson has an Exercises cell"
    assert f'lesson_args("{path.stem}", __doc__, seed=SEED, fast=FAST, out=OUT)' in source
    assert "report.save()" in source
    first_code = source[source.index("\n# %%") + 1:]
    assert first_code.startswith('# %% tags=["parameters"]\n'), "the first code cell: settings"
    settings = first_code[:first_code.index("\n# %%")]
    for line in ("SEED = 0 ", "FAST = False ", "OUT = None "):  # the flags' defaults
        assert f"\n{line}" in settings, f"the settings cell sets {line.strip()}"
    assert lessons._first_doc_line(source), "a lesson has a one-line docstring (--list shows it)"


# --- the runner ---------------------------------------------------------------------------------


def test_cli_lists_the_lessons():
    listing = subprocess.run([sys.executable, "-m", "metanumpy", "lessons", "--list"],
                             capture_output=True, text=True, check=True).stdout
    for path in LESSON_FILES:
        assert path.name in listing


def test_runner_runs_in_order_and_tabulates(tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    body = ('"""A toy lesson."""\nfrom metanumpy.lessons import Report, lesson_args\n'
            'args = lesson_args("{name}", __doc__)\nreport = Report(args)\n'
            'report.value("answer", {value}, "the answer", headline=True)\n'
            'report.accuracy("acc", (0.5, 0.01), "accuracy", headline=True)\nreport.save()\n')
    (folder / "02_second.py").write_text(body.format(name="02_second", value=2.5))
    (folder / "01_first.py").write_text(body.format(name="01_first", value=42))
    (folder / "03_broken.py").write_text('raise SystemExit("broken on purpose")\n')
    results = lessons.run_lessons(lessons.find_lessons(folder), out_root=tmp_path / "out")
    assert [r["lesson"] for r in results] == ["01_first", "02_second", "03_broken"]
    assert [r["ok"] for r in results] == [True, True, False]
    assert results[0]["summary"]["values"]["answer"] == 42
    table = lessons.summary_table(results)
    assert "answer 42, acc 50.0% ± 1.0" in table and "FAILED" in table
    assert [p.name for p in lessons.pick_lessons([2], folder)] == ["02_second.py"]
    with pytest.raises(ValueError, match="no lesson numbered 7"):
        lessons.pick_lessons([7], folder)


def test_lesson_args_defaults_and_flags():
    args = lessons.lesson_args("09_x", argv=["--seed", "3", "--fast", "--out", "somewhere"])
    assert (args.seed, args.fast, args.out, args.name) == (3, True, "somewhere", "09_x")
    default = lessons.lesson_args("09_x", argv=[])
    assert (default.seed, default.fast) == (0, False)
    assert Path(default.out) == lessons.LESSONS_DIR / "out" / "09_x"
    assert os.path.basename(default.out) == "09_x"
