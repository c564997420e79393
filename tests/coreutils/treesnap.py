"""Shared by the core-utils tests: a comparable snapshot of a directory tree."""
import os


def snapshot(root):
    """{relative path: (type, content or link target)} of everything under root."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                snap[rel] = ("l", os.readlink(p))
            elif os.path.isdir(p):
                snap[rel] = ("d", None)
            else:
                with open(p, "rb") as f:
                    snap[rel] = ("f", f.read())
    return snap
