"""Bad input and misuse of the command line: each is one clear line and an exit status.

Every row of `CASES` is a command (argv, with {data}, {run}, {new} and {tmp} filled in), the
exit status it must give and the start of the first line it must print on stderr. No row may
print a traceback, and a failed `train` must leave its --out folder untouched (or unmade).
The commands run in-process through `cli.console`, the function `python -m metanumpy` calls.
"""

import re
import shutil

import numpy as np
import pytest

from metanumpy.cli import console

SMALL = ["--ways", "3", "--shots", "1", "--queries", "2", "--dim", "8", "--hidden", "8",
         "--val-episodes", "2", "--test-episodes", "2", "--eval-every", "1", "--log-every", "1"]


def write_data(folder, splits=None):
    """train/val/test .tsv files, three classes each, six texts per class."""
    folder.mkdir(parents=True, exist_ok=True)
    splits = splits or {"train": "abc", "val": "def", "test": "ghi"}
    for split, classes in splits.items():
        lines = [f"{c}\t{c}word text number {i} {c}word" for c in classes for i in range(6)]
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A data folder and a one-step protonet run trained on it."""
    root = tmp_path_factory.mktemp("base")
    data = write_data(root / "data")
    run = root / "run"
    assert console(["train", "--data", str(data), *SMALL, "--steps", "1", "--out", str(run)]) == 0
    return data, run


# --- what some rows do to a copy of the data or the run before the command -----------------

def append(name, text):
    def change(data, run):
        with open(data / name, "a", encoding="utf-8") as f:
            f.write(text)
    return change


def replace(name, content):
    def change(data, run):
        (data / name).write_bytes(content)
    return change


def truncate(name):
    def change(data, run):
        path = run / name
        path.write_bytes(path.read_bytes()[:200])
    return change


def remove(name):
    def change(data, run):
        (run / name).unlink()
    return change


def damage_both_checkpoints(data, run):
    truncate("checkpoint.npz")(data, run)
    shutil.copy(run / "checkpoint.npz", run / "checkpoint.prev.npz")


def write_text_file(data, run):
    (run.parent / "notes.md").write_text("# not embeddings\n", encoding="utf-8")


def write_wrong_dim_embeddings(data, run):
    np.savez(run.parent / "emb.npz", tokens=np.array(["aword", "bword"]),
             vectors=np.ones((2, 5), np.float32))


def nothing(data, run):
    pass


TRAIN = ["train", "--data", "{data}", *SMALL, "--steps", "1", "--out", "{new}"]
ARG = r"python -m metanumpy train: error: argument "

CASES = [
    # (name, argv, exit status, first line of stderr (a regex from its start), change)
    ("no command", [], 2, r"python -m metanumpy: error: the following arguments are required"),
    ("unknown command", ["fly"], 2, r"python -m metanumpy: error: argument command: invalid choice"),
    ("unknown flag", [*TRAIN, "--bogus"], 2,
     r"python -m metanumpy: error: unrecognized arguments: --bogus"),
    ("ways 1", [*TRAIN, "--ways", "1"], 2, ARG + r"--ways: must be at least 2, got 1"),
    ("ways word", [*TRAIN, "--ways", "five"], 2, ARG + r"--ways: expected an integer, got 'five'"),
    ("shots 0", [*TRAIN, "--shots", "0"], 2, ARG + r"--shots: must be at least 1, got 0"),
    ("queries 0", [*TRAIN, "--queries", "0"], 2, ARG + r"--queries: must be at least 1"),
    ("meta-batch 0", [*TRAIN, "--meta-batch", "0"], 2, ARG + r"--meta-batch: must be at least 1"),
    ("dim 0", [*TRAIN, "--dim", "0"], 2, ARG + r"--dim: must be at least 1"),
    ("hidden 0", [*TRAIN, "--hidden", "0"], 2, ARG + r"--hidden: must be at least 1"),
    ("max-len 0", [*TRAIN, "--max-len", "0"], 2, ARG + r"--max-len: must be at least 1"),
    ("steps -1", [*TRAIN, "--steps", "-1"], 2, ARG + r"--steps: must be at least 0, got -1"),
    ("eval-every 0", [*TRAIN, "--eval-every", "0"], 2, ARG + r"--eval-every: must be at least 1"),
    ("val-episodes 0", [*TRAIN, "--val-episodes", "0"], 2, ARG + r"--val-episodes: must be"),
    ("test-episodes 0", [*TRAIN, "--test-episodes", "0"], 2, ARG + r"--test-episodes: must be at"),
    ("log-every 0", [*TRAIN, "--log-every", "0"], 2, ARG + r"--log-every: must be at least 1"),
    ("seed -1", [*TRAIN, "--seed", "-1"], 2, ARG + r"--seed: must be at least 0"),
    ("ngram-buckets -1", [*TRAIN, "--ngram-buckets", "-1"], 2, ARG + r"--ngram-buckets: must be"),
    ("min-count 0", [*TRAIN, "--min-count", "0"], 2, ARG + r"--min-count: must be at least 1"),
    ("max-vocab 2", [*TRAIN, "--max-vocab", "2"], 2, ARG + r"--max-vocab: must be at least 3"),
    ("inner-lr 0", [*TRAIN, "--inner-lr", "0"], 2, ARG + r"--inner-lr: must be a finite number > 0"),
    ("inner-lr nan", [*TRAIN, "--inner-lr", "nan"], 2, ARG + r"--inner-lr: must be a finite number"),
    ("inner-lr word", [*TRAIN, "--inner-lr", "fast"], 2, ARG + r"--inner-lr: expected a number"),
    ("outer-lr negative", [*TRAIN, "--outer-lr", "-1"], 2, ARG + r"--outer-lr: must be a finite"),
    ("inner-steps 0", [*TRAIN, "--inner-steps", "0"], 2, ARG + r"--inner-steps: must be at least 1"),
    ("eval-inner-steps -1", [*TRAIN, "--eval-inner-steps", "-1"], 2,
     ARG + r"--eval-inner-steps: must be at least 0"),
    ("temperature 0", [*TRAIN, "--temperature", "0"], 2, ARG + r"--temperature: must be a finite"),
    ("unknown algo", [*TRAIN, "--algo", "sgd"], 2, ARG + r"--algo: invalid choice: 'sgd'"),
    ("unknown encoder", [*TRAIN, "--encoder", "rnn"], 2, ARG + r"--encoder: invalid choice"),
    ("option of another algo", [*TRAIN, "--inner-lr", "0.1"], 1,
     r"error: --inner-lr does not apply to --algo protonet \(only to maml, fomaml, reptile\)"),
    ("meta-sgd with fomaml", [*TRAIN, "--algo", "fomaml", "--meta-sgd"], 1,
     r"error: --meta-sgd does not apply to --algo fomaml \(only to maml\)"),
    ("distance without the prototype head", [*TRAIN, "--algo", "maml", "--distance", "cosine"],
     1, r"error: distance \(--distance\) applies to protonet, or to maml with head='prototypes' "
     r"\(--head prototypes\)"),
    ("head with protonet", [*TRAIN, "--head", "prototypes"], 1,
     r"error: --head does not apply to --algo protonet \(only to maml, fomaml, reptile\)"),
    ("evaluate no folder", ["evaluate"], 2, r"python -m metanumpy evaluate: error: the following"),
    ("evaluate episodes 0", ["evaluate", "{run}", "--episodes", "0"], 2,
     r"python -m metanumpy evaluate: error: argument --episodes: must be at least 1"),
    ("evaluate split dev", ["evaluate", "{run}", "--split", "dev"], 2,
     r"python -m metanumpy evaluate: error: argument --split: invalid choice: 'dev'"),
    ("describe examples -1", ["describe", "--examples", "-1"], 2,
     r"python -m metanumpy describe: error: argument --examples: must be at least 0"),
    # --- the data ----------------------------------------------------------------------------
    ("missing data folder", ["train", "--data", "{tmp}/nowhere", "--out", "{new}"], 1,
     r"error: load: '.*nowhere' is neither a built-in task"),
    ("too few classes", [*TRAIN, "--ways", "4"], 1,
     r"error: 4-way episodes need 4 classes, but split 'train'"),
    ("too few examples", [*TRAIN, "--queries", "6"], 1, r"error: class 'a' in split 'train' "
     r"has 6 examples, fewer than shots \+ queries = 1 \+ 6 = 7"),
    ("small test class", TRAIN, 1, r"error: class 'j' in split 'test' has 1 examples, fewer than",
     append("test.tsv", "j\tonly one\n")),
    ("val split short", TRAIN, 1, r"error: 3-way episodes need 3 classes, but split 'val'",
     replace("val.tsv", b"d\tone\nd\ttwo\nd\tthree\ne\tone\ne\ttwo\ne\tthree\n")),
    ("header-only test file", TRAIN, 1, r"warning: .*test\.tsv, line 1 looks like a header",
     replace("test.tsv", b"label\ttext\n")),
    ("line without a tab", TRAIN, 1, r"error: .*val\.tsv, line 19: expected 'label<TAB>text'",
     append("val.tsv", "no tab here\n")),
    ("empty label", TRAIN, 1, r"error: .*train\.tsv, line 19: empty label",
     append("train.tsv", "\tsome text\n")),
    ("not UTF-8", TRAIN, 1, r"error: .*train\.tsv, line 1: not valid UTF-8",
     replace("train.tsv", b"a\tcaf\xe9\n")),
    ("class in two splits", TRAIN, 1, r"error: class 'a' appears in two splits, train",
     append("test.tsv", "a\tleaked\n")),
    ("missing test file", TRAIN, 1, r"error: missing file: .*test\.tsv",
     lambda data, run: (data / "test.tsv").unlink()),
    # --- --init ------------------------------------------------------------------------------
    ("init missing", [*TRAIN, "--init", "{tmp}/missing.npz"], 1, r"error: .*missing\.npz not found"),
    ("init not embeddings", [*TRAIN, "--init", "{tmp}/notes.md"], 1,
     r"error: --init .*notes\.md: not an embeddings file made by", write_text_file),
    ("init wrong dim", [*TRAIN, "--init", "{tmp}/emb.npz"], 1,
     r"error: load_embeddings: .*emb\.npz holds vectors of dim 5", write_wrong_dim_embeddings),
    # --- run folders -------------------------------------------------------------------------
    ("changed setting", ["train", "--data", "{data}", *SMALL, "--steps", "1", "--out", "{run}",
                         "--shots", "2"], 1,
     r"error: the run folder .*run holds a run with other settings:"),
    ("changed algorithm", ["train", "--data", "{data}", *SMALL, "--steps", "1", "--out", "{run}",
                           "--algo", "maml"], 1, r"error: the run folder .* with other settings"),
    ("both checkpoints damaged", ["train", "--data", "{data}", *SMALL, "--steps", "2", "--out",
                                  "{run}"], 1,
     r"error: .*checkpoint\.npz is damaged .*and so is the previous one", damage_both_checkpoints),
    ("damaged settings.json", ["evaluate", "{run}"], 1, r"error: .*settings\.json is damaged",
     lambda data, run: (run / "settings.json").write_text("{", encoding="utf-8")),
    ("evaluate missing folder", ["evaluate", "{tmp}/nothing"], 1, r"error: .*nothing does not"),
    ("evaluate not a run", ["evaluate", "{tmp}"], 1, r"error: .*settings\.json not found"),
    ("evaluate damaged best", ["evaluate", "{run}", "--episodes", "2"], 1,
     r"error: .*best\.npz is damaged .*evaluate .*checkpoint\.npz instead", truncate("best.npz")),
    ("evaluate without best", ["evaluate", "{run}", "--episodes", "2"], 1,
     r"error: .*best\.npz does not exist", remove("best.npz")),
    ("evaluate a text file", ["evaluate", "{run}/settings.json", "--episodes", "2"], 1,
     r"error: .*settings\.json is damaged"),
    ("moved data", ["evaluate", "{run}", "--episodes", "2"], 1,
     r"error: the data of the run .* does not exist now; if it moved, say where with --data",
     lambda data, run: shutil.rmtree(data)),
    ("lessons without numbers", ["lessons"], 1, r"lessons: name lesson numbers"),
]


@pytest.mark.parametrize("name, argv, status, first_line, change",
                         [(*case, nothing)[:5] for case in CASES], ids=[case[0] for case in CASES])
def test_a_mistake_is_one_clear_line(base, tmp_path, capsys, name, argv, status, first_line,
                                     change):
    data, run = tmp_path / "data", tmp_path / "run"
    shutil.copytree(base[0], data)
    shutil.copytree(base[1], run)
    change(data, run)
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    fill = {"data": str(data), "run": str(run), "new": str(tmp_path / "new"), "tmp": str(tmp_path)}
    capsys.readouterr()
    assert console([arg.format(**fill) for arg in argv]) == status
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert re.match(first_line, err.splitlines()[0] if err else ""), err
    if argv[:1] == ["train"]:
        assert not (tmp_path / "new").exists(), "a failed train must not make its run folder"
        assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before, \
            "a failed train must not touch an existing run folder"


def test_the_table_is_long_enough():
    assert len(CASES) >= 40
