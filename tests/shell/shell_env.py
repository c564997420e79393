"""Shared setup of the python shell tests (differential.py, interactive.py): the command line
and a wasmcap home with the coreutils bundle installed and its test key trusted."""
import argparse
import os
import shutil
import subprocess


def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--bundles", required=True)
    ap.add_argument("--engine", default=os.environ.get("WASMCAP_TEST_ENGINE", "interp"))
    return ap.parse_args()


def install_coreutils(args, tmp, **extra_env):
    """The environment of a wasmcap home under `tmp` holding the coreutils bundle; None (after
    printing why) when the bundle was not built or does not install."""
    return install_bundles(args, tmp, ["coreutils.wcb"], **extra_env)


def install_bundles(args, tmp, names, **extra_env):
    """The environment of a wasmcap home under `tmp` holding the bundles `names` (files in
    --bundles, e.g. coreutils.wcb, toolbox.wcb); None (after printing why) when one was not built
    or does not install."""
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, "trust"))
    shutil.copy(os.path.join(args.bundles, "wasmcap-test.pub"), os.path.join(home, "trust"))
    env = dict(os.environ, WASMCAP_HOME=home, **extra_env)
    for name in names:
        bundle = os.path.join(args.bundles, name)
        if not os.path.exists(bundle):
            print("SKIP: no %s built" % name)
            return None
        p = subprocess.run([args.wasmcap, "bundle", "install", bundle], env=env, capture_output=True)
        if p.returncode != 0:
            print("FAIL: bundle install %s:" % name, p.stderr.decode())
            return None
    return env
