#!/usr/bin/env python3
"""Runs the example commands of README.md, in order, in a temporary folder: the README's
examples are a tested script, so they cannot drift from what kws accepts.

Every line of a ```sh block whose command is `kws` or `build/kws` (also after a pipe) is run,
with the working folder holding `configs/` (a link to the source's) and `../shared/data`
replaced by the shared data folder. The run only checks that each command succeeds (exit 0) and
that the files later commands need are there; the README's numbers come from full runs. To keep
it to a few minutes on 2 cores, the heavy knobs are turned down (and only those):

  kws train / quickstart  --set train.epochs=2 added (quickstart also --per-word 12
                          --baseline-epochs 1 --bench-runs 3 --bench-warmup 1)
  --cv K                  -> --cv 2;  --seeds N -> 1;  --cv-partitions P -> 2
  data synth --per-word N -> 12
  bench                   --runs 20 --warmup 2 added
  stream-eval --minutes M -> 1

Skipped, with the reason printed: commands that are not kws (./setup.sh, ctest, cmake, bash
tools/...), pipelines from a microphone (arecord), commands that need ../shared when it is
absent, and commands that read what a skipped command would have written (its --out). Exit status 0 when every command that ran succeeded (and at least one ran).

  readme_examples.py --kws build/kws --source . --shared ../shared/data [--work DIR] [--keep]
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

FAST = {
    "train": ["--set", "train.epochs=2"],
    "quickstart": ["--set", "train.epochs=2", "--per-word", "12", "--baseline-epochs", "1", "--bench-runs", "3",
                   "--bench-warmup", "1"],
    "bench": ["--runs", "20", "--warmup", "2"],
}
REPLACE = {"--cv": "2", "--seeds": "1", "--cv-partitions": "2", "--minutes": "1"}
SYNTH_PER_WORD = "12"


def sh_blocks(readme):
    """The ```sh blocks of the README: lists of (line number, command) with continuations joined."""
    blocks, cur, start, in_sh = [], None, 0, False
    for n, line in enumerate(readme.splitlines(), 1):
        fence = line.strip().startswith("```")
        if fence and not in_sh:
            in_sh = line.strip() in ("```sh", "```bash", "```shell")
            cur = [] if in_sh else None
            continue
        if fence:
            if in_sh and cur is not None:
                blocks.append(cur)
            in_sh, cur = False, None
            continue
        if not in_sh:
            continue
        if cur and cur[-1][1].endswith("\\"):
            cur[-1] = (cur[-1][0], cur[-1][1][:-1] + " " + line.strip())
        elif line.strip():
            cur.append((n, line.strip()))
    return blocks


def speed_up(args):
    """The kws arguments with the heavy knobs turned down (see the module doc)."""
    out = list(args)
    for i, a in enumerate(out[:-1]):
        if a in REPLACE:
            out[i + 1] = REPLACE[a]
    cmd = out[0] if out else ""
    sub = out[1] if len(out) > 1 else ""
    if cmd == "data" and sub == "synth" and "--per-word" in out:
        out[out.index("--per-word") + 1] = SYNTH_PER_WORD
    extra = FAST.get(cmd, [])
    for i in range(0, len(extra), 2):  # flag, value pairs; a flag the README gives is kept as written
        if extra[i] == "--set" or extra[i] not in out:
            out += extra[i:i + 2]
    return out


def prepare(command, shared, shared_present):
    """(skip reason or None, argv list or shell string). Pipelines run through the shell."""
    if "../shared" in command and not shared_present:
        return "needs ../shared (absent)", None
    command = command.replace("../shared/data", shared)
    words = shlex.split(command, comments=True)
    if not words:
        return "empty", None
    if "arecord" in words:
        return "needs a microphone (arecord)", None
    if words[0] not in ("kws", "build/kws"):
        return "not a kws command (" + words[0] + ")", None
    if "|" in words:
        return "pipeline", None
    return None, speed_up(words[1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kws", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    kws = os.path.abspath(a.kws)
    shared = os.path.abspath(a.shared)
    shared_present = os.path.isdir(os.path.join(shared, "speech_commands"))
    work = a.work or tempfile.mkdtemp(prefix="kws_readme_")
    os.makedirs(work, exist_ok=True)
    os.symlink(os.path.join(os.path.abspath(a.source), "configs"), os.path.join(work, "configs"))
    env = dict(os.environ, CI="1", KWS_CACHE_DIR=os.path.join(work, "cache"))
    with open(os.path.join(a.source, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    ran = failed = 0
    skipped_outputs = set()
    for block in sh_blocks(readme):
        for line_no, command in block:
            skip, argv = prepare(command, shared, shared_present)
            if not skip and any(arg == o or arg.startswith(o + "/") for arg in argv for o in skipped_outputs):
                skip = "reads the output of a skipped command"
            if skip:
                words = shlex.split(command, comments=True)
                if "--out" in words[:-1]:
                    skipped_outputs.add(words[words.index("--out") + 1])
                print(f"README.md:{line_no}: skipped ({skip}): {command}")
                continue
            t0 = time.time()
            p = subprocess.run([kws] + argv, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, errors="replace")
            ran += 1
            status = "ok" if p.returncode == 0 else f"FAILED (exit {p.returncode})"
            print(f"README.md:{line_no}: {status} in {time.time() - t0:.1f} s: kws {' '.join(argv)}")
            if p.returncode != 0:
                failed += 1
                print("  " + "\n  ".join(p.stderr.strip().splitlines()[-5:]))
    if not a.keep and not a.work:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{ran} commands run, {failed} failed")
    return 0 if ran > 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
