"""Accuracy, precision, recall and the confusion matrix, against counts done by hand."""

import numpy as np
import pytest

from metanumpy.report import classification_report


def test_numbers_match_a_hand_count(tmp_path):
    true = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "b", "a", "b", "a", "b"]
    report = classification_report(true, pred, ("a", "b", "c"))
    assert report.confusion.tolist() == [[2, 1, 0], [1, 1, 0], [0, 1, 0]]
    assert report.accuracy == pytest.approx(3 / 6)
    assert report.majority == pytest.approx(3 / 6)
    # precision: a called 3 times, 2 right; b called 3 times, 1 right; c never called
    assert np.allclose(report.precision[:2], [2 / 3, 1 / 3]) and np.isnan(report.precision[2])
    assert np.allclose(report.recall, [2 / 3, 1 / 2, 0.0])
    text = str(report)
    assert "accuracy 50.00% on 6 labelled queries" in text
    assert "c                  -    0.0%      1" in text  # no precision to compute for c
    png = report.save_png(str(tmp_path / "cm.png"))
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG" and png.endswith("cm.png")


def test_errors():
    with pytest.raises(ValueError, match="2 true labels but 1 predictions"):
        classification_report(["a", "b"], ["a"], ("a", "b"))
    with pytest.raises(ValueError, match="label 'z' is not one of the classes"):
        classification_report(["a", "z"], ["a", "a"], ("a", "b"))
    with pytest.raises(ValueError, match="no labelled examples"):
        classification_report([], [], ("a", "b"))
