"""Use a trained learner on your own task: adapt on a support set you give, classify texts.

    from metanumpy.run import load_run
    run = load_run("runs/protonet-sentiment-2w5s-seed0")     # settings, vocabulary, best.npz
    support = [("positive", "great kettle, boils fast"), ("negative", "it leaks"), ...]
    result = run.predict(support, ["lovely and quiet", "the lid broke"])
    result.labels                   # ['positive', 'negative']: one class name per text
    result.probabilities            # (2, 2): softmax of the learner's query logits
    result.report(true_labels)      # accuracy, precision / recall per class, confusion matrix

The support set is fixed (any number of examples per class, unbalanced allowed) and the
texts are its queries: `run.episode(...)` builds one `Episode` from them, and the predictions
are exactly `learner.predict(episode)` (argmax of `learner.query_logits(episode)`), the same
path as evaluation on sampled episodes. The run folder holds everything (settings.json,
vocab.txt, best.npz); only a run with the lexical encoder also reads its training data again,
for the idf weights it was built with.

MAML, FOMAML and Reptile with a learned head adapt a classifier with one output per class
of the episodes it was trained on (`train --ways N`): their support set must have exactly N
classes. ProtoNet, Matching Networks, and MAML, FOMAML and Reptile with the prototype head
(`--head prototypes`, their default with `--encoder lexical`) take any number (two or more).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import backend as B, checkpoint, runfolder
from .experiment import ALGO_DEFAULTS, Experiment, Settings
from .meta import make_learner
from .report import classification_report
from .tasks import fixed_episode
from .text import TextClassifier, Vocab


@dataclass
class Predictions:
    """classes: names in label order; labels: one predicted class name per text;
    probabilities: (n_texts, n_classes) host array, rows sum to 1."""

    texts: list
    classes: tuple
    labels: list
    probabilities: np.ndarray

    def report(self, true_labels):
        """A ClassificationReport (report.py) of these predictions against `true_labels`."""
        return classification_report([str(y) for y in true_labels], self.labels, self.classes)

    def to_tsv(self):
        """`label<TAB>p(class 0)<TAB>...<TAB>text` lines, after a header naming the columns."""
        header = "\t".join(["label", *(f"p({c})" for c in self.classes), "text"])
        rows = ["\t".join([y, *(f"{p:.4f}" for p in probs), t])
                for y, probs, t in zip(self.labels, self.probabilities, self.texts)]
        return "\n".join([header, *rows]) + "\n"


def softmax(logits):
    """Row-wise softmax of host logits (n, k), computed stably."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class TrainedRun:
    """A learner with its trained weights, vocabulary and settings, from a run folder."""

    def __init__(self, folder, settings, algo, learner, vocab):
        self.folder, self.settings, self.algo = folder, settings, algo
        self.learner, self.vocab = learner, vocab

    @property
    def fixed_ways(self):
        """The number of classes the learner's head needs, or None if it takes any."""
        return self.settings.ways if isinstance(self.learner.model, TextClassifier) else None

    def episode(self, support, texts, classes=None, query_labels=None):
        """The Episode of a fixed support set and query texts (see tasks/fixed.py)."""
        ep = fixed_episode(support, texts, self.vocab, self.settings.max_len, classes,
                           query_labels)
        if self.fixed_ways is not None and ep.ways != self.fixed_ways:
            raise ValueError(
                f"the support set has {ep.ways} classes ({', '.join(ep.classes)}), but {self.algo} "
                f"in {self.folder} was trained {self.fixed_ways}-way: its classifier head has "
                f"{self.fixed_ways} outputs. Give exactly {self.fixed_ways} classes, or train a "
                f"{ep.ways}-way run (`train --ways {ep.ways}`); protonet, matching and a "
                "prototype head (`--head prototypes`) take any number of classes")
        return ep

    def predict(self, support, texts, classes=None):
        """Adapt on `support` [(label, text), ...] and classify `texts`: a Predictions."""
        ep = self.episode(support, texts, classes)
        logits = np.asarray(B.to_numpy(self.learner.query_logits(ep).data), dtype=np.float64)
        predicted = logits.argmax(axis=-1)  # what learner.predict(ep) returns
        return Predictions(list(ep.query_texts), ep.classes,
                           [ep.classes[k] for k in predicted], softmax(logits))

    def __repr__(self):
        s = self.settings
        return (f"TrainedRun({str(self.folder)!r}: {self.algo} on {s.tasks}, {s.ways}-way "
                f"{s.shots}-shot, vocabulary {len(self.vocab)})")


def load_run(folder, weights="best.npz"):
    """The TrainedRun of a folder written by `python -m metanumpy train --out FOLDER`.

    weights: the file in the folder to load, best.npz (best on validation) or checkpoint.npz.
    """
    folder = Path(folder)
    saved = runfolder.read(folder)
    if saved is None:
        raise ValueError(f"{folder / runfolder.SETTINGS_FILE} not found: is {folder} a folder "
                         "made by `python -m metanumpy train --out ...`?")
    settings, algo = Settings(**saved["settings"]), saved["algo"]
    if settings.encoder == "lexical":  # its idf comes from the meta-training text: needs the data
        exp, algo, options = Experiment.load(folder)
        learner, vocab = exp.learner(algo, **options), exp.vocab
    else:
        vocab = Vocab.load(folder / "vocab.txt")
        options = {**ALGO_DEFAULTS.get(algo, {}), **runfolder.run_options(saved)}
        learner = make_learner(algo, len(vocab), settings.ways, dim=settings.dim,
                               hidden=settings.hidden, encoder=settings.encoder,
                               seed=settings.seed, **options)
    if not (folder / weights).is_file():
        raise ValueError(f"{folder / weights} not found: has the run in {folder} been "
                         "validated at least once?")
    learner.load_state_dict(checkpoint.load(folder / weights)["learner"])
    return TrainedRun(folder, settings, algo, learner, vocab)
