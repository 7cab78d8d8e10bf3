"""Everything an experiment needs, from one set of settings: tasks, vocabulary, episodes, learner.

    exp = Experiment(tasks="topics", ways=5, shots=1, seed=0)
    learner = exp.learner("protonet")
    history = train(learner, exp.sampler(), exp.episodes("val", 100), steps=500)
    print(evaluate(learner.predict, exp.episodes("test", 600)))

The command line, the lessons and the results tables all build their runs here, so that the
same settings always mean the same data, the same vocabulary and the same episodes.
The vocabulary is built from the meta-training split only: meta-test words the encoder never
saw map to <unk> (or, with `ngram_buckets`, still get character n-gram features).
"""

import dataclasses
import os

from . import runfolder, tasks
from .meta import make_learner, uses_embedder
from .text import Vocab

ALGO_DEFAULTS = {
    "maml": dict(inner_lr=0.5, inner_steps=3, outer_lr=3e-3),
    "fomaml": dict(inner_lr=0.5, inner_steps=3, outer_lr=3e-3),
    "reptile": dict(inner_optimizer="adam", inner_lr=3e-2, inner_steps=5, eval_inner_steps=10,
                    outer_lr=1.0),
    "matching": dict(outer_lr=3e-3),
    "protonet": dict(outer_lr=3e-3),
}
"""Per-algorithm defaults (learning rates and inner steps) used when a setting is not given."""

LEXICAL_DEFAULTS = {"protonet": dict(distance="cosine"),
                    **{a: dict(head="prototypes") for a in ("maml", "fomaml", "reptile")}}
"""With `encoder="lexical"`: a cosine learner starts as the tf-idf baseline (text/features.py);
MAML and Reptile get a head that starts at the support set's prototypes, so they start there
too (meta/protohead.py)."""

LEXICAL_HEAD_DEFAULTS = {"maml": dict(distance="cosine", inner_lr=2.0),
                         "fomaml": dict(distance="cosine", inner_lr=2.0),
                         "reptile": dict(distance="cosine")}
"""With the lexical encoder and that head: cosine prototypes, like the baseline. The head then
has length 10 over unit features, so MAML's inner step must be larger to move it. Measured on
two real intent sets at 5-shot before any meta-training (200 episodes, first-order MAML): from
the prototypes' 86.8% and 90.9%, 3 steps of 0.5 gave +0.1 and +0.0 points, 3 steps of 2
(these defaults) +0.2 and +0.0, 10 steps of 2 +0.5 and +0.2."""


@dataclasses.dataclass
class Settings:
    tasks: str = "topics"
    ways: int = 5
    shots: int = 1
    queries: int = 15
    seed: int = 0
    max_len: int = 48
    ngram_buckets: int = 0
    dim: int = 64
    hidden: int = 64
    encoder: str = "bag"
    min_count: int = 1
    max_vocab: int = None

    def to_dict(self):
        return dataclasses.asdict(self)


class Experiment:
    """A task source, its vocabulary, and seeded episode samplers for one setting."""

    def __init__(self, settings=None, vocab=None, **overrides):
        self.settings = dataclasses.replace(settings or Settings(), **overrides)
        s = self.settings
        self.source = tasks.load(s.tasks, seed=s.seed)
        self.vocab = vocab or Vocab.build(self.source.texts("train"), min_count=s.min_count,
                                          max_size=s.max_vocab, ngram_buckets=s.ngram_buckets,
                                          max_len=s.max_len)

    def check_episodes(self):
        """ValueError naming the split unless every split (train, val, test) can give
        episodes of these ways, shots and queries: checked before any training starts."""
        s = self.settings
        for split in tasks.SPLITS:
            tasks.EpisodeSampler(self.source, split, s.ways, s.shots, s.queries, self.vocab,
                                 max_len=s.max_len)

    def sampler(self, split="train", seed=None):
        """A seeded sampler of random episodes (meta-training draws from it)."""
        s = self.settings
        return tasks.EpisodeSampler(self.source, split, s.ways, s.shots, s.queries, self.vocab,
                                    max_len=s.max_len, seed=s.seed if seed is None else seed)

    def episodes(self, split, n, seed=None):
        """A fixed list of n episodes: every algorithm is evaluated on the same ones."""
        s = self.settings
        seed = 10_000 + s.seed if seed is None else seed
        return tasks.fixed_episodes(self.source, split, s.ways, s.shots, s.queries, self.vocab,
                                    n=n, seed=seed, max_len=s.max_len)

    def options(self, algo, **options):
        """Every option `algo` will run with: its defaults for this encoder, overridden by
        `options`. A run folder records these, so later changes of a default cannot change
        what a saved run means."""
        defaults = dict(ALGO_DEFAULTS.get(algo, {}))
        if self.settings.encoder == "lexical":
            defaults.update(LEXICAL_DEFAULTS.get(algo, {}))
            if {**defaults, **options}.get("head") == "prototypes":
                defaults.update(LEXICAL_HEAD_DEFAULTS.get(algo, {}))
        return {**defaults, **options}

    def learner(self, algo, **options):
        """A meta-learner with the algorithm's default options, overridden by `options`."""
        s = self.settings
        merged = self.options(algo, **options)
        model = None
        if s.encoder == "lexical":  # idf from the meta-training text: see text/features.py
            from .text.features import lexical_model

            model = lexical_model(uses_embedder(algo, merged.get("head", "learned")),
                                  self.vocab, self.source.texts("train"), s.ways, s.dim,
                                  s.hidden, s.seed, s.max_len)
        return make_learner(algo, len(self.vocab), s.ways, dim=s.dim, hidden=s.hidden,
                            encoder=s.encoder, seed=s.seed, model=model, **merged)

    # --- run folders ----------------------------------------------------------------------
    def record(self, out_dir, algo, options, training=None, init=None, path=None):
        """What settings.json will hold for a run of `algo` in `out_dir` (see runfolder.py);
        path: the computation path it runs on, "reference" or "fast" (None: not recorded)."""
        return runfolder.make_record(out_dir, self.settings.to_dict(), algo, options,
                                     training, init, resolved=self.options(algo, **options),
                                     path=path)

    def save(self, out_dir, algo, options, record=None):
        """Write settings.json and vocab.txt so `evaluate` can rebuild this experiment."""
        os.makedirs(out_dir, exist_ok=True)
        self.vocab.save(os.path.join(out_dir, "vocab.txt"))
        runfolder.write(out_dir, record or self.record(out_dir, algo, options))

    @classmethod
    def load(cls, out_dir, data=None):
        """(experiment, algo, options) from a run folder written by `save`; options are every
        option the run trained with (`runfolder.run_options`).

        data: where the run's data is now, if it moved (default: where settings.json says).
        """
        saved = runfolder.read(out_dir)
        if saved is None:
            raise FileNotFoundError(f"{os.path.join(out_dir, runfolder.SETTINGS_FILE)} not found: "
                                    f"is {out_dir} a folder made by `python -m metanumpy train "
                                    "--out ...`?")
        location = data or runfolder.data_location(saved, out_dir)
        if saved.get("data") and not os.path.exists(location):
            raise FileNotFoundError(f"the data of the run {out_dir} was at {location}, which does "
                                    "not exist now; if it moved, say where with --data")
        settings = {**saved["settings"], "tasks": location}
        known = {f.name for f in dataclasses.fields(Settings)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"{out_dir}/settings.json: unknown settings {unknown} (made by a "
                             "newer metanumpy?)")
        vocab = Vocab.load(os.path.join(out_dir, "vocab.txt"))
        return cls(Settings(**settings), vocab=vocab), saved["algo"], runfolder.run_options(saved)
