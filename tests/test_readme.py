"""The README stays true: its demo output is what the demo prints, CI runs its test command."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_block_after(marker):
    match = re.search(re.escape(marker) + r"\s*```\w*\n(.*?)```", README, re.S)
    assert match, f"no fenced block after {marker!r} in README.md"
    return match.group(1)


def test_demo_output_in_readme_is_what_the_demo_prints():
    printed = subprocess.run([sys.executable, "-m", "metanumpy", "demo"], capture_output=True,
                             text=True, check=True, cwd=ROOT).stdout
    assert printed == fenced_block_after("<!-- demo-output -->")


def test_ci_runs_the_readme_test_command():
    commands = fenced_block_after("## Two commands")
    test_command = [line for line in commands.splitlines() if "pytest" in line][0].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_setup_cfg_reads_as_setuptools_reads_it():
    """setuptools reads setup.cfg with interpolation: a bare '%' breaks `pip install`."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    for section in parser.sections():
        for option in parser.options(section):
            parser.get(section, option)  # raises InterpolationSyntaxError on a bare '%'
