# Runs inside the python bundle (tests/python/sandbox.py): tries what a plugin must not be able to
# do and what it must, and prints one JSON object of outcomes (exception class names or values).
import json
import os
import sys

out = {}


def attempt(name, fn):
    try:
        out[name] = ["ok", fn()]
    except BaseException as e:  # noqa: BLE001 - the class name is the result
        out[name] = [type(e).__name__, getattr(e, "errno", None)]


def read(path):
    with open(path, "rb") as f:
        return len(f.read())


attempt("read_etc_passwd", lambda: read("/etc/passwd"))
attempt("read_dotdot", lambda: read("/work/../etc/passwd"))
attempt("read_via_link", lambda: read("/work/link-out"))
attempt("root_exists", lambda: os.path.exists("/"))
attempt("root_listing", lambda: sorted(os.listdir("/")))
attempt("write_stdlib", lambda: open("/usr/local/lib/python3.11/evil.py", "w").write("x"))
attempt("write_root", lambda: open("/evil.txt", "w").write("x"))
attempt("cwd", os.getcwd)
attempt("makedirs", lambda: os.makedirs("/work/a/b/c", exist_ok=True) or os.path.isdir("/work/a/b/c"))
attempt("relative_write", lambda: open("rel.txt", "w").write("relative"))


def utime_now():
    p = "/work/stamp"
    open(p, "w").close()
    os.utime(p, (0, 0))
    os.utime(p)  # no times: now
    import time
    return abs(os.stat(p).st_mtime - time.time()) < 120


attempt("utime_now", utime_now)


def temp():
    import tempfile
    fd, path = tempfile.mkstemp()
    os.write(fd, b"x")
    os.close(fd)
    os.unlink(path)
    return os.path.dirname(path)


attempt("tempfile", temp)
attempt("environ", lambda: dict(os.environ))
attempt("executable", lambda: sys.executable)


def sock():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("93.184.216.34", 443))
    return "connected"


attempt("socket_connect", sock)


def resolve():
    import socket
    return socket.getaddrinfo("example.com", 443)


attempt("getaddrinfo", resolve)


def subproc():
    import subprocess
    return subprocess.run(["/bin/ls"], capture_output=True).returncode


attempt("subprocess", subproc)
attempt("os_system", lambda: os.system("ls"))


def urlopen():
    import urllib.request
    return urllib.request.urlopen("https://example.com/", timeout=5).status


attempt("urlopen", urlopen)


def thread():
    import threading
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
    return "started"


attempt("thread", thread)
print(json.dumps(out, sort_keys=True))
