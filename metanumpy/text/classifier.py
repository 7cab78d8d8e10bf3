"""The two models every algorithm trains: a text classifier and a text embedder.

* `TextClassifier`: encoder -> Linear -> ReLU -> Linear -> logits. MAML, Reptile and the
  fine-tuning baselines adapt it; with the defaults it is exactly the benchmark model,
  Embedding(V, D) -> masked mean -> Linear(D, H) -> ReLU -> Linear(H, N).
* `TextEmbedder`: encoder -> Linear, and *no* final ReLU. ProtoNet and Matching Networks
  compare these vectors by distance or cosine; a ReLU would make every cosine non-negative
  (all in [0, 1]), squash the attention towards uniform and stall training.
"""

from ..nn import Linear, Module, ReLU, Sequential
from ..nn.init import generator
from .encoders import make_encoder


class TextClassifier(Module):
    """(ids, mask) -> logits (batch, n_classes). `encoder`: "bag", "conv" or a Module."""

    def __init__(self, vocab_size, n_classes, dim=64, hidden=64, encoder="bag", seed=0):
        super().__init__()
        rng = generator(seed)
        self.encoder = make_encoder(encoder, vocab_size, dim, rng)
        self.head = Sequential(
            Linear(self.encoder.out_dim, hidden, rng=rng),
            ReLU(),
            Linear(hidden, n_classes, rng=rng),
        )
        self.out_dim = n_classes

    def features(self, ids, mask):
        """The encoder's output (batch, encoder.out_dim)."""
        return self.encoder(ids, mask)

    def forward(self, ids, mask):
        return self.head(self.features(ids, mask))


class TextEmbedder(Module):
    """(ids, mask) -> embeddings (batch, out_dim) for metric-based meta-learners."""

    def __init__(self, vocab_size, dim=64, out_dim=64, encoder="bag", seed=0):
        super().__init__()
        rng = generator(seed)
        self.encoder = make_encoder(encoder, vocab_size, dim, rng)
        self.project = Linear(self.encoder.out_dim, out_dim, rng=rng)
        self.out_dim = out_dim

    def forward(self, ids, mask):
        return self.project(self.encoder(ids, mask))
