"""Builds the python bundle's read-only root tree from a staged standard library.

    python3.11 make-root.py STDLIB_DIR ROOT_DIR

ROOT_DIR/usr/local/lib/python311.zip   the standard library: every .py with its bytecode beside
                                       it as NAME.pyc (zipimport's layout), compiled with
                                       unchecked-hash invalidation (the tree is signed and
                                       read-only, so a .pyc never needs its source's mtime) and
                                       with the in-zip path as co_filename (tracebacks name it)
ROOT_DIR/usr/local/lib/python3.11/os.py            landmark: CPython's getpath looks for it to
ROOT_DIR/usr/local/lib/python3.11/lib-dynload/.keep  find prefix / exec_prefix (and warns on
                                                     every start-up without them)

One zip instead of a tree of files because a bundle holds at most 64 entries (docs/bundles.md).
The zip is deterministic: sorted names, fixed timestamps, fixed permissions.
"""
import importlib.util
import os
import shutil
import sys
import zipfile

PREFIX = "/usr/local/lib"
ZIP_NAME = "python311.zip"
DATE = (1980, 1, 1, 0, 0, 0)


def bytecode(source, dfile):
    code = compile(source, dfile, "exec", dont_inherit=True, optimize=0)
    source_hash = importlib.util.source_hash(source)
    # PEP 552 hash-based pyc, check_source = False ("unchecked-hash").
    import importlib._bootstrap_external as ext
    return bytes(ext._code_to_hash_pyc(code, source_hash, checked=False))


def add(z, name, data):
    info = zipfile.ZipInfo(name, DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, data, compresslevel=6)


def main():
    stdlib, root = sys.argv[1], sys.argv[2]
    if sys.version_info[:2] != (3, 11):
        sys.exit("make-root.py: needs python3.11 (bytecode must match the interpreter)")
    libdir = os.path.join(root, PREFIX.lstrip("/"))
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(libdir, "python3.11", "lib-dynload"))
    files = []
    for dirpath, dirnames, filenames in os.walk(stdlib):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in filenames:
            files.append(os.path.relpath(os.path.join(dirpath, f), stdlib))
    files.sort()
    skipped = []
    with zipfile.ZipFile(os.path.join(libdir, ZIP_NAME), "w") as z:
        for rel in files:
            with open(os.path.join(stdlib, rel), "rb") as fh:
                data = fh.read()
            name = rel.replace(os.sep, "/")
            add(z, name, data)
            if name.endswith(".py"):
                try:
                    pyc = bytecode(data, f"{PREFIX}/{ZIP_NAME}/{name}")
                except SyntaxError:  # e.g. lib2to3 fixture files meant to be invalid
                    skipped.append(name)
                    continue
                add(z, name[:-3] + ".pyc", pyc)
    shutil.copyfile(os.path.join(stdlib, "os.py"), os.path.join(libdir, "python3.11", "os.py"))
    with open(os.path.join(libdir, "python3.11", "lib-dynload", ".keep"), "w") as fh:
        fh.write("CPython's getpath checks that this directory exists (exec_prefix).\n")
    print(f"make-root.py: {len(files)} files, {len(skipped)} without bytecode (syntax errors)")


if __name__ == "__main__":
    main()
