"""The command line: `python -m metanumpy COMMAND ...` (`--help` on any command lists its flags).

    train       meta-train an algorithm on a built-in task family or a data folder
    evaluate    evaluate a trained run on fixed meta-test episodes (mean and 95% CI)
    predict     adapt a trained run on your own support set and classify a file of texts
    describe    print example sentences of a task family or data folder
    table       the README's results tables: baselines and meta-learners, 95% CIs
    pretrain    pre-train word embeddings on unlabelled meta-training text (train --init)
    demo        a 10-second tour of the autograd engine
    lessons     run the lessons (lessons/NN_*.py) and print a table of their key numbers, or
                write them as notebooks (--notebooks DIR)
    bench       seconds per meta-training step, memory and kernel share (or --ops: per-op cost)
    assignments release / grade classroom assignments
"""

import argparse
import math
import os
import sys
import warnings

from .experiment import ALGO_DEFAULTS, Experiment, Settings


class FORMATTER(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: X)" to a flag's help, except where there is nothing to show (None,
    a switch that is off): such a flag's help says itself what happens when it is not given."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: "PROG: error: ... (see PROG --help)"."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def at_least(minimum):
    """An argparse type: an integer >= minimum, or a one-line error naming the bound."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def add_task_flags(p):
    d = Settings()
    p.add_argument("--tasks", default=d.tasks,
                   help="built-in family (topics, sentiment, crossdomain) or a data folder/file")
    p.add_argument("--data", default=None, help="a real dataset folder (train/val/test .tsv or "
                   ".jsonl); same as --tasks DIR")
    p.add_argument("--ways", type=at_least(2), default=d.ways, help="classes per episode (N)")
    p.add_argument("--shots", type=at_least(1), default=d.shots,
                   help="support examples per class (K)")
    p.add_argument("--queries", type=at_least(1), default=d.queries,
                   help="query examples per class")
    p.add_argument("--seed", type=at_least(0), default=d.seed,
                   help="seed for data, model and episodes")
    p.add_argument("--max-len", type=at_least(1), default=d.max_len, help="tokens kept per text")
    p.add_argument("--ngram-buckets", type=at_least(0), default=d.ngram_buckets,
                   help="hashed character n-gram buckets (0: words only)")
    p.add_argument("--dim", type=at_least(1), default=d.dim, help="embedding size")
    p.add_argument("--hidden", type=at_least(1), default=d.hidden,
                   help="hidden / output embedding size")
    p.add_argument("--encoder", default=d.encoder, choices=["bag", "conv", "lexical"],
                   help="bag-of-embeddings, 1-D convolution, or lexical (exact word + n-gram "
                   "tf-idf plus a learned part; needs --ngram-buckets)")
    p.add_argument("--min-count", type=at_least(1), default=d.min_count,
                   help="vocabulary: keep words seen at least this often in meta-training")
    p.add_argument("--max-vocab", type=at_least(3), default=d.max_vocab,
                   help="vocabulary: at most this many word ids, <pad> and <unk> included, "
                   "the rarest words dropped (unset: no limit)")


def add_path_flag(p):
    p.add_argument("--fast-path", action="store_true",
                   help="use the optimised ops of metanumpy.fast (same numbers, faster; also "
                   "METANUMPY_FAST_PATH=1)")


def choose_path(args):
    """Switch to the fast path if asked, set this process up for it, and say so in one line.

    Every computing command runs with one BLAS thread (small matrices: more threads only
    wait for each other); the fast path also keeps freed memory in the process.
    """
    from . import fast
    from .threads import one_blas_thread

    on = args.fast_path or os.environ.get("METANUMPY_FAST_PATH", "") == "1"
    notes = ["one BLAS thread"] if one_blas_thread() else []
    if on:
        from .fast.allocator import keep_freed_memory

        fast.enable()
        if keep_freed_memory():
            notes.append("malloc keeps freed memory")
    print(f"metanumpy: {fast.describe()}" + "".join(f"; {n}" for n in notes), flush=True)


def current_path():
    """"fast" or "reference": the path this process computes on, recorded with its results."""
    from . import fast

    return "fast" if fast.is_enabled() else "reference"


def settings_from(args):
    return Settings(tasks=args.data or args.tasks, ways=args.ways, shots=args.shots,
                    queries=args.queries, seed=args.seed, max_len=args.max_len,
                    ngram_buckets=args.ngram_buckets, dim=args.dim, hidden=args.hidden,
                    encoder=args.encoder, min_count=args.min_count, max_vocab=args.max_vocab)


def algo_options(args):
    """The algorithm options the user set explicitly (None means: use the default)."""
    names = {"maml": ["inner_lr", "inner_steps", "eval_inner_steps", "outer_lr", "anil", "meta_sgd",
                      "head", "distance"],
             "fomaml": ["inner_lr", "inner_steps", "eval_inner_steps", "outer_lr", "anil", "head",
                        "distance"],
             "reptile": ["inner_lr", "inner_steps", "eval_inner_steps", "outer_lr",
                         "inner_optimizer", "head", "distance"],
             "matching": ["outer_lr", "temperature"], "protonet": ["outer_lr", "distance"]}
    given = {n for ns in names.values() for n in ns if getattr(args, n) not in (None, False)}
    ignored = sorted(given - set(names[args.algo]))
    if ignored:  # a flag that would silently change nothing
        flag = "--" + ignored[0].replace("_", "-")
        users = [a for a, ns in names.items() if ignored[0] in ns]
        raise ValueError(f"{flag} does not apply to --algo {args.algo} (only to "
                         f"{', '.join(users)})")
    return {n: getattr(args, n) for n in names[args.algo] if n in given}


def load_init(learner, vocab, path):
    """Copy pre-trained embeddings from `path` (train --init) into `learner`; one-line errors."""
    from .pretrain import load_embeddings

    return checked_init(path, lambda: load_embeddings(learner.model, vocab, path))


def checked_init(path, load):
    """`load()`, which reads the --init file `path`, with one-line errors for a bad file."""
    import zipfile

    try:
        return load()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        if isinstance(err, FileNotFoundError) or path in str(err):
            raise
        raise ValueError(f"--init {path}: not an embeddings file made by `python -m metanumpy "
                         f"pretrain` ({str(err).splitlines()[0]})") from None


def write_curves(out, name, title):
    """Draw out/history.json as out/curves.png (loss, accuracy, validation with its CI)."""
    from . import plot
    from .train import read_history

    if os.path.exists(os.path.join(out, "history.json")):
        path = plot.learning_curves({name: read_history(out)}, os.path.join(out, "curves.png"),
                                    title)
        print(f"learning curves: {path}")


def cmd_train(args):
    from . import runfolder
    from .tasks import evaluate
    from .train import Trainer, load_best

    exp = Experiment(settings_from(args))  # reads and checks the data, builds the vocabulary
    exp.check_episodes()                    # every split can give these episodes
    options = algo_options(args)
    learner = exp.learner(args.algo, **options)
    out = args.out or os.path.join("runs", f"{args.algo}-{os.path.basename(str(exp.settings.tasks))}"
                                   f"-{args.ways}w{args.shots}s-seed{args.seed}")
    copied = load_init(learner, exp.vocab, args.init) if args.init else None
    training = {"steps": args.steps, "meta_batch": args.meta_batch,
                "eval_every": args.eval_every, "val_episodes": args.val_episodes}
    record = exp.record(out, args.algo, options, training, init=args.init, path=current_path())
    runfolder.bind(out, record, restart=args.restart)  # refuses before anything is written
    val, test = exp.episodes("val", args.val_episodes), exp.episodes("test", args.test_episodes)
    trainer = Trainer(learner, exp.sampler("train"), val, steps=args.steps,
                      meta_batch=args.meta_batch, eval_every=args.eval_every, out_dir=out,
                      log_every=args.log_every)
    if not args.restart:
        trainer.resume()  # a damaged checkpoint stops here, before anything is written
    exp.save(out, args.algo, options, record)
    if copied is not None:
        print(f"initialised {copied} embedding rows from {args.init}")
    print(f"training {args.algo} on {exp.settings.tasks} ({args.ways}-way {args.shots}-shot), "
          f"vocabulary {len(exp.vocab)}, {learner.model.num_parameters()} parameters -> {out}")
    try:
        trainer.run()
    finally:
        write_curves(out, args.algo, f"{args.algo} on {os.path.basename(str(exp.settings.tasks))}, "
                          f"{args.ways}-way {args.shots}-shot")
    load_best(learner, out)
    result = evaluate(learner.predict, test)
    print(f"meta-test accuracy (best validation model, {result.n} episodes): {result}")


def cmd_evaluate(args):
    from . import checkpoint, runfolder
    from .tasks import evaluate
    from .train import load_best

    if args.targets:
        return cmd_evaluate_targets(args)
    folder = args.checkpoint if os.path.isdir(args.checkpoint) else os.path.dirname(args.checkpoint)
    if not os.path.exists(args.checkpoint):
        raise FileNotFoundError(f"{args.checkpoint} does not exist: give a run folder made by "
                                "`train`, or a .npz checkpoint in one")
    exp, algo, options = Experiment.load(folder, data=args.data)
    changed = runfolder.data_changed(runfolder.read(folder), folder, args.data)
    if changed:
        warnings.warn(changed, runfolder.DataChanged)
    learner = exp.learner(algo, **options)
    if os.path.isdir(args.checkpoint):
        load_best(learner, folder)
    else:
        learner.load_state_dict(checkpoint.load(args.checkpoint)["learner"])
    result = evaluate(learner.predict, exp.episodes(args.split, args.episodes))
    s = exp.settings
    print(f"{algo} on {s.tasks} {args.split} ({s.ways}-way {s.shots}-shot, {result.n} episodes): "
          f"{result}")
    path = args.json or os.path.join(folder, f"evaluation-{args.split}.json")
    checkpoint.write_json(path, {
        "checkpoint": args.checkpoint, "split": args.split, "path": current_path(),
        "episodes": result.n, "mean": result.mean, "ci95": result.ci95,
        "accuracies": result.accuracies.tolist()})
    print(f"per-episode accuracies: {path}")
    return result


def cmd_evaluate_targets(args):
    from .run import load_run
    from .targets import evaluate_targets

    folder, weights = (args.checkpoint, "best.npz") if os.path.isdir(args.checkpoint) else \
        os.path.split(args.checkpoint)
    try:
        results = evaluate_targets(load_run(folder, weights), args.targets)
    except ValueError as err:
        raise SystemExit(f"evaluate: {err}") from None
    print(results)
    return results


def cmd_predict(args):
    from .run import load_run
    from .tasks import read_queries, read_support

    try:
        run = load_run(args.run_dir)
        texts, labels = read_queries(args.query)
        classes = [c for c in args.classes.split(",") if c] if args.classes else None
        support = read_support(args.support)
        if labels is not None:  # check the labels before the work: fixed_episode names a bad one
            run.episode(support, texts, classes, labels)
        result = run.predict(support, texts, classes)
    except ValueError as err:
        raise SystemExit(f"predict: {err}") from None
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(result.to_tsv())
        except OSError as err:
            raise SystemExit(f"predict: cannot write {args.out}: {err.strerror}") from None
        print(f"{run.algo} adapted on {args.support} ({len(result.classes)} classes); "
              f"wrote {len(texts)} predictions to {args.out}")
    else:
        print(result.to_tsv(), end="")
    if labels is not None:
        report = result.report(labels)
        print(report)
        png = args.confusion or os.path.join(os.path.dirname(args.out or ""), "confusion.png")
        title = f"{run.algo} on {os.path.basename(args.query)}"
        print(f"confusion matrix saved to {report.save_png(png, title)}")
    return result


def cmd_describe(args):
    from . import tasks

    print(tasks.load(args.data or args.tasks, seed=args.seed).describe(args.examples))


def cmd_table(args):
    from . import results
    from .pretrain import load_embedding_file, read_texts

    split = lambda text: [x for x in text.split(",") if x]  # noqa: E731
    overrides = {k: getattr(args, k) for k in ("max_len", "dim", "hidden", "encoder",
                                               "ngram_buckets")
                 if getattr(args, k) is not None}
    path = current_path()
    try:
        if args.init:  # a bad file stops the table before its first row, not at its first learner
            _, vectors = checked_init(args.init, lambda: load_embedding_file(args.init))
            dim = Settings.dim if args.dim is None else args.dim
            if vectors.shape[1] != dim:
                raise ValueError(f"--init {args.init} holds vectors of dim {vectors.shape[1]} "
                                 f"but the learners have --dim {dim}; pretrain with --dim {dim} "
                                 f"or give --dim {vectors.shape[1]}")
        unlabelled = read_texts(args.text) if args.text else []
        table = results.run(families=args.data or split(args.families),
                            learners=split(args.learners), baselines=split(args.baselines),
                            episodes=args.episodes, steps=args.steps, seed=args.seed,
                            out=args.out, settings=overrides, unlabelled=unlabelled,
                            path=path, init=args.init)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"table: {err}") from None
    print(results.markdown(table, args.episodes, args.steps, args.seed, path, args.init))


def cmd_pretrain(args):
    from .pretrain import pretrain, read_texts

    exp = Experiment(tasks=args.data or args.tasks, seed=args.seed)  # the vocabulary `train` uses
    try:
        texts = read_texts(args.text) if args.text else []
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"pretrain: {err}") from None
    pretrain(exp.source, exp.vocab, args.out, sentences=args.sentences, seed=args.seed,
             show=args.show, dim=args.dim, epochs=args.epochs, window=args.window, texts=texts)


def cmd_lessons(args):
    from .lessons import describe_lessons, find_lessons, pick_lessons, run_lessons

    if args.list:
        print(describe_lessons())
        return None
    if args.notebooks:
        return write_lesson_notebooks(args)
    if not args.all and not args.numbers:
        raise SystemExit("lessons: name lesson numbers (e.g. `lessons 4`), or --all, or --list")
    try:
        paths = find_lessons() if args.all else pick_lessons(args.numbers)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"lessons: {err}") from None
    results = run_lessons(paths, seed=args.seed, fast=args.fast, out_root=args.out)
    failed = [r["lesson"] for r in results if not r["ok"]]
    if failed:
        raise SystemExit(f"lessons failed: {', '.join(failed)}")
    return results


def write_lesson_notebooks(args):
    """`lessons --notebooks DIR [numbers] [--fast] [--seed S]`: the lessons as .ipynb files."""
    from .lessons import find_lessons, pick_lessons
    from .notebook import write_notebooks

    if args.out is not None:
        raise SystemExit("lessons: --out is for runs; a notebook writes next to itself "
                         "(its settings cell has OUT)")
    try:
        paths = pick_lessons(args.numbers) if args.numbers else find_lessons()
        written = write_notebooks(paths, args.notebooks, seed=args.seed,
                                  fast=True if args.fast else None)
    except (ValueError, OSError, ImportError) as err:
        raise SystemExit(f"lessons: {err}") from None
    print(f"wrote {len(written)} notebooks to {args.notebooks}: "
          f"{', '.join(p.name for p in written)}")
    return written


def cmd_demo(args):
    from .demo import main as demo

    demo()


def cmd_bench(args):
    from .bench import main as bench

    if args.trace:
        from .bench.trace import trace_table

        for path in (args.paths or "reference").split(","):
            print(trace_table(args.trace, path.strip()))
        return None
    try:
        return bench(args.algos, args.sizes, args.steps, args.warmup, args.inner_steps, args.json,
                     args.backend, args.ops, paths=args.paths)
    except (ValueError, RuntimeError) as err:
        raise SystemExit(str(err)) from None


def build_parser():
    parser = Parser(prog="python -m metanumpy", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="meta-train an algorithm", formatter_class=FORMATTER)
    p.add_argument("--algo", default="protonet", choices=sorted(ALGO_DEFAULTS),
                   help="maml (second order), fomaml (first order), reptile, matching, protonet")
    add_task_flags(p)
    p.add_argument("--steps", type=at_least(0), default=1000,
                   help="meta-training steps (0: evaluate the starting model)")
    p.add_argument("--meta-batch", type=at_least(1), default=4,
                   help="episodes per meta-training step")
    p.add_argument("--eval-every", type=at_least(1), default=100,
                   help="validate every this many steps")
    p.add_argument("--val-episodes", type=at_least(1), default=100,
                   help="fixed meta-validation episodes")
    p.add_argument("--test-episodes", type=at_least(1), default=600,
                   help="fixed meta-test episodes")
    p.add_argument("--log-every", type=at_least(1), default=50,
                   help="progress line every this many steps")
    p.add_argument("--out", default=None, help="run folder (unset: runs/ALGO-TASKS-NwKs-seedS); "
                   "it is bound to the settings of its first run")
    p.add_argument("--restart", action="store_true",
                   help="discard the run in --out (checkpoints, best model, history) and start "
                   "again, with the settings given now")
    p.add_argument("--init", default=None, help="start the encoder's embeddings from a file made by "
                   "`python -m metanumpy pretrain`")
    p.add_argument("--inner-lr", type=positive_float, default=None, help="MAML/Reptile inner "
                   "step size (unset: per algorithm, see metanumpy/experiment.py)")
    p.add_argument("--inner-steps", type=at_least(1), default=None,
                   help="inner steps while meta-training (unset: per algorithm)")
    p.add_argument("--eval-inner-steps", type=at_least(0), default=None,
                   help="inner steps at test time (unset: per algorithm; 0: no adaptation)")
    p.add_argument("--outer-lr", type=positive_float, default=None, help="outer learning rate "
                   "(Adam; Reptile: the interpolation step size; unset: per algorithm)")
    p.add_argument("--inner-optimizer", default=None, choices=["sgd", "adam"],
                   help="Reptile's inner optimizer (unset: adam)")
    p.add_argument("--anil", action="store_true", help="MAML: adapt only the classifier head")
    p.add_argument("--meta-sgd", action="store_true", help="MAML: learn per-weight inner rates")
    p.add_argument("--temperature", type=positive_float, default=None,
                   help="Matching Networks cosine scale (unset: 10)")
    p.add_argument("--head", default=None, choices=["learned", "prototypes"],
                   help="MAML/Reptile classifier head: learned with the rest, or built for each "
                   "task from the support set's prototypes, Proto-MAML (unset: learned; "
                   "prototypes with --encoder lexical)")
    p.add_argument("--distance", default=None, choices=["euclidean", "cosine"],
                   help="ProtoNet's distance, and the prototype head's (unset: euclidean; "
                   "cosine with --encoder lexical)")
    add_path_flag(p)
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a trained run", formatter_class=FORMATTER)
    p.add_argument("checkpoint", help="a run folder (uses best.npz) or a checkpoint .npz in one")
    p.add_argument("--episodes", type=at_least(1), default=600, help="fixed evaluation episodes")
    p.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="which class split to evaluate on")
    p.add_argument("--data", default=None, help="where the run's data is now, if it moved "
                   "(unset: where settings.json says)")
    p.add_argument("--json", default=None, help="file for the per-episode accuracies "
                   "(unset: RUN/evaluation-SPLIT.json)")
    p.add_argument("--targets", default=None, help="instead: a folder of target tasks, one "
                   "sub-folder each with support.tsv and a labelled query.tsv (fixed support; "
                   "per-task accuracy, mean over tasks, majority-class line)")
    add_path_flag(p)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("predict", help="adapt a trained run on your support set, classify texts",
                       formatter_class=FORMATTER)
    p.add_argument("run_dir", metavar="RUN", help="a run folder made by `train` (uses best.npz)")
    p.add_argument("--support", required=True,
                   help="label<TAB>text per line, any number of examples per class")
    p.add_argument("--query", required=True, help="one text per line, or label<TAB>text on every "
                   "line to also get accuracy, precision/recall and the confusion matrix")
    p.add_argument("--out", default=None, help="write label<TAB>p(class)...<TAB>text here "
                   "(None: print it)")
    p.add_argument("--classes", default=None, help="comma-separated class order, label 0 first "
                   "(None: the order of first appearance in the support file)")
    p.add_argument("--confusion", default=None, help="PNG of the confusion matrix for labelled "
                   "queries (None: confusion.png beside --out)")
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("describe", help="show example sentences", formatter_class=FORMATTER)
    p.add_argument("--tasks", default="topics", help="family name or data folder/file")
    p.add_argument("--data", default=None, help="a data folder (same as --tasks DIR)")
    p.add_argument("--seed", type=int, default=0, help="generator seed")
    p.add_argument("--examples", type=at_least(0), default=3, help="sentences per class")
    p.set_defaults(run=cmd_describe)

    p = sub.add_parser("table", help="the README's results tables (baselines and learners)",
                       formatter_class=FORMATTER)
    p.add_argument("--families", default="topics,sentiment,crossdomain", help="comma-separated")
    p.add_argument("--data", nargs="+", default=None, metavar="DIR",
                   help="data folders (train/val/test .tsv) to tabulate instead of --families")
    p.add_argument("--text", nargs="+", default=None, metavar="FILE",
                   help="unlabelled text files (one text a line) for the tf-idf baseline's IDF")
    p.add_argument("--max-len", type=int, default=None, help="tokens kept per text "
                   "(None: the train default)")
    p.add_argument("--dim", type=int, default=None, help="embedding size (None: train default)")
    p.add_argument("--hidden", type=int, default=None, help="hidden size (None: train default)")
    p.add_argument("--ngram-buckets", type=int, default=None, help="hashed character n-gram "
                   "buckets (None: the train default)")
    p.add_argument("--encoder", default=None, choices=["bag", "conv", "lexical"],
                   help="the learners' encoder (None: the train default)")
    p.add_argument("--learners", default="maml,fomaml,reptile,matching,protonet",
                   help="comma-separated meta-learners (empty: none)")
    p.add_argument("--baselines", default="bow,tfidf,scratch,pretrain",
                   help="comma-separated baselines (empty: none)")
    p.add_argument("--init", default=None, help="start every learner's embeddings from a file "
                   "made by `python -m metanumpy pretrain` (the baselines do not use it)")
    p.add_argument("--episodes", type=int, default=600, help="fixed meta-test episodes")
    p.add_argument("--steps", type=int, default=2000, help="meta-training steps per learner")
    p.add_argument("--seed", type=int, default=0, help="seed for data, models and episodes")
    p.add_argument("--out", default="results", help="folder for results.md/json and runs")
    add_path_flag(p)
    p.set_defaults(run=cmd_table)

    p = sub.add_parser("pretrain", help="pre-train word embeddings (skip-gram) for train --init",
                       formatter_class=FORMATTER)
    p.add_argument("--tasks", default="topics", help="family name or data folder/file")
    p.add_argument("--data", default=None, help="a data folder (same as --tasks DIR)")
    p.add_argument("--out", default="embeddings.npz", help="the .npz file to write")
    p.add_argument("--dim", type=int, default=64, help="embedding size (must match train --dim)")
    p.add_argument("--sentences", type=int, default=20000,
                   help="unlabelled meta-training sentences to learn from")
    p.add_argument("--text", nargs="+", default=None, metavar="FILE",
                   help="also learn from these unlabelled text files (one text a line)")
    p.add_argument("--epochs", type=int, default=5, help="passes over the sentences")
    p.add_argument("--window", type=int, default=2, help="context words on each side")
    p.add_argument("--seed", type=int, default=0, help="seed for the data (as in train) and "
                   "the pre-training")
    p.add_argument("--show", nargs="*", default=None, help="words whose nearest neighbours to "
                   "print (None: a few frequent words)")
    add_path_flag(p)
    p.set_defaults(run=cmd_pretrain)

    p = sub.add_parser("lessons", help="run the lessons, then print their key numbers",
                       formatter_class=FORMATTER)
    p.add_argument("numbers", nargs="*", type=int, help="lesson numbers to run (e.g. 4)")
    p.add_argument("--all", action="store_true", help="run every lesson, in order")
    p.add_argument("--list", action="store_true", help="list the lessons and stop")
    p.add_argument("--fast", action="store_true", help="tiny budgets: a seconds-long check run")
    p.add_argument("--seed", type=int, default=0, help="seed passed to every lesson")
    p.add_argument("--out", default=None, help="output folder (None: lessons/out/)")
    p.add_argument("--notebooks", metavar="DIR", default=None,
                   help="write the lessons (all, or those numbered) as Jupyter notebooks into "
                   "DIR, with --seed and --fast in their settings cells, instead of running "
                   "them (needs the extra: pip install -e '.[notebooks]')")
    p.set_defaults(run=cmd_lessons)

    sub.add_parser("assignments", help="release / grade classroom assignments (its own --help)",
                   add_help=False)
    p = sub.add_parser("demo", help="a short tour of the autograd engine")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("bench", help="benchmark the meta-training step (see metanumpy/bench/)",
                       formatter_class=FORMATTER)
    p.add_argument("--algos", default="maml,fomaml,reptile,protonet,matching",
                   help="comma-separated algorithms")
    p.add_argument("--sizes", default="S,M,L", help="comma-separated sizes (S, M, L)")
    p.add_argument("--steps", type=int, default=20, help="timed meta-steps per run")
    p.add_argument("--warmup", type=int, default=3, help="untimed meta-steps first")
    p.add_argument("--inner-steps", default="5",
                   help="inner SGD steps (MAML, FOMAML, Reptile); a list like 1,2,5,10 runs each")
    p.add_argument("--json", default=None, help="also write the rows (and machine info) here")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy", "strict"],
                   help="array backend")
    p.add_argument("--paths", default=None, help="comma-separated: reference, fast, torch "
                   "(None: reference and fast, and torch when PyTorch is installed)")
    p.add_argument("--ops", action="store_true",
                   help="instead: microseconds per op (small add, matmul), engine vs NumPy")
    p.add_argument("--trace", default=None, choices=["maml", "fomaml", "reptile", "protonet",
                                                       "matching"],
                   help="instead: the source files one meta-step of this algorithm runs")
    p.set_defaults(run=cmd_bench)
    return parser


USER_ERRORS = (ValueError, FileNotFoundError, ImportError)
"""Mistakes a user can fix: printed as one line "error: ...", exit status 1."""


def _print_warning(message, category, *args, **kwargs):
    print(f"warning: {message}", file=sys.stderr)


def console(argv=None):
    """`main` as the shell sees it (python -m metanumpy): returns the exit status.

    A user's mistake (a bad flag value, a malformed data line, a missing file, a diverged run)
    is one line on stderr, never a traceback; warnings about the data are one line each.
    """
    from .meta import TrainingDiverged

    with warnings.catch_warnings():
        warnings.showwarning = _print_warning
        try:
            result = main(argv)
        except (*USER_ERRORS, TrainingDiverged) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except SystemExit as stop:  # argparse (status 2), or a command's own message
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
                return 1
            return stop.code or 0
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "assignments":
        from .assignments import main as assignments_main

        return assignments_main(argv[1:])
    args = build_parser().parse_args(argv)
    if hasattr(args, "fast_path"):
        choose_path(args)
    return args.run(args)
