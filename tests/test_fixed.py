"""Fixed-support episodes (tasks/fixed.py): your own support set and texts as one Episode."""

import numpy as np
import pytest

from metanumpy import tasks
from metanumpy.text import Vocab

SUPPORT = [("pos", "good great"), ("neg", "bad awful"), ("pos", "great fine"),
           ("pos", "lovely good"), ("neg", "awful poor")]


@pytest.fixture(scope="module")
def vocab():
    return Vocab.build([t for _, t in SUPPORT] + ["fine day"])


def test_support_is_regrouped_by_label_in_order_of_first_appearance(vocab):
    episode = tasks.fixed_episode(SUPPORT, ["good day", "poor thing", "fine"], vocab,
                                  query_labels=["pos", "neg", "pos"])
    assert episode.classes == ("pos", "neg") and episode.ways == 2
    assert episode.support_texts == ["good great", "great fine", "lovely good", "bad awful",
                                     "awful poor"]
    assert episode.support_labels.tolist() == [0, 0, 0, 1, 1]
    assert episode.query_labels.tolist() == [0, 1, 0]
    assert episode.query_texts == ["good day", "poor thing", "fine"]  # query order kept
    ids, mask = vocab.encode(episode.support_texts, 64)
    assert np.array_equal(episode.support_ids, ids) and np.array_equal(episode.support_mask, mask)
    assert episode.shots is None and episode.queries is None  # unbalanced: no single count


def test_explicit_class_order_and_unknown_query_labels(vocab):
    episode = tasks.fixed_episode(SUPPORT[:2], ["good", "bad"], vocab, classes=["neg", "pos"])
    assert episode.classes == ("neg", "pos") and episode.support_labels.tolist() == [0, 1]
    assert episode.support_texts == ["bad awful", "good great"]
    assert episode.query_labels.tolist() == [-1, -1]  # unknown answers
    assert (episode.shots, episode.queries) == (1, None)


@pytest.mark.parametrize("support, classes, message", [
    (SUPPORT, ["pos", "neg", "meh"], "support class 'meh' has no example"),
    (SUPPORT, ["pos"], "the support set has class 'neg', which is not among"),
    ([("pos", "good")], None, "at least two classes, got 1"),
])
def test_support_errors_name_the_class(vocab, support, classes, message):
    with pytest.raises(ValueError, match=message):
        tasks.fixed_episode(support, ["good"], vocab, classes=classes)


def test_query_errors(vocab):
    with pytest.raises(ValueError, match="query 2 has label 'meh', which is not a class of the "
                                         "support set"):
        tasks.fixed_episode(SUPPORT, ["good", "so so"], vocab, query_labels=["pos", "meh"])
    with pytest.raises(ValueError, match="no query texts"):
        tasks.fixed_episode(SUPPORT, [], vocab)


def test_read_queries_with_and_without_labels(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("\ufeffgood day\n\n  bad day  \r\n", encoding="utf-8")
    assert tasks.read_queries(path) == (["good day", "bad day"], None)
    path.write_text("pos\tgood day\nneg\tbad\tday\n", encoding="utf-8")
    assert tasks.read_queries(path) == (["good day", "bad\tday"], ["pos", "neg"])


@pytest.mark.parametrize("content, message", [
    ("", "holds no query texts"),
    ("\n  \n", "holds no query texts"),
    ("pos\tgood\nbad day\n", "line 1 is 'label<TAB>text' but line 2 has no label"),
    ("good\nneg\tbad day\n", "line 2 is 'label<TAB>text' but line 1 has no label"),
    ("pos\t \n", "line 1: empty text"),
    ("\tgood\n", "line 1: empty label"),
])
def test_read_queries_errors_name_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "q.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as err:
        tasks.read_queries(path)
    assert "q.txt" in str(err.value)


def test_targets_round_trip_with_exactly_five_shots(tmp_path):
    """write_targets / read_targets on the sentiment family: 5 support texts per class,
    the rest as the query, labels without the domain. No shots + queries check applies."""
    source = tasks.sentiment(seed=0, n_train=2, n_val=1, n_test=2, per_class=7)
    names = tasks.write_targets(source, tmp_path / "targets", shots=5)
    assert names == sorted({source.groups[c] for c in source.classes("test")})
    targets = tasks.read_targets(tmp_path / "targets")
    assert [t[0] for t in targets] == names
    name, support, texts, labels = targets[0]
    assert [y for y, _ in support] == ["negative"] * 5 + ["positive"] * 5
    assert labels == ["negative"] * 2 + ["positive"] * 2
    assert texts == source.splits["test"][f"{name}/negative"][5:] + \
        source.splits["test"][f"{name}/positive"][5:]
    with pytest.raises(ValueError, match="needs a grouped source"):
        tasks.write_targets(tasks.topics(seed=0), tmp_path / "t2")


def test_read_targets_errors(tmp_path):
    with pytest.raises(ValueError, match="missing folder"):
        tasks.read_targets(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no target sub-folders"):
        tasks.read_targets(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "support.tsv").write_text("pos\tgood\nneg\tbad\n", encoding="utf-8")
    (tmp_path / "a" / "query.tsv").write_text("good one\n", encoding="utf-8")
    with pytest.raises(ValueError, match="target queries need labels"):
        tasks.read_targets(tmp_path)
