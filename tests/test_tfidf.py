"""The strong training-free baseline: word + character n-gram tf-idf with corpus IDF."""

import math
import os
from pathlib import Path

import numpy as np
import pytest

from metanumpy.experiment import Experiment
from metanumpy.meta.baselines import BowNearestCentroid, TfidfNearestCentroid
from metanumpy.tasks import evaluate
from metanumpy.text.tfidf import LexicalFeatures

from test_bow_baseline import hand_episode


def test_features_drop_punctuation_and_take_ngrams_inside_words():
    bag = LexicalFeatures().bag("Cat, cat!")
    assert bag["w:cat"] == 2 and "w:," not in bag and "w:!" not in bag
    assert bag["c:<ca"] == 2 and bag["c:<cat>"] == 2
    assert not any(" " in f for f in bag)                 # no n-gram crosses a word boundary
    assert len(bag) == 1 + 6                              # the word and its six 3-5-grams


def test_idf_comes_from_the_corpus_by_hand():
    features = LexicalFeatures(ngram_range=(5, 5)).fit(["a cat", "a dog", "the cat sat"])
    assert features.n_texts == 3
    assert features.idf("w:a") == pytest.approx(math.log(4 / 3) + 1)      # in 2 of 3 texts
    assert features.idf("w:cat") == pytest.approx(math.log(4 / 3) + 1)
    assert features.idf("w:dog") == pytest.approx(math.log(4 / 2) + 1)    # in 1 of 3
    assert features.idf("w:zebra") == pytest.approx(math.log(4) + 1)      # never seen: largest
    # "dog!": the word "dog" (idf ln 2 + 1) and the n-gram "<dog>" (also in 1 text)
    (row,) = features.transform(["dog!"])
    assert set(row) == {"w:dog", "c:<dog>"}
    assert row["w:dog"] == pytest.approx(1 / math.sqrt(2))
    assert sum(w * w for w in row.values()) == pytest.approx(1.0)


def test_corpus_idf_decides_where_support_idf_cannot():
    # Within the episode every word occurs once, so support-set idf weighs "my" like "refund",
    # and the shorter support text wins the simple BoW's cosine. The corpus knows that "my" is
    # everywhere and "refund" is not, so the strong baseline follows "refund".
    corpus = [f"my {w}" for w in ("card", "account", "pin", "phone", "card is lost")]
    episode = hand_episode(["my card", "a refund for the order"], ["my refund"], [1])
    assert TfidfNearestCentroid().fit(corpus).predict(episode).tolist() == [1]
    assert BowNearestCentroid().predict(episode).tolist() == [0]


def test_ngrams_match_word_forms_the_simple_bow_misses():
    # no word in common with either class: the simple BoW sees two zero cosines (class 0)
    episode = hand_episode(["weather forecast", "booking flights"], ["book a flight"], [1])
    assert TfidfNearestCentroid().fit(["hello there"]).predict(episode).tolist() == [1]
    assert BowNearestCentroid().predict(episode).tolist() == [0]


def test_predict_before_fit_and_bad_input_are_clear():
    episode = hand_episode(["a", "b"], ["a"], [0])
    with pytest.raises(RuntimeError, match="fit"):
        TfidfNearestCentroid().predict(episode)
    with pytest.raises(TypeError, match="list of texts"):
        LexicalFeatures().fit("one text")
    with pytest.raises(ValueError, match="ngram_range"):
        LexicalFeatures(ngram_range=(4, 2))


def test_matrix_lays_the_rows_over_their_own_features():
    rows = [{"w:a": 0.6, "c:<a>": 0.8}, {"w:b": 1.0}]
    dense, columns = LexicalFeatures.matrix(rows)
    assert columns == ["w:a", "c:<a>", "w:b"]
    np.testing.assert_allclose(dense, [[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
    assert LexicalFeatures.cosine(rows[0], {"w:a": 2.0}) == pytest.approx(0.6)
    assert LexicalFeatures.cosine(rows[0], rows[1]) == 0.0
    assert LexicalFeatures.cosine({}, rows[1]) == 0.0


REAL_DATA = Path(os.environ.get("METANUMPY_REAL_DATA",
                                Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.mark.skipif(not (REAL_DATA / "clinc150").is_dir(),
                    reason=f"real development data not found at {REAL_DATA}/clinc150 "
                           "(set METANUMPY_REAL_DATA to the folder holding clinc150/)")
def test_strong_baseline_beats_simple_bow_on_real_intents():
    exp = Experiment(tasks=str(REAL_DATA / "clinc150"), ways=5, shots=5, seed=0)
    episodes = exp.episodes("test", 100)
    strong = evaluate(TfidfNearestCentroid().fit(exp.source.texts("train")).predict, episodes)
    simple = evaluate(BowNearestCentroid().predict, episodes)
    # measured on 600 episodes: 91.2% vs 85.8% (README, "Real text")
    assert strong.mean > 0.88 and strong.mean > simple.mean + 0.03
