"""Topic classification with unseen classes: the main built-in few-shot task.

    source = tasks.topics(seed=0)         # 64 meta-train, 16 meta-val, 20 meta-test topics
    print(source.describe())

A topic is a sparse mixture of latent concepts (see language.py): `concepts_per_topic` core
concepts with Dirichlet weights, of which `shared_per_topic` come from a small pool of
`n_shared` common concepts that many topics use (the overlap that makes topics confusable).
A sentence of a topic is a bag of tokens, each of them

    a filler word ("the", "of", ...)        with probability filler_rate,
    a word of a random concept (noise)      with probability noise_rate,
    a synonym of one of the topic's concepts otherwise (at least one per sentence).

Why meta-learning helps: every concept has `synonyms` surface words, so a query and its one
support sentence usually share a concept but rarely the same word. Raw bag-of-words nearest
centroid is poor at 5-way 1-shot (about 41%), while an encoder that learnt on the 64
meta-train topics which words go together matches concepts instead of words (mapping each
word to its true concept would give about 95%). Every concept of a meta-val or meta-test
topic is also a core concept of some meta-train topic, so that knowledge transfers, although
the test topics themselves are never seen.

Difficulty knobs (defaults in brackets): synonyms [12] (more synonyms: fewer shared words),
concepts_per_topic [5], shared_per_topic [1] and n_shared [12] (overlap between topics),
concentration [5.0] (Dirichlet parameter of the concept weights; small: one dominant
concept, easier), filler_rate [0.35], noise_rate [0.1], length [(6, 12)] tokens per
sentence, per_class [80] sentences per topic, n_concepts [240].
`styles` ({split: Style}) lets a split write differently (other fillers, restyled words) and
`name` renames the source; crossdomain.py uses both, plain topics never need them.
"""

from dataclasses import dataclass

import numpy as np

from .language import (
    SentenceModel, WordMixture, check_count, concept_sets, generated_source, make_lexicon,
)
from .source import SPLITS

FILLERS = ("the", "of", "and", "a", "to", "in", "is", "that", "for", "it", "was", "on",
           "with", "as", "at", "by", "this", "from", "but", "all")


@dataclass(frozen=True)
class Style:
    """How a split writes: its filler words, optionally `restyle(lexicon) -> lexicon`, which
    gives every concept new surface words (same concepts, other spellings), and the group
    name its classes get (`source.groups`)."""

    fillers: tuple = FILLERS
    restyle: object = None
    group: str = None


def topic_model(lexicon, concepts, weights, fillers, noise, filler_rate, noise_rate, length):
    """The SentenceModel of one topic: fillers, noise, and the topic's own concept words."""
    topic_rate = 1.0 - filler_rate - noise_rate
    if filler_rate < 0 or noise_rate < 0 or topic_rate <= 0:
        raise ValueError(f"filler_rate ({filler_rate}) and noise_rate ({noise_rate}) must be "
                         ">= 0 and leave room for topic words (sum < 1)")
    topic = WordMixture.of_concepts(lexicon, concepts, weights)
    parts = ((filler_rate, fillers), (noise_rate, noise), (topic_rate, topic))
    return SentenceModel(parts, tuple(length), required=2)


def topic_layout(rng, n_topics, n_train, n_concepts, concepts_per_topic, shared_per_topic,
                 n_shared, concentration):
    """Core concepts and their weights for `n_topics` topics, the first `n_train` meta-train.

    Concepts 0..n_shared-1 are the shared pool; the others are specific. The meta-train topics
    cycle through all specific concepts; the other topics only use concepts that some
    meta-train topic uses, so nothing in meta-val/meta-test is new at the concept level.
    """
    specific = concepts_per_topic - shared_per_topic
    if specific < 1 or shared_per_topic < 0:
        raise ValueError(f"need 0 <= shared_per_topic ({shared_per_topic}) < "
                         f"concepts_per_topic ({concepts_per_topic})")
    if n_shared < shared_per_topic or n_concepts - n_shared < specific:
        raise ValueError(f"n_concepts={n_concepts} with n_shared={n_shared} is too small for "
                         f"{shared_per_topic} shared + {specific} specific concepts per topic")
    train_sets = concept_sets(rng, n_train, range(n_shared, n_concepts), specific)
    covered = sorted({c for s in train_sets for c in s})
    other_sets = concept_sets(rng, n_topics - n_train, covered, specific)
    shared_sets = concept_sets(rng, n_topics, range(n_shared), shared_per_topic)
    cores = [shared + own for shared, own in zip(shared_sets, train_sets + other_sets)]
    weights = rng.dirichlet(np.full(concepts_per_topic, float(concentration)), size=n_topics)
    return cores, weights


def topic_name(lexicon, concepts, weights, taken):
    """A readable class name: the first words of the topic's two heaviest concepts.

    Two topics can share their two heaviest concepts; the later one gets a number ("-2").
    """
    heaviest = np.argsort(-weights, kind="stable")[:2]
    name = base = "-".join(lexicon[concepts[i]][0] for i in heaviest)
    number = 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def topics(seed=0, n_train=64, n_val=16, n_test=20, per_class=80, n_concepts=240, synonyms=12,
           concepts_per_topic=5, shared_per_topic=1, n_shared=12, concentration=5.0,
           filler_rate=0.35, noise_rate=0.1, length=(6, 12), styles=None, name="topics"):
    """The topic family as a TextSource: class-disjoint topics, `per_class` sentences each."""
    counts = [check_count(f"n_{s}", n) for s, n in zip(SPLITS, (n_train, n_val, n_test))]
    styles = {s: (styles or {}).get(s, Style()) for s in SPLITS}
    rng = np.random.default_rng(seed)
    all_fillers = [w for s in SPLITS for w in styles[s].fillers]
    lexicon = make_lexicon(rng, check_count("n_concepts", n_concepts),
                           check_count("synonyms", synonyms), taken=all_fillers)
    cores, weights = topic_layout(rng, sum(counts), n_train, n_concepts,
                                  check_count("concepts_per_topic", concepts_per_topic),
                                  shared_per_topic, n_shared, concentration)
    models, groups, start = {}, {}, 0
    for split, count in zip(SPLITS, counts):
        style = styles[split]
        words = lexicon if style.restyle is None else style.restyle(lexicon)
        fillers = WordMixture.zipf(style.fillers)
        noise = WordMixture.of_concepts(words, range(n_concepts))
        models[split] = {}
        for core, w in zip(cores[start:start + count], weights[start:start + count]):
            topic = topic_name(words, core, w, groups)
            groups[topic] = style.group
            models[split][topic] = topic_model(words, core, w, fillers, noise, filler_rate,
                                               noise_rate, length)
        start += count
    return generated_source(name, models, per_class, rng, groups)
