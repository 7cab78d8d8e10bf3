"""Text to numbers (tokenizer, vocabulary, padded `ids` + `mask` batches) and the models that read them."""

from .classifier import TextClassifier, TextEmbedder
from .encoders import BagOfEmbeddings, ConvEncoder
from .tokenizer import Tokenizer, char_ngrams, hash_token
from .vocab import Vocab

__all__ = [
    "BagOfEmbeddings", "ConvEncoder", "TextClassifier", "TextEmbedder", "Tokenizer", "Vocab",
    "char_ngrams", "hash_token",
]
