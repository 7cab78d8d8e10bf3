"""Review sentiment across product domains: 2-way episodes inside one unseen domain.

    source = tasks.sentiment(seed=0)
    source.classes("test")        # ['bikes/negative', 'bikes/positive', ...]
    source.groups["bikes/positive"]               # 'bikes': episodes stay inside a domain

Each product domain is a group of two classes, "<domain>/positive" and "<domain>/negative".
A review of a domain mixes four kinds of words:

* aspect words: the domain's own concepts (`aspects` of them, `synonyms` pseudo-words each),
  used alike by both classes, so they tell the domain, not the label;
* general sentiment words, shared by every domain: "good", "great", "superb", ... against
  "bad", "awful", "lousy", ... (`sentiment_words` of each);
* domain-specific polarity words: antonym pairs such as long/short. A domain picks
  `modifier_pairs` pairs and decides which word of each pair is good, so "long" praises one
  domain (battery life) and blames another (waiting time);
* fillers ("the", "it", "really") and, with probability `noise_rate` per token, a polarity
  word of the *other* class (mixed reviews).

Why meta-learning helps: the general sentiment words have many synonyms, which a learner can
pick up on the meta-train domains, while raw bag-of-words only matches the exact words of
the support set. The domain-specific words cannot be learnt once and for all (their
polarity flips from domain to domain): they must be read from the support set, which is
exactly what fast adaptation (MAML's inner loop, a prototype) does. Meta-test domains never
appear in meta-training.

Difficulty knobs (defaults in brackets): n_train/n_val/n_test domains [40/10/10],
per_class [80], aspects [4], synonyms [6] per aspect, sentiment_words [10] per polarity (at
most 10), modifier_pairs [3], specific_share [0.4] (share of polarity tokens that are
domain-specific), filler_rate [0.4], aspect_rate [0.3], noise_rate [0.05], length [(6, 12)].
"""

import numpy as np

from .language import SentenceModel, WordMixture, check_count, generated_source, make_lexicon
from .source import SPLITS

POSITIVE = ("good", "great", "excellent", "superb", "lovely", "wonderful", "perfect",
            "fantastic", "pleasant", "brilliant")
NEGATIVE = ("bad", "poor", "awful", "terrible", "lousy", "horrible", "dreadful",
            "disappointing", "annoying", "useless")
MODIFIER_PAIRS = (("long", "short"), ("fast", "slow"), ("heavy", "light"), ("loud", "quiet"),
                  ("big", "small"), ("hot", "cold"), ("bright", "dark"), ("soft", "hard"),
                  ("thick", "thin"), ("high", "low"), ("sweet", "bitter"), ("sharp", "dull"),
                  ("simple", "complex"), ("fresh", "old"), ("wide", "narrow"),
                  ("deep", "shallow"), ("tight", "loose"), ("warm", "cool"),
                  ("early", "late"), ("strong", "mild"))
FILLERS = ("the", "it", "i", "this", "was", "is", "and", "my", "a", "very", "really", "but",
           "so", "with", "for", "after", "of", "to", "they", "just")
PRODUCTS = ("backpacks", "banks", "batteries", "bikes", "blenders", "books", "cameras", "cars",
            "chairs", "chocolate", "cinemas", "coffee", "dentists", "desks", "drones", "flights",
            "games", "gardens", "gyms", "headphones", "hotels", "jackets", "kettles",
            "keyboards", "lamps", "laptops", "mattresses", "monitors", "movies", "museums",
            "music", "ovens", "paint", "perfume", "phones", "plumbers", "printers",
            "restaurants", "routers", "salons", "shampoo", "shoes", "sofas", "spas",
            "speakers", "strollers", "sunscreen", "tablets", "taxis", "tea", "tents",
            "toasters", "tools", "toys", "trains", "umbrellas", "vacuums", "watches", "wine",
            "fridges")


def domain_names(rng, n):
    """`n` product names in random order ("kettles"); beyond the list, "kettles-2", ..."""
    order = rng.permutation(len(PRODUCTS))
    return [PRODUCTS[order[i % len(PRODUCTS)]] + (f"-{i // len(PRODUCTS) + 1}"
                                                  if i >= len(PRODUCTS) else "")
            for i in range(n)]


def polarity_words(rng, modifier_pairs):
    """A domain's (good words, bad words) from `modifier_pairs` randomly oriented pairs."""
    pairs = rng.choice(len(MODIFIER_PAIRS), size=modifier_pairs, replace=False)
    flips = rng.integers(2, size=modifier_pairs)
    good = [MODIFIER_PAIRS[p][f] for p, f in zip(pairs, flips)]
    bad = [MODIFIER_PAIRS[p][1 - f] for p, f in zip(pairs, flips)]
    return good, bad


def sentiment(seed=0, n_train=40, n_val=10, n_test=10, per_class=80, aspects=4, synonyms=6,
              sentiment_words=10, modifier_pairs=3, specific_share=0.4, filler_rate=0.4,
              aspect_rate=0.3, noise_rate=0.05, length=(6, 12)):
    """The sentiment family as a TextSource: 2 classes per domain, episodes inside a domain."""
    counts = [check_count(f"n_{s}", n) for s, n in zip(SPLITS, (n_train, n_val, n_test))]
    if not 1 <= sentiment_words <= len(POSITIVE):
        raise ValueError(f"sentiment_words must be in 1..{len(POSITIVE)}, got {sentiment_words}")
    if not 1 <= modifier_pairs <= len(MODIFIER_PAIRS):
        raise ValueError(f"modifier_pairs must be in 1..{len(MODIFIER_PAIRS)}, "
                         f"got {modifier_pairs}")
    polarity_rate = 1.0 - filler_rate - aspect_rate - noise_rate
    if min(filler_rate, aspect_rate, noise_rate) < 0 or polarity_rate <= 0:
        raise ValueError(f"filler_rate, aspect_rate and noise_rate must be >= 0 and sum to "
                         f"less than 1 (room for sentiment words), got {filler_rate}, "
                         f"{aspect_rate}, {noise_rate}")
    if not 0.0 <= specific_share <= 1.0:
        raise ValueError(f"specific_share must be a fraction in [0, 1], got {specific_share!r}")
    rng = np.random.default_rng(seed)
    n_domains = sum(counts)
    english = POSITIVE + NEGATIVE + FILLERS + tuple(w for p in MODIFIER_PAIRS for w in p)
    lexicon = make_lexicon(rng, n_domains * check_count("aspects", aspects),
                           check_count("synonyms", synonyms), taken=english)
    general = {"positive": WordMixture.uniform(POSITIVE[:sentiment_words]),
               "negative": WordMixture.uniform(NEGATIVE[:sentiment_words])}
    fillers = WordMixture.zipf(FILLERS)
    split_of = [s for s, n in zip(SPLITS, counts) for _ in range(n)]
    models, groups = {s: {} for s in SPLITS}, {}
    for d, (domain, split) in enumerate(zip(domain_names(rng, n_domains), split_of)):
        aspect_words = WordMixture.of_concepts(lexicon, range(d * aspects, (d + 1) * aspects))
        good, bad = polarity_words(rng, check_count("modifier_pairs", modifier_pairs))
        polarity = {label: WordMixture.combine([(1.0 - specific_share, general[label]),
                                                (specific_share, WordMixture.uniform(words))])
                    for label, words in (("positive", good), ("negative", bad))}
        for label, other in (("positive", "negative"), ("negative", "positive")):
            parts = ((filler_rate, fillers), (aspect_rate, aspect_words),
                     (polarity_rate, polarity[label]), (noise_rate, polarity[other]))
            models[split][f"{domain}/{label}"] = SentenceModel(parts, tuple(length), required=2)
            groups[f"{domain}/{label}"] = domain
    return generated_source("sentiment", models, per_class, rng, groups, group_episodes=True)
