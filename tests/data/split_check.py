#!/usr/bin/env python3
"""Cross-checks kws::SplitPercentage / WhichSet against TF's which_set rule.

Writes name<TAB>percentage<TAB>set for many names (random hex speaker ids,
odd strings, and every file of the shared pool if present) and runs the gtest
OfficialSplit.MatchesPythonFixtureFile on them.
Usage: split_check.py TEST_BINARY [SHARED_DATA_DIR]
"""
import hashlib
import os
import random
import re
import subprocess
import sys
import tempfile

MAX_NUM_WAVS_PER_CLASS = 2**27 - 1  # ~134M, as in TF's input_data.py


def percentage(hash_name):
    h = hashlib.sha1(hash_name.encode("utf-8")).hexdigest()
    return (int(h, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)


def which(p, val=10, test=10):
    return "validation" if p < val else "testing" if p < val + test else "training"


def main():
    binary = sys.argv[1]
    names = set()
    rng = random.Random(1234)
    for _ in range(3000):
        names.add("%08x" % rng.getrandbits(32))
    for i in range(500):
        names.add("%d.wav" % i)
        names.add("word_%d" % i)
    if len(sys.argv) > 2:
        root = os.path.join(sys.argv[2], "speech_commands")
        if os.path.isdir(root):
            for d in os.listdir(root):
                if os.path.isdir(os.path.join(root, d)):
                    for f in os.listdir(os.path.join(root, d)):
                        names.add(re.sub(r"_nohash_.*$", "", f))
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as out:
        for n in sorted(names):
            p = percentage(n)
            out.write("%s\t%.17g\t%s\n" % (n, p, which(p)))
        path = out.name
    env = dict(os.environ, KWS_SPLIT_FIXTURE=path)
    r = subprocess.run([binary, "--gtest_filter=OfficialSplit.MatchesPythonFixtureFile"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.unlink(path)
    sys.stdout.write(r.stdout)
    if r.returncode != 0 or "[  PASSED  ] 1 test" not in r.stdout or "SKIPPED" in r.stdout:
        print("split_check: FAILED (%d names)" % len(names))
        return 1
    print("split_check: %d names agree with python hashlib" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
