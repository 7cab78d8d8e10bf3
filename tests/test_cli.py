"""The command line end to end on a tiny real-data folder: train, resume, evaluate, help."""

import subprocess
import sys

import pytest

from metanumpy.cli import main


def write_dataset(folder):
    """Three .tsv files with disjoint classes; each class's texts share a marker word."""
    folder.mkdir()
    words = {c: f"{c}word" for c in "abcdefghi"}
    splits = {"train": "abc", "val": "def", "test": "ghi"}
    for split, classes in splits.items():
        lines = [f"{c}\t{words[c]} text number {i} {words[c]}" for c in classes for i in range(6)]
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_train_then_evaluate_a_data_folder(tmp_path, capsys):
    data = write_dataset(tmp_path / "data")
    out = tmp_path / "run"
    flags = ["--data", str(data), "--ways", "3", "--shots", "1", "--queries", "2",
             "--dim", "8", "--hidden", "8", "--val-episodes", "3", "--test-episodes", "5",
             "--eval-every", "2", "--log-every", "2", "--out", str(out)]
    main(["train", "--algo", "protonet", "--steps", "2", *flags])
    printed = capsys.readouterr().out
    assert "meta-test accuracy" in printed and "%" in printed
    assert {"checkpoint.npz", "best.npz", "history.json", "settings.json", "vocab.txt"} <= {
        p.name for p in out.iterdir()}

    main(["train", "--algo", "protonet", "--steps", "4", *flags])  # continues from step 2
    assert "resumed from" in capsys.readouterr().out

    result = main(["evaluate", str(out), "--episodes", "5"])
    assert 0.0 <= result.mean <= 1.0 and result.n == 5
    assert "protonet on" in capsys.readouterr().out


def test_a_bad_data_line_names_file_and_line(tmp_path):
    data = write_dataset(tmp_path / "data")
    with open(data / "val.tsv", "a", encoding="utf-8") as f:
        f.write("no tab on this line\n")
    with pytest.raises(ValueError, match=r"val\.tsv.*line 19"):
        main(["train", "--data", str(data), "--steps", "1", "--out", str(tmp_path / "r")])


def test_help_lists_every_flag_with_its_default():
    text = subprocess.run([sys.executable, "-m", "metanumpy", "train", "--help"],
                          capture_output=True, text=True, check=True).stdout
    for flag in ["--algo", "--tasks", "--data", "--ways", "--shots", "--inner-lr", "--steps",
                 "--anil", "--init"]:
        assert flag in text
    assert "(default: 5)" in text  # --ways


def test_a_user_mistake_is_one_clear_line_not_a_traceback(tmp_path):
    run = subprocess.run([sys.executable, "-m", "metanumpy", "train", "--tasks",
                          str(tmp_path / "missing"), "--steps", "1"], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.startswith("error: ") and "missing" in run.stderr
    assert "Traceback" not in run.stderr


def test_top_level_help_lists_every_command_and_no_flag_prints_two_defaults():
    import argparse

    from metanumpy.cli import build_parser

    parser = build_parser()
    usage = parser.format_usage()
    for command in ["train", "evaluate", "describe", "table", "pretrain", "lessons", "bench",
                    "assignments"]:
        assert command in usage, command
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        formatter = command._get_formatter()
        for action in command._actions:
            text = formatter._get_help_string(action) or ""
            assert "(default: None)" not in text, (name, action.dest)
            assert text.count("default:") + text.count("unset:") <= 1, (name, action.dest, text)
