"""Real-data loaders: round trips through .tsv and .jsonl, and errors that name file and line."""

import json

import pytest

from metanumpy import tasks

DATA = {
    "train": {"weather": ["rain again today", "sunny\tand warm"], "sports": ["a late goal"]},
    "val": {"music": ["a new album"]},
    "test": {"food": ["café au lait", "fresh bread"], "travel": ["the train was late"]},
}


def write_tsv(path, examples):
    lines = [f"{label}\t{text}" for label, texts in examples.items() for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_jsonl(path, examples):
    lines = [json.dumps({"label": label, "text": text}, ensure_ascii=False)
             for label, texts in examples.items() for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_folder(folder, writer=write_tsv, ext=".tsv"):
    folder.mkdir(exist_ok=True)
    for split, examples in DATA.items():
        writer(folder / f"{split}{ext}", examples)
    return folder


@pytest.mark.parametrize("writer, ext", [(write_tsv, ".tsv"), (write_jsonl, ".jsonl")])
def test_folder_round_trip(tmp_path, writer, ext):
    source = tasks.load_folder(write_folder(tmp_path / "data", writer, ext))
    assert source.splits == {s: dict(sorted(DATA[s].items())) for s in DATA}
    assert source.name == "data" and source.classes("train") == ["sports", "weather"]
    assert source.groups == {c: None for s in DATA for c in DATA[s]}
    assert tasks.load(str(tmp_path / "data")).splits == source.splits


def test_bom_blank_lines_crlf_and_mixed_formats(tmp_path):
    folder = write_folder(tmp_path / "data")
    (folder / "train.tsv").write_bytes(b"\xef\xbb\xbfweather\train again today\r\n\r\n\n"
                                       b"sports\ta late goal\r\nweather\tsunny\tand warm\n")
    (folder / "val.tsv").unlink()
    write_jsonl(folder / "val.jsonl", DATA["val"])
    source = tasks.load_folder(folder)
    assert source.splits["train"] == {"sports": ["a late goal"],
                                      "weather": ["rain again today", "sunny\tand warm"]}
    assert source.splits["val"] == DATA["val"]


def expect_error(folder, split, content, *fragments):
    path = folder / split
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        tasks.load_folder(folder)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_missing_tab_names_file_and_line(tmp_path):
    folder = write_folder(tmp_path / "data")
    expect_error(folder, "val.tsv", "music\ta new album\n\nmusic a song without tab\n",
                 "val.tsv, line 3", "no tab")


def test_invalid_utf8_names_file_and_line(tmp_path):
    folder = write_folder(tmp_path / "data")
    (folder / "val.tsv").write_bytes(b"music\ta new album\nmusic\tna\xefve\n")
    with pytest.raises(ValueError, match=r"val\.tsv, line 2: not valid UTF-8"):
        tasks.load_folder(folder)


def test_empty_text_names_file_and_line(tmp_path):
    folder = write_folder(tmp_path / "data")
    expect_error(folder, "test.tsv", "food\tbread\nfood\t   \n", "test.tsv, line 2",
                 "empty text", "'food'")


def test_bad_json_and_missing_key_name_file_and_line(tmp_path):
    folder = write_folder(tmp_path / "data")
    (folder / "train.tsv").unlink()
    expect_error(folder, "train.jsonl", '{"label": "a", "text": "x"}\n{"label": "b", "text": \n',
                 "train.jsonl, line 2", "bad JSON")
    expect_error(folder, "train.jsonl", '{"label": "a", "text": "x"}\n\n{"label": "b"}\n',
                 "train.jsonl, line 3", "missing key 'text'")


def test_class_in_two_splits_names_class_and_both_files(tmp_path):
    folder = write_folder(tmp_path / "data")
    expect_error(folder, "test.tsv", "weather\tfoggy morning\n",
                 "class 'weather'", "train (train.tsv)", "test (test.tsv)")


def test_missing_or_doubled_files(tmp_path):
    folder = write_folder(tmp_path / "data")
    (folder / "val.tsv").unlink()
    with pytest.raises(ValueError, match=r"missing file: .*val\.tsv \(or val\.jsonl\)"):
        tasks.load_folder(folder)
    write_tsv(folder / "val.tsv", DATA["val"])
    write_jsonl(folder / "val.jsonl", DATA["val"])
    with pytest.raises(ValueError, match="both val.tsv and val.jsonl"):
        tasks.load_folder(folder)
    with pytest.raises(ValueError, match="missing file"):
        tasks.load_file(tmp_path / "nothing.tsv")


def one_file(tmp_path, n_classes=10, writer=write_tsv, ext=".tsv"):
    examples = {f"class{c:02d}": [f"text {c} {i}" for i in range(3)] for c in range(n_classes)}
    path = tmp_path / f"all{ext}"
    writer(path, examples)
    return path, examples


@pytest.mark.parametrize("writer, ext", [(write_tsv, ".tsv"), (write_jsonl, ".jsonl")])
def test_load_file_splits_classes_by_seeded_fractions(tmp_path, writer, ext):
    path, examples = one_file(tmp_path, writer=writer, ext=ext)
    source = tasks.load_file(path, seed=0)
    sizes = [len(source.classes(s)) for s in tasks.SPLITS]
    assert sizes == [6, 2, 2]
    assert sorted(c for s in tasks.SPLITS for c in source.classes(s)) == sorted(examples)
    assert all(source.splits[s][c] == examples[c] for s in tasks.SPLITS for c in source.classes(s))
    assert tasks.load_file(path, seed=0).splits == source.splits
    assert tasks.load(str(path), seed=0).splits == source.splits
    others = [tasks.load_file(path, seed=s).classes("test") for s in range(1, 6)]
    assert any(o != source.classes("test") for o in others)


def test_load_file_with_explicit_split(tmp_path):
    path, _ = one_file(tmp_path, n_classes=5)
    source = tasks.load_file(path, split=(["class00", "class01"], ["class02"], ["class04"]))
    assert source.classes("train") == ["class00", "class01"]
    assert source.classes("test") == ["class04"]
    with pytest.raises(ValueError, match=r"class 'class02' appears in two splits, val and test"):
        tasks.load_file(path, split=(["class00"], ["class02"], ["class02"]))
    with pytest.raises(ValueError, match=r"test class 'class99' does not occur in"):
        tasks.load_file(path, split=(["class00"], ["class02"], ["class99"]))


def test_load_file_refuses_bad_fractions_and_too_few_classes(tmp_path):
    path, _ = one_file(tmp_path, n_classes=2)
    with pytest.raises(ValueError, match="has 2 classes: too few"):
        tasks.load_file(path)
    with pytest.raises(ValueError, match="summing to 1"):
        tasks.load_file(path, fractions=(0.5, 0.2, 0.2))


def test_load_dispatches_and_refuses_unknown_names(tmp_path):
    assert tasks.load("sentiment").name == "sentiment"
    with pytest.raises(ValueError, match="neither a built-in task"):
        tasks.load("topicz")
    with pytest.raises(TypeError, match="takes no options"):
        tasks.load(str(write_folder(tmp_path / "data")), fractions=(0.6, 0.2, 0.2))


def test_a_header_line_is_named_and_skipped(tmp_path):
    folder = write_folder(tmp_path / "data")
    text = (folder / "train.tsv").read_text(encoding="utf-8")
    (folder / "train.tsv").write_text("label\ttext\n" + text, encoding="utf-8")
    with pytest.warns(tasks.loaders.DataWarning, match=r"train\.tsv, line 1 looks like a header"):
        source = tasks.load(folder)
    assert "label" not in source.classes("train")
    assert source.splits["train"] == DATA["train"]  # nothing else changed
    (folder / "val.tsv").write_text("label\ttext\n", encoding="utf-8")
    with pytest.warns(tasks.loaders.DataWarning), \
            pytest.raises(ValueError, match=r"val\.tsv holds no examples"):
        tasks.load(folder)


def test_a_class_named_like_a_header_later_in_the_file_is_kept(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("a\tfirst\nlabel\ttext\n", encoding="utf-8")
    assert tasks.loaders.read_examples(path) == {"a": ["first"], "label": ["text"]}


def test_an_absurdly_long_line_is_read_with_a_warning(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text("a\tshort\nb\t" + "word " * 30_000 + "\n", encoding="utf-8")
    with pytest.warns(tasks.loaders.DataWarning, match=r"train\.tsv, line 2: a text of 149,999"):
        examples = tasks.loaders.read_examples(path)
    assert len(examples["b"][0]) == 149_999


# --- grouped tasks: labels "group/label" (or a "task" field) keep episodes inside a group ---

def grouped_examples(groups, labels=("positive", "negative", "neutral"), per_class=6):
    """{group/label: texts} with a marker word per class, for `groups` product names."""
    return {f"{g}/{y}": [f"{g} {y} review {i}" for i in range(per_class)]
            for g in groups for y in labels}


def write_grouped_folder(folder, writer=write_tsv):
    folder.mkdir()
    for split, groups in (("train", "abcdef"), ("val", "gh"), ("test", "ij")):
        writer(folder / f"{split}.{'jsonl' if writer is write_jsonl_tasks else 'tsv'}",
               grouped_examples([f"prod{g}" for g in groups]))
    return folder


def write_jsonl_tasks(path, examples):
    """The same examples as .jsonl records with a separate "task" field."""
    lines = []
    for name, texts in examples.items():
        task, _, label = name.rpartition("/")
        lines += [json.dumps({"task": task, "label": label, "text": t}) for t in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("writer", [write_tsv, write_jsonl_tasks])
def test_grouped_labels_never_mix_groups_in_an_episode(tmp_path, writer):
    from metanumpy.text import Vocab

    source = tasks.load(str(write_grouped_folder(tmp_path / "data", writer)))
    assert source.group_episodes and source.groups["proda/positive"] == "proda"
    vocab = Vocab.build(source.texts("train"))
    seen_groups = set()
    for ways in (2, 3):
        sampler = tasks.EpisodeSampler(source, "train", ways, 2, 2, vocab, seed=1)
        for _ in range(300):
            episode = sampler.sample()
            groups = {source.groups[c] for c in episode.classes}
            assert len(groups) == 1, episode.classes
            seen_groups |= groups
            for label, text in zip(episode.query_labels, episode.query_texts):
                assert text.startswith(episode.classes[label].replace("/", " "))
    assert seen_groups == {f"prod{g}" for g in "abcdef"}  # every group gets its turn
    with pytest.raises(ValueError, match="no group of split 'train' has 4 classes"):
        tasks.EpisodeSampler(source, "train", 4, 2, 2, vocab)


def test_some_labels_grouped_and_some_not_is_an_error(tmp_path):
    folder = write_grouped_folder(tmp_path / "data")
    with open(folder / "val.tsv", "a", encoding="utf-8") as f:
        f.write("plainlabel\tno group here\n")
    with pytest.raises(ValueError, match="'plainlabel' does not: give every label a group"):
        tasks.load(str(folder))


def test_a_grouped_file_is_split_by_group(tmp_path):
    path = tmp_path / "reviews.tsv"
    write_tsv(path, grouped_examples([f"prod{g}" for g in "abcdefghij"]))
    source = tasks.load_file(path, fractions=(0.6, 0.2, 0.2), seed=3)
    groups = {s: {source.groups[c] for c in source.classes(s)} for s in tasks.SPLITS}
    assert [len(groups[s]) for s in tasks.SPLITS] == [6, 2, 2]
    assert not (groups["train"] & groups["val"] or groups["train"] & groups["test"]
                or groups["val"] & groups["test"])
    assert all(len(source.classes(s)) == 3 * len(groups[s]) for s in tasks.SPLITS)
