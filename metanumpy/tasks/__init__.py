"""Few-shot text tasks: built-in toy families, real data, episodes and evaluation.

    from metanumpy import tasks
    source = tasks.load("topics", seed=0)          # or "sentiment", "crossdomain", a path
    vocab = Vocab.build(source.texts("train"))     # from the meta-training split only
    sampler = tasks.EpisodeSampler(source, "train", ways=5, shots=1, queries=15, vocab=vocab)
    test = tasks.fixed_episodes(source, "test", 5, 1, 15, vocab, n=600)
    print(tasks.evaluate(model.predict, test))     # 62.40% ± 0.85%

Files: source.py (the TextSource every task is), language.py (the generative language of
the toy tasks), topics.py, sentiment.py, crossdomain.py (the three families), loaders.py
(your own .tsv/.jsonl data), episodes.py (N-way K-shot sampling), fixed.py (your own support
set and query texts as one episode), evaluate.py (mean ± 95% CI).
"""

from .crossdomain import crossdomain
from .episodes import Episode, EpisodeSampler, fixed_episodes
from .evaluate import EvalResult, confidence_interval, evaluate
from .fixed import fixed_episode, read_queries, read_support, read_targets, write_targets
from .loaders import FAMILIES, load, load_file, load_folder
from .sentiment import sentiment
from .source import SPLITS, TextSource
from .topics import topics

__all__ = [
    "FAMILIES", "SPLITS", "Episode", "EpisodeSampler", "EvalResult", "TextSource",
    "confidence_interval", "crossdomain", "evaluate", "fixed_episode", "fixed_episodes", "load",
    "load_file", "load_folder", "read_queries", "read_support", "read_targets", "sentiment",
    "topics", "write_targets",
]
