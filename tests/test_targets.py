"""The fixed-support protocol: per-task accuracy, mean over tasks, the majority-class line."""

import pytest

from metanumpy.targets import score_targets

SUPPORT = [("pos", "good"), ("pos", "fine"), ("neg", "bad")]  # unbalanced on purpose
TARGETS = [  # (name, support, query texts, query labels): imbalanced queries
    ("a", SUPPORT, ["t1", "t2", "t3", "t4"], ["pos", "pos", "pos", "neg"]),
    ("b", SUPPORT, ["u1", "u2", "u3"], ["neg", "neg", "pos"]),
]
ANSWERS = {("t1", "t2", "t3", "t4"): ["pos", "pos", "neg", "neg"],
           ("u1", "u2", "u3"): ["pos", "pos", "pos"]}


def fixed_answers(support, texts):
    assert support == SUPPORT  # the target's own support set is passed through
    return ANSWERS[tuple(texts)]


def test_per_task_numbers_equal_a_hand_computation():
    results = score_targets(fixed_answers, TARGETS)
    # a: 3 of 4 right; majority class pos = 3/4.  b: 1 of 3 right; majority neg = 2/3.
    assert results.accuracies.tolist() == pytest.approx([3 / 4, 1 / 3])
    assert results.majorities.tolist() == pytest.approx([3 / 4, 2 / 3])
    assert results.mean == pytest.approx((3 / 4 + 1 / 3) / 2)  # tasks weigh the same
    assert results.support_sizes == [3, 3]
    assert results.reports[0].classes == ("pos", "neg")
    assert results.reports[0].confusion.tolist() == [[2, 1], [0, 1]]
    assert results.below_majority == ["b"]  # a ties its majority line: not below it
    text = str(results)
    assert "mean over 2 target tasks: accuracy 54.17%, majority class 70.83%" in text
    assert "warning: below the majority-class line on 1 of 2 tasks (b)" in text
    assert text.splitlines()[2].endswith("< majority") and "<" not in text.splitlines()[1]


def test_a_query_label_outside_the_support_names_the_target():
    bad = [("c", SUPPORT, ["v1"], ["meh"])]
    with pytest.raises(ValueError, match="target 'c': query 1 has label 'meh'"):
        score_targets(fixed_answers, bad)
    with pytest.raises(ValueError, match="no target tasks"):
        score_targets(fixed_answers, [])
