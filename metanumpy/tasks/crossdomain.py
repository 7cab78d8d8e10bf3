"""Cross-domain transfer: meta-train on "news" topics, meta-test on "science" topics.

    source = tasks.crossdomain(seed=0)
    source.groups["..."]                  # "news" (meta-train) or "science" (meta-val/test)

The concept structure is the topic family's (see topics.py): same concepts, same kind of
topics. What changes between the domains is the *writing style*:

* other filler words ("reported", "officials" in news; "results", "observed" in science);
* science spells most concepts with a systematic suffix and sometimes a prefix: a news word
  "bakon" becomes "bakonic" or "neobakonic" (fraction `shift` of the concepts, default 0.8).

So a meta-learner whose vocabulary was built on the news split sees most science words as
<unk>: what it learnt about them is lost. Character n-grams ("<bak", "ako", "kon") still
carry the stem (the news word sharing most n-grams with a science word is its original 99%
of the time), so hashed n-gram features (`Vocab.build(..., ngram_buckets=...)`) give an
encoder a way across; whether it learns to take it is the experiment this family is for.
Raw bag-of-words needs no training and does about as well as on plain topics.

Knobs: `shift` [0.8], `prefix_rate` [0.3], plus every knob of `topics()` (synonyms, ...).
"""

import numpy as np

from .topics import Style, topics

NEWS_FILLERS = ("the", "said", "a", "of", "in", "to", "on", "and", "reported", "after",
                "officials", "yesterday", "new", "its", "week", "by", "at", "people", "was",
                "told")
SCIENCE_FILLERS = ("we", "results", "data", "show", "using", "method", "study", "analysis",
                   "observed", "model", "thus", "these", "via", "between", "significant",
                   "sample", "our", "which", "effect", "measured")
SUFFIXES = ("ic", "ase", "ism", "oid", "ate", "ium")
PREFIXES = ("neo", "micro", "proto", "hyper")


def scientific(lexicon, shift, seed, prefix_rate=0.3):
    """The lexicon in science style: for a fraction `shift` of the concepts, every word gets
    the concept's suffix, and with probability `prefix_rate` a prefix too. Deterministic in
    `seed`, so meta-val and meta-test share one science vocabulary."""
    rng = np.random.default_rng([seed, 1])          # its own stream, independent of the topics
    restyled = rng.random(len(lexicon)) < shift
    suffixes = rng.integers(len(SUFFIXES), size=len(lexicon))
    prefixes = rng.integers(len(PREFIXES), size=(len(lexicon), len(lexicon[0])))
    prefixed = rng.random((len(lexicon), len(lexicon[0]))) < prefix_rate
    taken = {w for words in lexicon for w in words}
    science = []
    for c, words in enumerate(lexicon):
        if not restyled[c]:
            science.append(words)
            continue
        new = []
        for i, word in enumerate(words):
            spelled = (PREFIXES[prefixes[c, i]] if prefixed[c, i] else "") + word
            spelled += SUFFIXES[suffixes[c]]
            while spelled in taken:                 # keep every surface word unique
                spelled += SUFFIXES[suffixes[c]]
            taken.add(spelled)
            new.append(spelled)
        science.append(tuple(new))
    return science


def crossdomain(seed=0, shift=0.8, prefix_rate=0.3, **topic_knobs):
    """The cross-domain family as a TextSource: news meta-train, science meta-val/test."""
    if not 0.0 <= shift <= 1.0:
        raise ValueError(f"shift must be a fraction in [0, 1], got {shift!r}")
    news = Style(NEWS_FILLERS, group="news")
    science = Style(SCIENCE_FILLERS, lambda lexicon: scientific(lexicon, shift, seed, prefix_rate),
                    group="science")
    styles = {"train": news, "val": science, "test": science}
    return topics(seed, styles=styles, name="crossdomain", **topic_knobs)
