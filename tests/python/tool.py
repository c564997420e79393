#!/usr/bin/env python3
"""The python bundle's MCP tool (`tools` in guest/python/manifest.json): `wasmcap tool list|call`
and a `wasmcap mcp` stdio session. `code` runs like python -c, `file` runs a script inside the
workspace, `args` is sys.argv[1:]; an uncaught exception is isError with the traceback in the
content; the runner refuses neither/both of code and file and a file outside /work.

Usage: tool.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot|auto]
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402


def main():
    a = pyharness.common_args()
    c = pyharness.Checks()
    w = pyharness.World(a.wasmcap, a.bundles, a.engine, a.aot_cache)
    try:
        w.install()
        cfg = w.host_config()
        server = ["--config", cfg, "--engine", a.engine]

        def call(args, *extra):
            p = w.wasmcap_cmd("tool", "call", "python", *server, *extra, "--json", json.dumps(args),
                              timeout=300)
            try:
                r = json.loads(p.stdout)
            except ValueError:
                r = {}
            texts = [b.get("text", "") for b in r.get("content", [])]
            return p, r, texts

        def detail(p, r):
            return "exit %d %r %r" % (p.returncode, r, p.stderr[-2000:])

        # --- the catalog -------------------------------------------------------------------
        p = w.wasmcap_cmd("tool", "list", "--config", cfg, "--json")
        tools = json.loads(p.stdout) if p.returncode == 0 else []
        t = next((x for x in tools if x.get("name") == "python"), None)
        c.check("tool list offers `python`", t is not None, "%r %r" % (p.stdout, p.stderr))
        props = (t or {}).get("inputSchema", {}).get("properties", {})
        c.check("its arguments are code (string), file (string), args (array of strings)",
                props.get("code", {}).get("type") == "string" and
                props.get("file", {}).get("type") == "string" and
                props.get("args", {}).get("items", {}).get("type") == "string" and
                t["inputSchema"].get("additionalProperties") is False, props)
        c.check("it may write (the workspace is rw): readOnlyHint false",
                (t or {}).get("annotations", {}).get("readOnlyHint") is False, (t or {}).get("annotations"))

        # --- code ----------------------------------------------------------------------------
        p, r, texts = call({"code": "print(1+1)"})
        c.check("code: print(1+1) -> '2', isError false",
                p.returncode == 0 and r.get("isError") is False and texts == ["2\n"], detail(p, r))
        p, r, texts = call({"code": "import os, sys\nprint(os.getcwd(), sys.argv, __name__)",
                            "args": ["x", "-y"]})
        c.check("code: cwd /work, sys.argv ['-c', *args] (a leading '-' is data), __main__",
                texts == ["/work ['-c', 'x', '-y'] __main__\n"], detail(p, r))
        p, r, texts = call({"code": "def f(x):\n    return 1 / x\nprint('before')\nf(0)\n"})
        tb = texts[1] if len(texts) > 1 else ""
        c.check("code raising: isError, stdout first, then the traceback with source lines",
                p.returncode == 1 and r.get("isError") is True and texts[:1] == ["before\n"] and
                "ZeroDivisionError: division by zero" in tb and "return 1 / x" in tb and
                'File "<code>", line 4, in <module>' in tb and texts[-1] == "exit status 1",
                detail(p, r))
        c.check("the traceback shows no frame of the tool's runner", tb.count('File "') == 2, tb)
        p, r, texts = call({"code": "1 +"})
        c.check("a SyntaxError is isError with the message",
                r.get("isError") is True and any("SyntaxError" in x for x in texts), detail(p, r))
        p, r, texts = call({"code": "import sys; print('out'); sys.exit(3)"})
        c.check("sys.exit(3): isError, 'exit status 3'", r.get("isError") is True and
                texts == ["out\n", "exit status 3"], detail(p, r))
        p, r, texts = call({"code": "import pickle\nclass A: pass\n"
                                    "print(type(pickle.loads(pickle.dumps(A()))).__qualname__)"})
        c.check("the code is the real __main__ module (pickle finds its classes)",
                texts == ["A\n"], detail(p, r))

        # --- file ----------------------------------------------------------------------------
        os.makedirs(os.path.join(w.ws, "pkg"))
        with open(os.path.join(w.ws, "pkg", "helper.py"), "w") as f:
            f.write("VALUE = 41\n")
        with open(os.path.join(w.ws, "pkg", "main.py"), "w") as f:
            f.write("import sys, helper\nprint(__file__, sys.argv[1:], helper.VALUE + 1)\n"
                    "open('/work/written.txt', 'w').write('from the tool')\n")
        p, r, texts = call({"file": "pkg/main.py", "args": ["a b", "c"]})
        c.check("file: runs a workspace script with args, its directory importable",
                r.get("isError") is False and texts == ["/work/pkg/main.py ['a b', 'c'] 42\n"],
                detail(p, r))
        c.check("file: what it writes lands in the workspace",
                os.path.exists(os.path.join(w.ws, "written.txt")) and
                open(os.path.join(w.ws, "written.txt")).read() == "from the tool")
        p, r, texts = call({"file": "/work/pkg/main.py"})
        c.check("file: an absolute path under /work", texts[:1] == ["/work/pkg/main.py [] 42\n"],
                detail(p, r))
        with open(os.path.join(w.ws, "boom.py"), "w") as f:
            f.write("import json\njson.loads('{')\n")
        p, r, texts = call({"file": "boom.py"})
        c.check("file raising: isError with the traceback (script and stdlib lines)",
                r.get("isError") is True and any('boom.py", line 2' in x and "JSONDecodeError" in x and
                                                 "json/decoder.py" in x for x in texts), detail(p, r))
        # The bundle's read-only tree has files a script path could name: the runner refuses
        # anything outside the workspace (the landmark os.py would otherwise run).
        p, r, texts = call({"file": "../usr/local/lib/python3.11/os.py"})
        c.check("file outside /work (the bundle's tree) is refused by name",
                r.get("isError") is True and any("must be a path inside the workspace" in x for x in texts),
                detail(p, r))
        p, r, texts = call({"file": "missing.py"})
        c.check("a missing file: isError naming it",
                r.get("isError") is True and any("cannot read 'missing.py'" in x for x in texts), detail(p, r))

        # --- the runner's argument rules and the schema -------------------------------------------
        for args in ({}, {"code": "print(1)", "file": "boom.py"}):
            p, r, texts = call(args)
            c.check("exactly one of code/file: %s refused, nothing ran" % json.dumps(args),
                    r.get("isError") is True and texts and "exactly one of" in texts[0] and
                    "1\n" not in texts, detail(p, r))
        p, r, texts = call({"code": 5})
        c.check("schema: a non-string code is an invalid-arguments tool error",
                r.get("isError") is True and texts and texts[0].startswith("invalid arguments:"), detail(p, r))
        p, r, texts = call({"code": "print(1)", "stdin": "x"})
        c.check("schema: unknown arguments are refused", r.get("isError") is True and
                texts and texts[0].startswith("invalid arguments:"), detail(p, r))

        # --- per-call workspaces ---------------------------------------------------------------
        calls = os.path.join(w.tmp, "calls")
        os.makedirs(calls)
        p, r, texts = call({"code": "import os; open('x', 'w').write('1'); print(sorted(os.listdir('.')))"},
                           "--call-workspaces", calls)
        c.check("--call-workspaces: the call sees a fresh empty /work, removed afterwards",
                texts == ["['x']\n"] and os.listdir(calls) == [], detail(p, r))

        # --- over MCP (stdio) ------------------------------------------------------------------
        msgs = [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "tool.py", "version": "1"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
             "params": {"name": "python", "arguments": {"code": "import sys\nprint(sys.version_info[:2])"}}},
        ]
        # stdin stays open until the call's reply is read: EOF stops running calls (docs/mcp.md).
        proc = subprocess.Popen([w.wasmcap, "mcp"] + server, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=w.env)
        replies = {}
        try:
            for m in msgs:
                proc.stdin.write((json.dumps(m) + "\n").encode())
            proc.stdin.flush()
            while 3 not in replies:
                line = proc.stdout.readline()  # bounded: the call's deadline is 60 s
                if not line:
                    break
                try:
                    r = json.loads(line)
                    replies[r.get("id")] = r
                except ValueError:
                    pass
        finally:
            proc.stdin.close()
            proc.wait(timeout=120)
        p = subprocess.CompletedProcess(proc.args, proc.returncode, b"", proc.stderr.read())
        proc.stdout.close()
        proc.stderr.close()
        listed = [x["name"] for x in replies.get(2, {}).get("result", {}).get("tools", [])]
        c.check("mcp: tools/list has python", "python" in listed, "%r %r" % (replies, p.stderr))
        res = replies.get(3, {}).get("result", {})
        c.check("mcp: tools/call python runs the code",
                res.get("isError") is False and res.get("content", [{}])[0].get("text") == "(3, 11)\n",
                "%r %r" % (replies.get(3), p.stderr))
    finally:
        w.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
