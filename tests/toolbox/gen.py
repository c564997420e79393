"""Generated inputs and the cases of the toolbox's differential tests (differential.py).

A case is {"args": [...], "files": {name: bytes}, "stdin": bytes, "outs": [files to compare]}.
Inputs come from a seeded generator, so a run is reproducible (--seed) and a new seed explores.
"""
import json

WORDS = ["alpha", "beta", "Gamma", "delta", "x", "", "na\u00efve", "caf\u00e9", "a b", "tab\there",
         "q\"uote", "back\\slash", "42", "-7", "3.25", "1e3", "0x1A", "  pad  ", "UPPER", "\u2603"]


def table(rng, rows, sep=" "):
    """Rows of mixed fields: words, integers, decimals, empty fields."""
    out = []
    for _ in range(rows):
        n = rng.randint(0, 7)
        fields = []
        for _ in range(n):
            k = rng.random()
            if k < 0.35:
                fields.append(str(rng.randint(-1000, 100000)))
            elif k < 0.55:
                fields.append("%.*f" % (rng.randint(0, 4), rng.uniform(-500, 500)))
            else:
                fields.append(rng.choice(WORDS).replace(sep, "_") if sep != " " else
                              rng.choice(WORDS).replace(" ", "_").replace("\t", "_"))
        out.append(sep.join(fields))
    return ("\n".join(out) + "\n").encode()


def awk_cases(rng):
    t1 = table(rng, 60)
    t2 = table(rng, 25)
    csv = table(rng, 40, sep=",")
    paras = ("\n".join(
        "\n".join("%s %d" % (rng.choice(WORDS[:6]) or "w", rng.randint(0, 99))
                  for _ in range(rng.randint(1, 4))) + "\n" + "\n" * rng.randint(1, 3)
        for _ in range(8))).encode()
    files = {"t1.txt": t1, "t2.txt": t2, "data.csv": csv, "paras.txt": paras,
             "prog.awk": b"function max(a, b) { return a > b ? a : b }\n"
                         b"{ for (i = 1; i <= NF; i++) if ($i + 0 == $i) m = max(m, $i) }\n"
                         b"END { print \"max\", m + 0 }\n"}
    progs = [
        ["{ s += $1 } END { print s, NR }", "t1.txt"],
        ["{ print NF, $NF, $(NF > 1 ? NF - 1 : 1) }", "t1.txt"],
        ["-F,", "{ print $2 \"|\" $1; n[NF]++ } END { for (k in n) print k, n[k] }", "data.csv"],
        ["-F", ",", "-v", "OFS=;", "{ $1 = $1; print }", "data.csv"],
        ["-v", "x=3", "-v", "y=hello", "BEGIN { print x * 2, y, length(y) }"],
        ["{ printf \"%5s|%-6s|%d|%5.2f|%e|%g|%x|%o|%c|%%\\n\", $1, $2, $1, $1, $1, $1, $1, $1, $2 }",
         "t1.txt"],
        ["{ print length($0), length(), substr($0, 2, 3), substr($0, 0), substr($0, -1, 3), index($0, \"a\") }",
         "t1.txt"],
        ["{ n = split($0, a, /[0-9]+/); print n, a[1], a[n] }", "t1.txt"],
        ["{ n = split($0, a, \"\"); print n, a[1] }", "t2.txt"],
        ["{ c = gsub(/[aeiou]/, \"<&>\"); print c, $0 }", "t1.txt"],
        ["{ sub(/^ */, \"\"); sub(/[0-9]+$/, \"N\"); print }", "t1.txt"],
        ["{ print toupper($0); print tolower($0) }", "t2.txt"],
        ["match($0, /[0-9]+\\.[0-9]+/) { print RSTART, RLENGTH, substr($0, RSTART, RLENGTH) }",
         "t1.txt"],
        ["{ w[$1]++ } END { for (k in w) if (w[k] > 1) print k, w[k] }", "t1.txt"],
        ["NR % 3 == 0 { next } /a/, /e/ { print NR \": \" $0 }", "t1.txt"],
        ["{ print FILENAME, FNR, NR }", "t1.txt", "t2.txt"],
        ["-f", "prog.awk", "t1.txt", "t2.txt"],
        ["BEGIN { RS = \"\" } { print NR \": \" $1 \" (\" NF \")\" }", "paras.txt"],
        ["BEGIN { RS = \";\"; ORS = \"|\\n\" } { print NR, $0 }", "data.csv"],
        ["BEGIN { OFMT = \"%.2f\"; CONVFMT = \"%.3g\"; x = 3.14159265; y = x \"\"; print x, y, 1e6, 1e16, 0.1 + 0.2 }"],
        ["BEGIN { print 2^53, 2^53 + 1, -2^31, 1/3, int(-3.7), int(\"12abc\"), \"3x\" + 0, 1e308 * 10, -1e308 * 10 }"],
        ["BEGIN { print sqrt(2), exp(1), log(10), sin(1), cos(1), atan2(1, 2), atan2(0, -1) }"],
        ["BEGIN { srand(1); a = rand(); srand(1); b = rand(); print (a == b), (a >= 0 && a < 1), srand(5) }"],
        ["BEGIN { printf \"%s %d %.3s %5.1f%%\\n\", \"str\", \"42abc\", \"abcdef\", 99.44 }"],
        ["BEGIN { x = sprintf(\"%08.3f|%+d|% d|%#o|%#x|%-8s|\", 3.14159, 5, 5, 8, 255, \"ab\"); print x }"],
        ["{ $3 = \"X\"; print; print NF }", "t2.txt"],
        ["{ NF = 2; print }", "t1.txt"],
        ["{ $0 = $2 \" \" $1; print $1 }", "t2.txt"],
        ["BEGIN { while ((getline line < \"t2.txt\") > 0) n++; close(\"t2.txt\"); print n, line }"],
        ["{ print > \"out.txt\"; print $1 >> \"app.txt\" } END { close(\"out.txt\"); while ((getline l < \"out.txt\") > 0) c++; print c }",
         "t2.txt"],
        ["BEGIN { if (!(3 in a)) print \"no\"; a[3]; if (3 in a) print \"yes\"; delete a[3]; print length(a) }"],
        ["BEGIN { x[1,2] = 3; for (k in x) { split(k, p, SUBSEP); print p[1], p[2], x[k] } }"],
        ["$1 ~ /^[0-9]+$/ && $1 > 500 { print \"big\", $1 } $1 !~ /^-/ { n++ } END { print n }", "t1.txt"],
        ["BEGIN { print (\"a\" < \"b\"), (\"10\" < \"9\"), (10 < 9), (\"abc\" ~ \"b\"), substr(\"hello\", 2) }"],
        ["BEGIN { s = \"a.b.c\"; gsub(\".\", \"-\", s); print s; t = \"a.b.c\"; gsub(/\\./, \"-\", t); print t }"],
        ["{ exit NR + 2 } END { print \"end\" }", "t2.txt"],
        ["BEGIN { exit 3 }"],
        ["BEGIN { print 1 / 0 }"],
        ["BEGIN { print substr(\"abc\", 2, -1) \"|\" substr(\"abc\", 10) \"|\" length(12345) }"],
        ["BEGIN { print index(\"foobar\", \"bar\"), index(\"foo\", \"\"), toupper(123) }"],
        ["BEGIN { printf \"%c%c%c\\n\", 65, \"BCD\", 256 + 67 }"],
        ["/a(/"],
        ["BEGIN { x = \"a(\"; if (\"b\" ~ x) print 1 }"],
        ["{ print $1 }", "missing.txt"],
        ["BEGIN { getline; print \"got\", $0; getline x; print x }"],
        ["BEGIN { printf \"%d %d\\n\", \"0x1A\", 1e18 }"],
        ["{ gsub(/x*/, \"-\"); print }", "t2.txt"],
        ["BEGIN {"],
        ["BEGIN { printf \"%*d|%-*d|\\n\", 5, 42, 4, 7 }"],
        ["-v", "RS=a", "{ print NR \":\" $0 \":\" }", "t2.txt"],
        ["BEGIN { FS = \"\" } { print NF, $1, $NF }", "t2.txt"],
        ["BEGIN { FS = \"[0-9]\" } { print NF }", "t1.txt"],
    ]
    cases = []
    for p in progs:
        c = {"args": p, "files": files, "stdin": t2}
        if "out.txt" in p[0]:
            c["outs"] = ["out.txt", "app.txt"]
        cases.append(c)
    # The same programs on stdin instead of a file.
    cases.append({"args": ["{ s += $NF } END { printf \"%.4f\\n\", s }"], "stdin": t1})
    cases.append({"args": ["-F\\t", "{ print NF }"], "stdin": b"a\tb\tc\n\n\t\n"})
    cases.append({"args": ["{ print }"], "stdin": b"no trailing newline"})
    # String to number: mawk's plain-decimal conversion (patches/mawk/03) and what it leaves to
    # strtod (exponents, hex, inf, 16 digits and more, trailing garbage), as values (%.17g), as
    # strnums ($1 == $1 + 0 only when the whole field is a number) and in comparisons.
    nums = ["0", "-0", "+0", "42", "-42", "+7", "3.25", "-3.25", ".5", "-.5", "5.", " 12 ",
            "\t7\t", "\v8\f", "1e3", "1E-2", "12.3e", "0x1A", "0X1a", "-0x10", "inf", "-inf",
            "infinity", "123456789012345", "999999999999999", "1234567890123456",
            "9007199254740993", "0.1", "0.30000000000000004", "00000000000000000012",
            "000000000000012", "99999999999999.9", "1.23456789012345", "0.000000000000001",
            "1.5.3", "12abc", "1.", ".", "-", "+", "", "- 5", "1_000", "12 ",
            "%d" % rng.randint(-10 ** 15 + 1, 10 ** 15 - 1),
            "%.*f" % (rng.randint(1, 8), rng.uniform(-1e6, 1e6))]
    cases.append({"args": ["-F,", "{ printf \"%s|%.17g|%d|%s\\n\", $1, $1 + 0, $1 == $1 + 0, "
                           "$1 < 10 ? \"lt\" : \"ge\" } END { print NR }"],
                  "stdin": ("\n".join(nums) + "\n").encode()})
    cases.append({"args": ["{ print length }"], "stdin": b"nul\x00inside\n\xff\xfe bytes\n"})
    big = b"".join(b"%d %s\n" % (i, rng.choice(WORDS).encode()) for i in range(20000))
    cases.append({"args": ["{ n[$2]++; s += $1 } END { print s, length(n) }"], "stdin": big})
    return cases


def json_value(rng, depth=0):
    k = rng.random()
    if depth > 3 or k < 0.35:
        return rng.choice([
            lambda: rng.randint(-10**6, 10**6),
            lambda: rng.randint(-2**62, 2**62),
            lambda: round(rng.uniform(-1e6, 1e6), rng.randint(0, 8)),
            lambda: rng.uniform(-1, 1) * 10 ** rng.randint(-300, 300),
            lambda: rng.choice(WORDS + ["\u0000nul", "ctl\u0001\u001f", "emoji \U0001F600", "\ud7ff"]),
            lambda: rng.choice([True, False, None]),
        ])()
    if k < 0.7:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {rng.choice(["id", "name", "tags", "n", "x", "y", "nested", "k\u00e9y", ""]) + str(i):
            json_value(rng, depth + 1) for i in range(rng.randint(0, 5))}


def records(rng, n):
    out = []
    for i in range(n):
        out.append({"id": i, "name": rng.choice(WORDS), "n": rng.randint(-50, 50),
                    "tags": [rng.choice(["a", "b", "c"]) for _ in range(rng.randint(0, 3))],
                    "x": json_value(rng, 2)})
    return out


def jq_cases(rng):
    docs = [json_value(rng) for _ in range(12)]
    recs = records(rng, 40)
    stream = "".join(json.dumps(d) + "\n" for d in docs).encode()
    arr = json.dumps(recs, indent=1).encode()
    files = {"docs.json": stream, "recs.json": arr, "bad.json": b'{"a": 1,, }\n',
             "lib.jq": b"def double: . * 2;\n"}
    filters = [
        ["."], ["-c", "."], ["-S", "."], ["--tab", "."], ["--indent", "1", "."], ["-a", "-c", "."],
        ["-c", "..|numbers"], ["-c", "[paths]"], ["-c", "tostream"], ["type"], ["-c", "length"],
        ["-c", "if type == \"object\" then keys else . end"],
        ["-c", "if type == \"array\" then map(type) else to_entries? end"],
        ["-c", "tojson"], ["-c", "tojson | fromjson"], ["-r", "tostring"],
        ["-c", "[.. | strings | ascii_downcase, explode, @base64, @uri, @html, @sh, @json]"],
        ["-c", "[.. | numbers | floor, sqrt?, fabs, tostring]"],
    ]
    cases = [{"args": f + ["docs.json"], "files": files} for f in filters]
    on_recs = [
        ["-c", "map(select(.n > 0)) | length"],
        ["-c", "group_by(.name) | map({name: .[0].name, count: length})"],
        ["-c", "sort_by(.n, .id) | map(.id)"],
        ["-c", "map(.n) | add, min, max, (add / length)"],
        ["-c", "unique_by(.name) | map(.name)"],
        ["-c", "[.[] | .tags[]] | unique"],
        ["-r", ".[] | [.id, .name, .n] | @csv"],
        ["-r", ".[] | [.id, .name, .n] | @tsv"],
        ["-c", "reduce .[] as $r ({}; .[$r.name] += $r.n)"],
        ["-c", "map(del(.x)) | .[0:3]"],
        ["-c", ".[0] | to_entries | map(.key)"],
        ["-c", ".[0] | with_entries(.value |= tostring)"],
        ["-c", "[limit(3; .[] | .id)], first(.[] | select(.n < 0)) .id"],
        ["-c", "[.[] | .name | ltrimstr(\"a\") | rtrimstr(\"a\") | startswith(\"b\")]"],
        ["-c", "map(.name) | join(\"-\")"],
        ["-c", "[.[] | .id] | indices(3), index(5), any(. > 30), all(. >= 0)"],
        ["-c", "getpath([\"0\"])?, (.[0] | getpath([\"tags\", 0])), setpath([0, \"n\"]; 1)[0].n"],
        ["-c", "[recurse(if type == \"array\" then .[] else empty end)] | length"],
        ["-c", "walk(if type == \"number\" then . + 1 else . end) | .[0]"],
        ["-c", "path(..) | select(length > 3)"],
        ["-c", "map(.id) | [range(0; length; 7)] "],
        ["-c", "to_entries | from_entries | keys | length"],
        ["--arg", "nm", "beta", "-c", "map(select(.name == $nm)) | length"],
        ["--argjson", "k", "{\"a\": [1, 2]}", "-c", "$k.a[1], $k"],
        ["-c", "[splits(\", \")]?, ([.[].name] | map(split(\"a\")))"],
        ["-c", "map(.n) | sort | .[length / 2 | floor]"],
        ["-c", "[.[] | .n | tostring | tonumber] == map(.n)"],
        ["-c", "input_filename, ($__loc__ | .line)"],
        ["-e", ".[100]"],
        ["-e", ".[0].id == 0"],
        ["-j", ".[] | .name"],
        ["-c", "[.[] | .n] | @json \"v: \\(.)\""],
        ["-c", "map(.n) | (add | . / 7 | . * 1000 | round), (map(pow(.; 2)) | add), log?"],
        ["-c", "(\"2015-03-05T23:51:47Z\" | fromdate), (1425599621 | todate), (1425599621 | gmtime | mktime), (0 | strftime(\"%A %B %d %Y %j\"))"],
        ["-c", "\"x\" * 3, (\"a,b\" / \",\"), ({} | .a.b.c = 1), ([3, 1, 2] - [1]), ({\"a\": 1} * {\"a\": {\"b\": 2}})"],
        ["-c", "[.[] | .x | tojson | length] | add"],
        ["-c", "infinite, -infinite, nan | tostring"],
        ["-c", "[1e1000, -1e1000, 100000000000000000000, 0.1, 1.5e-7, 3.0, 1E2]"],
        ["-c", "error(\"boom\")"],
        ["-c", "{a: 1} | .a.b"],
        ["-c", "include \"lib\"; map(.n | double) | add", "-L", "."],
        ["-c", "import \"lib\" as l; 3 | l::double", "-L", "."],
        ["-n", "-c", "[inputs | .id] | length"],
        ["-s", "-c", "length, (.[0] | length)"],
        ["-n", "-c", "[limit(5; repeat(1))], [range(5)] , ([range(10)] | until(length < 3; .[1:]))"],
        ["-c", "[.[] | .name | @text \"<\\(.)>\" ]"],
        ["-c", ".[0] | has(\"id\"), has(\"zz\"), (.tags | has(0)), contains({name: \"\"}), inside({})"],
        ["-c", "map(.name) | map(ascii_upcase) | map(utf8bytelength) | add"],
        ["-c", "[.[] | .name | implode?] | length, ([.[] | .name | explode | implode] == map(.name))"],
        ["-c", ".[0] | tostream | select(length == 2)"],
        ["-c", "fromstream(tostream) == ."],
        ["--seq", "-c", ".[0].id"],
        ["-c", "map(.n) | .[1:3], .[-2:], .[:1]"],
        ["-c", "[.[] | .n] | map(. % 7), map(-. ), (.[0] // \"d\")"],
        ["-c", "try error({\"x\": 1}) catch .x"],
        ["-c", "label $out | foreach .[] as $i (0; . + 1; if . > 3 then ., break $out else empty end)"],
        ["-c", "[.[] | .id | (. as $x | [$x, $x * $x])] | .[0:4]"],
        ["-c", "env | type, ($ENV | type)"],
        ["-c", "ltrimstr(1), splits(1)?, halt_error(\"stop\\n\")"],
    ]
    cases += [{"args": f + ["recs.json"], "files": files} for f in on_recs]
    cases += [
        {"args": ["-c", "."], "files": files, "stdin": b'{"a": [1, 2}\n'},
        {"args": ["."], "files": files, "stdin": b"1 2 \"three\" [4] {\"5\": 6} null true\n"},
        {"args": [".", "bad.json"], "files": files},
        {"args": ["-c", ".[", "recs.json"], "files": files},
        {"args": [".", "missing.json"], "files": files},
        {"args": ["-c", ".a", "--argfile"], "files": files},
        {"args": ["-n", "1 + 1", "--unknown-flag"], "files": files},
        {"args": ["-c", "--slurp", "--raw-input", "."], "files": files,
         "stdin": b"line one\nline two\n\xff bad utf8\n"},
        {"args": ["-R", "-c", "length"], "files": files, "stdin": b"a\nbb\n\ncaf\xc3\xa9\n"},
        {"args": ["-c", "."], "files": files,
         "stdin": ("[" * 300 + "]" * 300 + "\n").encode()},
        {"args": ["-c", "[.[] | . * 2] | add"], "files": files,
         "stdin": json.dumps(list(range(20000))).encode()},
        # No filter, stdin and stdout pipes: `jq .` (on a terminal jq prints its usage), and no
        # colour (jq colours a terminal): the guest's isatty() follows the host descriptor.
        {"args": [], "files": files, "stdin": stream},
    ]
    return cases


def _edited(rng, lines):
    out = list(lines)
    for _ in range(rng.randint(0, 6)):
        k = rng.random()
        i = rng.randint(0, len(out))
        if k < 0.35:
            out.insert(i, rng.choice(LINES))
        elif k < 0.7 and out:
            del out[min(i, len(out) - 1)]
        elif out:
            out[min(i, len(out) - 1)] = rng.choice(LINES)
    return out


LINES = ["alpha", "beta", "gamma", "", "  indented", "trailing  ", "Tab\there", "UPPER", "upper",
         "x = 1;", "}", "{", "caf\u00e9", "same", "same", "same"]


def text_pair(rng):
    a = [rng.choice(LINES) for _ in range(rng.randint(0, 40))]
    b = _edited(rng, a)
    ea = "\n".join(a) + ("\n" if a and rng.random() < 0.85 else "")
    eb = "\n".join(b) + ("\n" if b and rng.random() < 0.85 else "")
    return ea.encode(), eb.encode()


def diff_cases(rng):
    """GNU diff and cmp on generated pairs and trees (differential.py gives every file the same
    mtime on both sides, so the headers' timestamps are comparable)."""
    files = {}
    for i in range(8):
        a, b = text_pair(rng)
        files["a%d.txt" % i], files["b%d.txt" % i] = a, b
    files["empty"] = b""
    files["bin1"] = bytes(rng.randrange(256) for _ in range(300))
    files["bin2"] = files["bin1"][:150] + b"\x00X" + files["bin1"][152:]
    for side in ("l", "r"):
        for i in range(5):
            a, b = text_pair(rng)
            if rng.random() < 0.8 or side == "l":
                files["%s/d%d/f%d.txt" % (side, i % 2, i)] = a if side == "l" else b
        files["%s/only-%s.txt" % (side, side)] = b"only\n"
        files["%s/sub/same.txt" % side] = b"same\n"
    cases = []
    for i in range(8):
        a, b = "a%d.txt" % i, "b%d.txt" % i
        for opts in (["-u"], [], ["-c"], ["-U", "1"], ["-q"], ["-e"], ["-n"], ["-i", "-w", "-B", "-u"],
                     ["-y", "-W", "60"], ["-u", "--label", "x/old", "--label", "y/new"]):
            cases.append({"tool": "diff", "args": opts + [a, b], "files": files})
    cases += [
        {"tool": "diff", "args": ["-ur", "l", "r"], "files": files},
        {"tool": "diff", "args": ["-urN", "l", "r"], "files": files},
        {"tool": "diff", "args": ["-rq", "l", "r"], "files": files},
        {"tool": "diff", "args": ["-r", "l", "r"], "files": files},
        {"tool": "diff", "args": ["-ruN", "--exclude=only-*", "l", "r"], "files": files},
        {"tool": "diff", "args": ["-u", "empty", "a0.txt"], "files": files},
        {"tool": "diff", "args": ["-u", "a0.txt", "missing"], "files": files},
        {"tool": "diff", "args": ["-uN", "a0.txt", "missing"], "files": files},
        {"tool": "diff", "args": ["bin1", "bin2"], "files": files},
        {"tool": "diff", "args": ["-a", "-u", "bin1", "bin2"], "files": files},
        {"tool": "diff", "args": ["-u", "--label", "in", "-", "a1.txt"], "files": files,
         "stdin": files["b1.txt"]},  # (stdin's time is "now": labelled)
        {"tool": "diff", "args": ["--bogus", "a", "b"], "files": files},
        {"tool": "diff", "args": ["a0.txt", "a0.txt"], "files": files},
        {"tool": "cmp", "args": ["a0.txt", "b0.txt"], "files": files},
        {"tool": "cmp", "args": ["-l", "bin1", "bin2"], "files": files},
        {"tool": "cmp", "args": ["-s", "bin1", "bin2"], "files": files},
        {"tool": "cmp", "args": ["-b", "bin1", "bin2"], "files": files},
        {"tool": "cmp", "args": ["bin1", "bin1"], "files": files},
        {"tool": "cmp", "args": ["-n", "100", "bin1", "bin2"], "files": files},
        {"tool": "cmp", "args": ["empty", "a0.txt"], "files": files},
    ]
    return cases

def gzip_cases(rng):
    """gzip 1.12 (and gunzip, zcat: Debian's are scripts running `gzip -d` and `gzip -cd`): the
    compressed bytes at every level, with and without the name and time in the header (every
    input has the same mtime on both sides), the files it writes and removes, and its messages."""
    text = table(rng, 400)
    words = " ".join(rng.choice(WORDS) for _ in range(30000)).encode()
    noise = bytes(rng.randrange(256) for _ in range(50000))
    files = {"empty": b"", "text.txt": text, "words": words, "noise.bin": noise,
             "runs": b"".join(bytes([rng.randrange(4)]) * rng.randint(1, 400) for _ in range(3000)),
             "sub/t.txt": b"in a directory\n", "sub/u.txt": b"another\n"}
    gz = {name + ".gz": _gzip(data, name) for name, data in files.items() if "/" not in name}
    gz["cat.gz"] = gz["text.txt.gz"] + gz["words.gz"]           # two members: one stream
    gz["trail.gz"] = gz["text.txt.gz"] + b"\0\0\0\0garbage"      # trailing garbage
    gz["short.gz"] = gz["words.gz"][:len(gz["words.gz"]) // 2]   # truncated
    bad = bytearray(gz["text.txt.gz"])
    bad[-6] ^= 0xff                                              # CRC mismatch
    gz["crc.gz"] = bytes(bad)
    gz["not.gz"] = b"not gzip data\n"
    files.update(gz)
    inputs = ["empty", "text.txt", "words", "noise.bin", "runs"]
    cases = []
    for name in inputs:
        for level in ["-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9"]:
            cases.append({"tool": "gzip", "args": ["-c", "-n", level, name], "files": files})
        cases.append({"tool": "gzip", "args": ["-c", name], "files": files})  # name and mtime
    cases += [
        {"tool": "gzip", "args": ["-c", "-n"], "files": files, "stdin": text},
        {"tool": "gzip", "args": ["-9", "-n"], "files": files, "stdin": words},
        {"tool": "gzip", "args": ["text.txt"], "files": files, "outs": ["text.txt", "text.txt.gz"]},
        {"tool": "gzip", "args": ["-k", "-9", "words"], "files": files, "outs": ["words", "words.gz"]},
        {"tool": "gzip", "args": ["-v", "-k", "runs"], "files": files, "outs": ["runs.gz"]},
        {"tool": "gzip", "args": ["-r", "sub"], "files": files,
         "outs": ["sub/t.txt", "sub/t.txt.gz", "sub/u.txt.gz"]},
        {"tool": "gzip", "args": ["--suffix", ".z", "noise.bin"], "files": files,
         "outs": ["noise.bin", "noise.bin.z"]},
        {"tool": "gzip", "args": ["text.txt.gz"], "files": files},       # already has the suffix
        {"tool": "gzip", "args": ["-k", "words"], "files": files},       # words.gz exists
        {"tool": "gzip", "args": ["-f", "-k", "words"], "files": files, "outs": ["words.gz"]},
        {"tool": "gzip", "args": ["missing"], "files": files},
        {"tool": "gzip", "args": ["-d", "text.txt.gz"], "files": files, "outs": ["text.txt", "text.txt.gz"]},
        {"tool": "gzip", "args": ["-dk", "words.gz"], "files": files, "outs": ["words"]},
        {"tool": "gzip", "args": ["-dc", "cat.gz"], "files": files},
        {"tool": "gzip", "args": ["-d"], "files": files, "stdin": gz["noise.bin.gz"]},
        {"tool": "gzip", "args": ["-t", "text.txt.gz", "crc.gz", "short.gz"], "files": files},
        {"tool": "gzip", "args": ["-l", "text.txt.gz", "words.gz", "empty.gz"], "files": files},
        {"tool": "gzip", "args": ["-lv", "runs.gz"], "files": files},
        {"tool": "gzip", "args": ["-dc", "trail.gz"], "files": files},
        {"tool": "gzip", "args": ["-dc", "short.gz"], "files": files},
        {"tool": "gzip", "args": ["-dc", "crc.gz"], "files": files},
        {"tool": "gzip", "args": ["-dc", "not.gz"], "files": files},
        {"tool": "gzip", "args": ["-dcf", "not.gz"], "files": files},
        {"tool": "gzip", "args": ["--bogus"], "files": files},
        {"tool": "gunzip", "args": ["words.gz"], "files": files, "outs": ["words", "words.gz"]},
        {"tool": "gunzip", "args": ["-c", "noise.bin.gz"], "files": files},
        {"tool": "gunzip", "args": ["crc.gz"], "files": files, "outs": ["crc"]},
        {"tool": "zcat", "args": ["text.txt.gz", "runs.gz"], "files": files},
        {"tool": "zcat", "args": [], "files": files, "stdin": gz["words.gz"]},
        {"tool": "zcat", "args": ["missing.gz"], "files": files},
    ]
    return cases


def _gzip(data, name):
    """A .gz of DATA as gzip writes it (Python's gzip module: a valid member with NAME in its
    header; the cases decompress it, so its bytes need not be gzip's own)."""
    import gzip as gz
    import io
    buf = io.BytesIO()
    with gz.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=1767225600) as f:
        f.write(data)
    return buf.getvalue()

def _udiff(old, new, a, b, extra=()):
    """`diff -u` of OLD and NEW (bytes) labelled A and B, by Debian's diff (the reference diff of
    these tests; patch's cases need only a diff it accepts)."""
    import os
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for n, data in (("old", old), ("new", new)):
            paths.append(os.path.join(d, n))
            with open(paths[-1], "wb") as f:
                f.write(data)
        p = subprocess.run(["/usr/bin/diff", "-u", "--label", a, "--label", b] + list(extra) + paths,
                           capture_output=True, env={"LC_ALL": "C"})
    return p.stdout


def _lines(rng, n):
    return [b"line %d: %s" % (i, rng.choice(LINES).encode()) for i in range(n)]


def patch_cases(rng):
    """GNU patch 2.7.6 applying unified diffs as `diff -u` and `git diff` write them, with -p1:
    clean, at an offset, with fuzz, rejected hunks (the .rej and .orig files), reversed, new and
    deleted files, and its messages. stdout is not a terminal on both sides, so patch's questions
    take their defaults (it reads /dev/tty only when stdout is one)."""
    files, cases = {}, []
    olds, news = {}, {}
    for i in range(4):
        old = _lines(rng, rng.randint(20, 60))
        new = list(old)
        for _ in range(rng.randint(1, 4)):
            k = rng.randrange(len(new))
            if rng.random() < 0.5:
                new[k] = b"changed " + new[k]
            elif rng.random() < 0.5:
                new.insert(k, b"inserted %d" % k)
            else:
                del new[k]
        olds["f%d.txt" % i] = b"\n".join(old) + b"\n"
        news["f%d.txt" % i] = b"\n".join(new) + b"\n"
    unified = b"".join(_udiff(olds[n], news[n], "a/" + n, "b/" + n) for n in sorted(olds))
    git = b"".join(b"diff --git a/%s b/%s\nindex 1234567..89abcde 100644\n" % (n.encode(), n.encode()) +
                   _udiff(olds[n], news[n], "a/" + n, "b/" + n) for n in sorted(olds))
    created = (b"diff --git a/new/file.txt b/new/file.txt\nnew file mode 100644\nindex 0000000..1111111\n" +
               _udiff(b"", b"fresh\nfile\n", "/dev/null", "b/new/file.txt"))
    deleted = (b"diff --git a/f3.txt b/f3.txt\ndeleted file mode 100644\nindex 1111111..0000000\n" +
               _udiff(olds["f3.txt"], b"", "a/f3.txt", "/dev/null"))
    noeol = _udiff(b"a\nb", b"a\nc", "a/ne.txt", "b/ne.txt")
    base = dict(olds)
    base["ne.txt"] = b"a\nb"
    names = sorted(olds) + ["ne.txt", "new/file.txt"]
    outs = names + [n + ".orig" for n in names] + [n + ".rej" for n in names]
    patches = {"unified.patch": unified, "git.patch": git, "created.patch": created,
               "deleted.patch": deleted, "noeol.patch": noeol, "garbage.patch": b"not a patch\n"}
    # Moved: the targets with lines before them (offsets), a context line changed (fuzz), a
    # changed line changed differently (a rejected hunk).
    moved = {n: b"".join(b"prefix %d\n" % k for k in range(rng.randint(1, 9))) + d for n, d in olds.items()}
    fuzzed = {}
    for n, d in olds.items():
        ls = d.split(b"\n")
        fuzzed[n] = d
        for line in _udiff(olds[n], news[n], "a", "b").split(b"\n"):
            if line.startswith(b" ") and line[1:] in ls:   # a context line of some hunk
                ls[ls.index(line[1:])] = b"fuzz " + line[1:]
                fuzzed[n] = b"\n".join(ls)
                break
    rejected = {}
    for n, d in olds.items():
        ls = d.split(b"\n")
        rejected[n] = d
        for line in _udiff(olds[n], news[n], "a", "b").split(b"\n"):
            if line.startswith(b"-") and not line.startswith(b"---") and line[1:] in ls:
                ls[ls.index(line[1:])] = b"conflict " + line[1:]
                rejected[n] = b"\n".join(ls)
                break

    def case(args, tree, stdin=None):
        f = dict(tree, **patches)
        c = {"tool": "patch", "args": args, "files": f, "outs": outs}
        if stdin is not None:
            c["stdin"] = stdin
        cases.append(c)

    case(["-p1", "-i", "unified.patch"], base)
    case(["-p1"], base, stdin=unified)
    case(["-p1", "-i", "git.patch"], base)
    case(["-p1", "--dry-run", "-i", "git.patch"], base)
    case(["-p1", "-b", "-i", "unified.patch"], base)
    case(["-p1", "-i", "unified.patch"], dict(base, **moved))
    case(["-p1", "-i", "git.patch"], dict(base, **fuzzed))
    case(["-p1", "-F", "0", "-i", "unified.patch"], dict(base, **fuzzed))
    case(["-p1", "-i", "unified.patch"], dict(base, **rejected))
    case(["-p1", "--no-backup-if-mismatch", "-i", "git.patch"], dict(base, **rejected))
    case(["-p1", "-N", "-i", "unified.patch"], dict(base, **news))          # already applied
    case(["-p1", "-i", "unified.patch"], dict(base, **news))                # reversed: default no
    case(["-p1", "-R", "-i", "unified.patch"], dict(base, **news))
    case(["-p1", "-t", "-i", "unified.patch"], dict(base, **news))          # batch: assumes -R
    case(["-p1", "-i", "created.patch"], base)
    case(["-p1", "-i", "deleted.patch"], base)
    case(["-p1", "-i", "noeol.patch"], base)
    case(["-p1", "-o", "out.txt", "f0.txt", "-i", "unified.patch"], base)
    case(["-p0", "-i", "unified.patch"], base)                              # a/f0.txt is missing
    case(["-p1", "-i", "garbage.patch"], base)
    case(["-p1", "-i", "missing.patch"], base)
    case(["--bogus"], base)
    for c in cases:
        if c["args"][:3] == ["-p1", "-o", "out.txt"]:
            c["outs"] = c["outs"] + ["out.txt"]
    return cases + patch_tree_cases(rng)


def _git_diff(old, new, extra=()):
    """`git diff --cached -M` (and EXTRA options) of the trees OLD -> NEW ({path: bytes}, a path
    -> (bytes, mode) for a mode), by Debian's git: renames, copies, new, deleted and files in
    (new) subdirectories as git writes them."""
    import os
    import subprocess
    import tempfile
    env = {"LC_ALL": "C", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    def git(d, *args):
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com"] + list(args),
                              cwd=d, env=env, capture_output=True, check=True).stdout
    def write(d, tree):
        for name, data in tree.items():
            data, mode = data if isinstance(data, tuple) else (data, 0o644)
            p = os.path.join(d, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, mode)
    with tempfile.TemporaryDirectory() as d:
        git(d, "init", "-q")
        write(d, old)
        git(d, "add", "-A")
        git(d, "commit", "-q", "-m", "old")
        git(d, "rm", "-q", "-r", ".")
        write(d, new)
        git(d, "add", "-A")
        return git(d, "diff", "--cached", "-M", *extra)


def _tree_diff(old, new):
    """`diff -ruN old new` of two trees ({path: bytes}), as an agent writes a patch of a copy of
    a directory: headers with time stamps, new and deleted files, subdirectories."""
    import os
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for top, tree in (("old", old), ("new", new)):
            os.makedirs(os.path.join(d, top))
            for name, data in tree.items():
                p = os.path.join(d, top, name)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(data)
                os.utime(p, (1767225600, 1767225600))
        return subprocess.run(["/usr/bin/diff", "-ruN", "old", "new"], cwd=d, capture_output=True,
                              env={"LC_ALL": "C", "TZ": "UTC"}).stdout


def patch_tree_cases(rng):
    """patch on trees: files in subdirectories (new directories made, emptied ones removed),
    git's renames, copies and mode changes, `diff -ruN` of two directories, -R and -N of new
    and deleted files, patches read from stdin and --dry-run (whose temporary files must not be
    left in the workspace), TMPDIR honoured. Every file of the workspace is compared."""
    def text(n):
        return b"".join(b"%s\n" % l for l in _lines(rng, n))
    old = {"src/main.c": text(30), "src/util/helper.c": text(25), "doc/guide.txt": text(20),
           "doc/old-name.txt": text(15), "gone/only.txt": text(5), "run.sh": b"#!/bin/sh\necho hi\n",
           "keep.txt": text(10)}
    new = dict(old)
    new["src/main.c"] = old["src/main.c"].replace(b"line 3:", b"line three:").replace(b"line 20:", b"line twenty:")
    new["src/util/helper.c"] = old["src/util/helper.c"] + b"appended\n"
    new["doc/renamed.txt"] = new.pop("doc/old-name.txt")                       # a pure rename
    new["lib/moved/guide.txt"] = new.pop("doc/guide.txt").replace(b"line 10:", b"line ten:")  # rename + change
    del new["gone/only.txt"]                                                     # emptied dir
    new["fresh/deep/dir/new.txt"] = b"new\nfile\n"                             # new dirs
    git_new = dict(new, **{"run.sh": (old["run.sh"], 0o755)})                    # a mode change
    git = _git_diff(old, git_new)
    copy = _git_diff(old, dict(old, **{"keep-copy.txt": old["keep.txt"] + b"more\n"}),
                     ["-C", "--find-copies-harder"])
    tree = _tree_diff(old, new)
    patches = {"git.patch": git, "copy.patch": copy, "tree.patch": tree}
    assert b"rename from doc/old-name.txt" in git and b"copy from keep.txt" in copy, (git, copy)
    cases = []

    def case(args, files, stdin=None, env=()):
        c = {"tool": "patch", "args": args, "files": dict(files, **patches), "tree": True}
        if stdin is not None:
            c["stdin"] = stdin
        if env:
            c["env"] = list(env)
        cases.append(c)

    case(["-p1", "-i", "git.patch"], old)
    case(["-p1"], old, stdin=git)
    case(["-p1", "--dry-run", "-i", "git.patch"], old)
    case(["-p1", "--dry-run"], old, stdin=git)
    case(["-p1", "-R", "-i", "git.patch"], new)
    case(["-p1", "-N", "-i", "git.patch"], new)
    case(["-p1", "-i", "copy.patch"], old)
    case(["-p1", "-i", "tree.patch"], old)
    case(["-p1", "-R", "-i", "tree.patch"], new)
    case(["-p1", "-b", "-i", "tree.patch"], old)
    case(["-p1", "--dry-run", "-i", "tree.patch"], old)
    case(["-p1", "-i", "tree.patch"], dict(old, **{"src/main.c": old["src/main.c"].replace(b"line 3:", b"line 3 changed:")}))
    case(["-p1"], old, stdin=git, env=[("TMPDIR", "tmpd")])                # made, as natively
    case(["-p1", "--dry-run"], dict(old, **{"tmpd/.keep": b""}), stdin=git, env=[("TMPDIR", "tmpd")])
    return cases + patch_edge_cases(rng)


def patch_edge_cases(rng):
    """patch on the issue's edge cases: empty patch input, 100k lines (hunks at the end, at an
    offset), a line over 1 MB, CRLF lines, NUL bytes, UTF-8 and a space in a file name (git
    quotes it: "a/\\303\\251 t.txt")."""
    big = [b"row %d" % i for i in range(100000)]
    big_new = list(big)
    big_new[99990] = b"row changed"
    big_new.insert(50000, b"inserted")
    long_old = b"head\n" + b"x" * (1 << 20) + b"y\ntail\n"
    long_new = b"head\n" + b"x" * (1 << 20) + b"z\ntail\n"
    crlf_old = b"".join(b"line %d\r\n" % i for i in range(12))
    crlf_new = crlf_old.replace(b"line 5\r\n", b"LINE 5\r\n")
    nul_old = b"a\x00b\nsame\nc\x00d\nend\n"
    nul_new = b"a\x00b\nsame\nc\x00D\nend\n"
    utf = "\u00e9 t.txt"
    utf_old = "caf\u00e9\nna\u00efve\n\u65e5\u672c\n".encode()
    utf_new = "caf\u00e9\nna\u00eff\n\u65e5\u672c\n".encode()
    files = {"big.txt": b"\n".join(big) + b"\n", "long.txt": long_old, "crlf.txt": crlf_old,
             "nul.txt": nul_old, utf: utf_old}
    patches = {
        "big.patch": _udiff(files["big.txt"], b"\n".join(big_new) + b"\n", "a/big.txt", "b/big.txt"),
        "long.patch": _udiff(long_old, long_new, "a/long.txt", "b/long.txt"),
        "crlf.patch": _udiff(crlf_old, crlf_new, "a/crlf.txt", "b/crlf.txt"),
        "nul.patch": _udiff(nul_old, nul_new, "a/nul.txt", "b/nul.txt", ["-a"]),
        "utf.patch": _git_diff({utf: utf_old}, {utf: utf_new}),
    }
    assert b'"a/\\303\\251 t.txt"' in patches["utf.patch"] and b"c\x00D" in patches["nul.patch"]
    shifted = dict(files, **{"big.txt": b"extra\n" * 7 + files["big.txt"]})
    cases = []

    def case(args, tree, stdin=None):
        c = {"tool": "patch", "args": args, "files": dict(tree, **patches), "tree": True}
        if stdin is not None:
            c["stdin"] = stdin
        cases.append(c)

    case(["-p1"], files, stdin=b"")
    for name in sorted(patches):
        case(["-p1", "-i", name], files)
    case(["-p1", "-i", "big.patch"], shifted)
    case(["-p1", "--binary", "-i", "crlf.patch"], files)
    case(["-p1", "-R", "-i", "long.patch"], files)
    return cases

def _tar(entries, gz=False):
    """A GNU-format archive (Python's tarfile, fixed owners and times) of (name, bytes | ("dir",) |
    ("sym", target) | ("hard", target)) entries; gzip'd at level 6 without a name when gz."""
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 1767225600, 1000, 1000, "user", "grp"
            if isinstance(data, bytes):
                ti.mode, ti.size = 0o644, len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[data[0]]
            ti.mode = 0o755 if data[0] == "dir" else 0o777
            if data[0] != "dir":
                ti.linkname = data[1]
            t.addfile(ti)
    return _gzip(buf.getvalue(), None) if gz else buf.getvalue()


def tar_cases(rng):
    """GNU tar 1.34: archives created from the same tree (owners and groups fixed: WASI has none;
    modes fixed or umask 022's, which tar records where WASI has none) compared byte for byte,
    -z's gzip bytes included; listings (-t, -tv); trees extracted (-x, -C, --exclude, members;
    hard links with and without -C) compared file by file with their times; hostile archives
    (absolute names, `..`, hard links pointing out) as GNU refuses them. Symlinks pointing out:
    tar_symlinks_out (differential.py), where the sandbox differs on purpose."""
    text = table(rng, 300)
    noise = bytes(rng.randrange(256) for _ in range(30000))
    tree = {"src/a.txt": b"alpha\n", "src/empty": b"", "src/t.txt": text, "src/noise.bin": noise,
            "src/sub/deep.txt": b"deep\n", "src/sub/more/x.txt": b"x\n", "dest/.keep": b""}
    members = [("src/", ("dir",)), ("src/a.txt", b"alpha\n"), ("src/t.txt", text),
               ("src/noise.bin", noise), ("src/sub/", ("dir",)), ("src/sub/deep.txt", b"deep\n"),
               ("src/link", ("sym", "a.txt")), ("src/hard", ("hard", "src/a.txt"))]
    files = dict(tree)
    files["a.tar"] = _tar(members)
    files["a.tgz"] = _tar(members, gz=True)
    files["abs.tar"] = _tar([("/abs-escape.txt", b"x\n"), ("ok.txt", b"ok\n")])
    files["dotdot.tar"] = _tar([("../dd-escape.txt", b"x\n"), ("a/../../dd2.txt", b"x\n"), ("ok.txt", b"ok\n")])
    files["hardout.tar"] = _tar([("h", ("hard", "/etc/passwd")), ("ok.txt", b"ok\n")])
    files["not.tgz"] = b"not gzip data\n" * 100
    files["list.txt"] = b"src/a.txt\nsrc/sub/deep.txt\n"
    fix = ["--owner=user:1000", "--group=grp:1000", "--mode=u=rwX,go=rX", "--sort=name"]
    cases = [
        {"args": ["cf", "-"] + fix + ["src"]},
        {"args": ["czf", "-"] + fix + ["src"]},
        {"args": ["-c", "-f", "-", "-C", "src"] + fix + ["."]},
        {"args": ["cvf", "-"] + fix + ["src"]},
        {"args": ["cf", "-", "--exclude=*.txt"] + fix + ["src"]},
        # No --mode: the modes of files made with umask 022 on both sides (patches/tar/03).
        {"args": ["cf", "-", "--sort=name"] + fix[:2] + ["src"]},
        {"args": ["cvvf", "-", "--sort=name"] + fix[:2] + ["src", "src/sub"]},
        {"args": ["cf", "-", "--format=ustar"] + fix + ["src/sub", "src/a.txt"]},
        {"args": ["czvf", "out.tgz"] + fix + ["src"], "outs": ["out.tgz"]},
        {"args": ["cf", "out.tar"] + fix + ["src"], "outs": ["out.tar"]},
        {"args": ["cf", "-"] + fix + ["missing", "src/a.txt"]},
        {"args": ["tf", "a.tar"]}, {"args": ["tvf", "a.tar"]}, {"args": ["tzf", "a.tgz"]},
        {"args": ["tvzf", "a.tgz"]}, {"args": ["tf", "a.tgz"]}, {"args": ["tvf", "-"], "stdin": files["a.tar"]},
        {"args": ["tzf", "-"], "stdin": files["a.tgz"]}, {"args": ["tf", "a.tar", "src/sub"]},
        {"args": ["tf", "a.tar", "nothere"]}, {"args": ["tf", "missing.tar"]},
        {"args": ["tzf", "a.tar"]}, {"args": ["tzf", "not.tgz"]}, {"args": ["tf", "-"], "stdin": files["a.tgz"]},
        {"args": ["xOf", "a.tar", "src/t.txt"]},
        {"args": ["cf", "-", "-T", "list.txt"] + fix}, {"args": ["tf", "a.tar", "--wildcards", "src/s*"]},
        {"args": ["tvf", "a.tar", "--numeric-owner"]}, {"args": ["--version"]},
    ]
    for args in (["xf", "a.tar"], ["xvf", "a.tar"], ["xzf", "a.tgz", "-C", "dest"], ["xf", "a.tgz", "--exclude=*.bin"],
                 ["xf", "a.tar", "src/sub/deep.txt"], ["-x", "-v", "-f", "a.tgz", "-C", "dest", "src/link"],
                 ["xvf", "abs.tar"], ["xvf", "dotdot.tar"], ["xvf", "hardout.tar"],
                 ["xf", "missing.tar"], ["xf", "a.tar", "-C", "nodir"], ["xf", "a.tar", "--strip-components=1"],
                 ["xf", "a.tar", "-C", "dest", "--strip-components=2"], ["xzf", "a.tgz", "-k"],
                 ["xf", "a.tar", "--keep-old-files"], ["xf", "a.tar", "--overwrite"],
                 ["xf", "a.tar", "--wildcards", "*.txt"]):
        cases.append({"args": args, "tree": True, "times": True})
    for c in cases:
        c["files"] = files
        c["env"] = (("LC_ALL", "C"),)  # GNU's quotes: 'x', not the UTF-8 locale's
    return cases


def tar_symout():
    """Symlinks pointing out of the directory, each followed by a member written through it, and
    a hard link through one: GNU tar extracts the links last (placeholders until then), so the
    members fail on both sides; the sandbox then refuses the links themselves (differential.py:
    tar_symlinks_out)."""
    return _tar([("up", ("sym", "..")), ("up/sym-escape.txt", b"x\n"), ("abs", ("sym", "/tmp")),
                 ("abs/sym-abs.txt", b"x\n"), ("etc", ("sym", "/etc")), ("h", ("hard", "etc/passwd")),
                 ("in", ("sym", "ok.txt")), ("ok.txt", b"ok\n")])


def grep_cases(rng):
    """GNU grep 3.8 (and egrep, fgrep: Debian's scripts running `grep -E` and `grep -F`): the
    options agents use (recursion with --include/--exclude/--exclude-dir, context, counts, -o,
    -m, -w, -x, -i, -v, -l/-L, -z, --color), binary files, a NUL in a line, a missing file and a
    bad pattern, on a generated tree of code-like text. One file a directory level, so `-r`'s
    order (the directory's) is the same on both sides."""
    lines = []
    for i in range(300):
        w = [rng.choice(WORDS) for _ in range(rng.randint(1, 8))]
        if rng.random() < 0.15:
            w.insert(0, "def")
        if rng.random() < 0.1:
            w.append("TODO:")
        lines.append(" ".join(w))
    text = ("\n".join(lines) + "\n").encode()
    files = {
        "main.py": text,
        "notes.md": text[: len(text) // 3] + "caf\u00e9 na\u00efve\n".encode(),
        "src/lib.py": text[len(text) // 2:],
        "src/pkg/mod.c": b"int main(void) { return 0; }\n/* TODO: more */\n",
        "node_modules/dep/index.py": b"def hidden():\n    TODO: nothing\n",
        "build/out.txt": b"def built\n",
        "bin.dat": b"def\x00binary\x01data\n" + bytes(rng.randrange(256) for _ in range(200)),
        "noeol.txt": b"last def line without newline",
        "nul.txt": b"zero\x00def\nsecond def\n",
        "pats": b"def\nTODO\n",
        "empty": b"",
    }
    w0, w1 = rng.choice(WORDS), rng.choice(WORDS)
    cases = [
        ["-rn", "--include=*.py", "def", "."],
        ["-rn", "--exclude-dir=node_modules", "--exclude-dir=build", "TODO", "."],
        ["-rl", "--exclude=*.md", "def"],
        ["-rL", "def", "src", "build"],
        ["-rc", "TODO", "src"],
        ["-n", "-A2", "-B1", "TODO", "main.py"],
        ["-C3", "-m2", "def", "main.py"],
        ["-c", "-v", w0, "main.py", "notes.md"],
        ["-o", "-n", "-w", w0, "main.py"],
        ["-i", "-x", "-E", "(%s|%s)( [a-z]+)*" % (w0.upper(), w1), "main.py"],
        ["-e", w0, "-e", w1, "--color=always", "main.py"],
        ["-f", "pats", "-h", "main.py", "src/lib.py"],
        ["-F", "-q", "(", "src/pkg/mod.c"],
        ["-b", "-o", "def", "notes.md"],
        ["def", "bin.dat"],
        ["-a", "-c", "def", "bin.dat"],
        ["def", "nul.txt"],
        ["-z", "def", "nul.txt"],
        ["def", "noeol.txt"],
        ["-H", "-s", "def", "missing", "main.py"],
        ["def", "missing"],
        ["-E", "a{1", "main.py"],
        ["-E", "(", "main.py"],
        ["caf\u00e9", "notes.md"],
        ["--bogus", "x"],
        ["-m", "1", "-c", "def", "empty", "main.py"],
        ["-n", "def"],
    ]
    # LC_ALL on both sides: without it Debian's grep runs in the runner's locale and the guest's
    # in wasi-libc's default (C.UTF-8, as musl's), so -i and . would fold or match non-ASCII
    # letters on one side only.
    out = [{"tool": "grep", "args": a, "files": files, "env": (("LC_ALL", "C"),)} for a in cases]
    out[-1]["stdin"] = text
    for a in (["-i", "CAF\u00c9", "notes.md"], ["-o", "-i", "na.ve", "notes.md"]):
        out.append({"tool": "grep", "args": a, "files": files, "env": (("LC_ALL", "C.UTF-8"),)})
    out.append({"tool": "egrep", "args": ["-c", "def|TODO", "main.py"], "files": files})
    out.append({"tool": "fgrep", "args": ["-n", "TODO:", "main.py"], "files": files})
    return out


def find_cases(rng):
    """GNU find 4.9.0 on a generated tree: -name/-iname/-path/-regex, -type, -maxdepth/-mindepth
    (and GNU's warning when they follow a test), -newer, -size (c, k, M; +, -, exact), -mtime and
    -mmin, -prune, -empty, -depth, -quit, -print0, -printf, !, -not, -o, ( ), -delete in the
    workspace (the whole tree compared after), several starting points, a missing one and usage
    errors, in LC_ALL=C on both sides (quotes in messages).

    The outputs are compared as they come, not sorted: GNU find walks each directory in the order
    readdir gives, the sandbox's fd_readdir passes the host's order through, and both workspaces
    are made by the same code in the same order on the same file system, so the orders are the
    same; sorting would hide a walk that differs from GNU's (it would also hide -depth's and
    -prune's effect on the order).

    "dirs": empty directories to make; "ages": {path: seconds before now} set as the mtime after
    the workspace's fixed mtime (2026-01-01), relative to the time the workspace is made, so -mtime
    and -mmin answer the same on both sides whatever day the test runs (no age is near a
    boundary: 10 min, 1 h, 2.5 days, 10 days; the rest is months old); "host_clock": the guest
    reads the host's wall clock, not the differential's pinned one (find counts ages from now)."""
    def blob(n):
        return bytes(rng.randrange(32, 127) for _ in range(n))
    files = {
        "README.md": blob(rng.randint(100, 900)),
        "notes.txt": blob(10),
        "size1500.dat": blob(1500),
        "size2048.dat": blob(2048),
        "big.bin": blob(1536 * 1024),
        "zero": b"",
        "src/main.c": blob(rng.randint(200, 2000)),
        "src/util.h": blob(300),
        "src/lib/x.c": blob(50),
        "src/lib/new.c": blob(60),
        "src/lib/empty.c": b"",
        "docs/Guide.MD": blob(700),
        "docs/readme.txt": blob(120),
        ".hidden/secret": blob(33),
        "build/out.o": blob(4000),
        "build/sub/more.o": blob(10),
        "node_modules/dep/index.js": blob(90),
        "node_modules/dep/x.c": blob(20),
    }
    dirs = ["emptydir", "build/emptied", "src/lib/deeper/deepest"]
    ages = {"src/lib/new.c": 600, "src/main.c": 3600, "docs/readme.txt": 216000,
            "notes.txt": 864000}
    cases = [
        ["."],
        [".", "-name", "*.c"],
        [".", "-iname", "readme*"],
        [".", "-path", "./src/*", "-name", "*.h"],
        [".", "-regex", ".*/[a-z]+\\.[ch]"],
        [".", "-type", "d"],
        [".", "-type", "f", "-maxdepth", "1"],
        [".", "-maxdepth", "2", "-mindepth", "2"],
        [".", "-mindepth", "3"],
        [".", "-newer", "src/main.c"],
        [".", "-type", "f", "-newer", "docs/readme.txt"],
        [".", "-size", "+1k"],
        [".", "-type", "f", "-size", "-2k"],
        [".", "-size", "+1M"],
        [".", "-size", "2M"],
        [".", "-size", "1500c"],
        [".", "-size", "2k", "-type", "f"],
        [".", "-size", "0"],
        [".", "-mtime", "-1"],
        [".", "-mtime", "2"],
        [".", "-type", "f", "-mtime", "-30"],
        [".", "-mtime", "+5", "-mtime", "-60"],
        [".", "-mmin", "-30"],
        [".", "-mmin", "-90", "-mmin", "+20"],
        [".", "-name", "node_modules", "-prune", "-o", "-type", "f", "-print"],
        [".", "-path", "./build", "-prune", "-o", "-name", "*.o", "-print"],
        [".", "-empty"],
        [".", "-type", "d", "-empty"],
        [".", "-depth", "-path", "./src*"],
        [".", "-type", "f", "-print0"],
        [".", "-name", "*.c", "-print", "-quit"],
        [".", "-printf", "%p %f %s %y %d\\n"],
        ["src", "docs", "-printf", "[%P] [%h] %y\\n"],
        [".", "-type", "f", "-printf", "%-14f|%6s|%d\\n"],
        [".", "!", "-name", "*.c", "-type", "f"],
        [".", "-not", "-type", "d", "-not", "-size", "+1k"],
        [".", "(", "-name", "*.c", "-o", "-name", "*.h", ")", "-print"],
        [".", "-type", "f", "(", "-size", "+3k", "-o", "-empty", ")", "-printf", "%f\\n"],
        ["docs", "src/lib", "-name", "*"],
        ["nosuch", "."],
        [".", "-bogus"],
        [".", "-size", "12x"],
        [".", "-mtime"],
        [".", "-type", "q"],
        [".", "(", "-name", "a"],
    ]
    env = (("LC_ALL", "C"),)
    out = [{"tool": "find", "args": a, "files": files, "dirs": dirs, "ages": ages, "env": env,
            "host_clock": True} for a in cases]
    for a in ([".", "-name", "*.o", "-delete"], [".", "-type", "d", "-empty", "-delete"],
              ["build", "-delete"], [".", "-path", "./src/lib*", "-delete", "-print"]):
        out.append({"tool": "find", "args": a, "files": files, "dirs": dirs, "ages": ages,
                    "env": env, "host_clock": True, "tree": True})
    # What find reads from a file's status that WASI's filestat lacks (owner, permission bits,
    # blocks): the guest fills them in as the toolbox's ls does (compat/coreutils/coreutils.c),
    # so on a tree owned by the sandbox's user (uid/gid 1000: "owner", the native copy chowned;
    # the guest's $USER names it as the host names uid 1000) with a read-write grant's modes
    # (0644, directories 0755) both sides agree. Symlinks too (lrwxrwxrwx, no block below 60
    # bytes of target). -ls's first field (the inode) is the host's, different on each copy:
    # "inodes" compares the rest of each line.
    links = {"link.c": "src/main.c", "srclink": "src", "dangling": "nowhere"}
    stat_cases = [
        [".", "-printf", "%m %M %u %U %g %G %k %b %s %y %p\\n"],
        ["-L", ".", "-printf", "%m %M %k %Y %p\\n"],
        [".", "-perm", "644", "-type", "f"],
        [".", "-perm", "-u=rw", "-name", "*.c"],
        [".", "-perm", "/111"],
        [".", "-type", "d", "-perm", "-755"],
        [".", "!", "-perm", "-444"],
        [".", "-perm", "-o=w"],
        [".", "-uid", "1000", "-type", "f"],
        [".", "-uid", "0"],
        [".", "-gid", "1000", "-name", "*.o"],
        [".", "-user", "1000", "-maxdepth", "1"],
        [".", "-group", "1000", "-type", "d"],
        [".", "-nouser", "-o", "-nogroup"],
        [".", "-readable", "-name", "*.h", "-printf", "%M %p\\n"],
        [".", "-writable", "-type", "d", "-printf", "%m %p\\n"],
        [".", "-executable"],
        [".", "-type", "f", "-executable"],
        [".", "-empty", "-printf", "%M %u %g %k %p\\n"],
        [".", "-size", "-3k", "-printf", "%k %b %p\\n"],
        [".", "-ls"],
        ["src", "-type", "f", "-ls"],
    ]
    for a in stat_cases:
        out.append({"tool": "find", "args": a, "files": files, "dirs": dirs, "links": links,
                    "ages": ages, "env": env, "host_clock": True, "owner": 1000,
                    "inodes": "-ls" in a})
    return out
# ls's tree: every name's mtime (and atime, for -u) fixed and distinct, so -t and -u order
# alike on both sides; sizes distinct but two (-S's tie is broken by name on both). Times are
# in 2023-2024 and 2031: "old" (the year shown) both for the guest's pinned clock (2026-01-01,
# bundle_test.RUN_FLAGS) and for the runner's real one; ls_recent_case pins the guest's clock to
# the runner's for the clock-time form.
LS_BASE = 1700000000  # 2023-11-14T22:13:20Z


def ls_tree(rng):
    """Files (with names needing quoting: space, quote, newline, tab, non-ASCII, a leading dash),
    a hidden file, nested and empty directories, symlinks to a file, a directory and nowhere."""
    files = {
        "a.txt": b"abc\n",
        "B.md": bytes(rng.randrange(32, 127) for _ in range(5000)),
        "c file.txt": b"space\n",
        "d'q.txt": b"quote\n",
        "e\nline": b"newline in the name\n",
        "tab\there": b"t\n",
        "caf\u00e9.txt": b"utf-8 name\n",
        "-dash": b"dash\n",
        "zz.log": b"log line\n" * 2500,
        "empty": b"",
        "same1": b"12345678\n",
        "same2": b"87654321\n",
        ".hidden": b"h\n",
        "sub/x.py": b"print(1)\n",
        "sub/.dot": b"dot\n",
        "sub/deeper/y.c": b"int y;\n" * 900,
    }
    dirs = ["emptydir"]
    links = {"link": "a.txt", "dirlink": "sub", "dangling": "nowhere",
             "longlink": "./" * 30 + "a.txt"}  # 65 bytes: a block on ext4
    names = sorted(list(files) + dirs + list(links) + ["sub", "sub/deeper", "."])
    rng.shuffle(names)
    # (atime, mtime) in ns: distinct seconds, and fractions for --time-style=full-iso.
    times = {}
    for i, n in enumerate(names):
        m = LS_BASE + i * 86400 * 7 + rng.randrange(0, 86400)
        if i % 5 == 0:
            m += 8 * 365 * 86400  # 2031+: in the future for both clocks
        times[n] = ((m - 3600 * (i + 1)) * 10 ** 9 + rng.randrange(10 ** 9),
                    m * 10 ** 9 + rng.randrange(10 ** 9))
    return files, dirs, links, times


def ls_cases(rng):
    """GNU ls 9.1 (and dir, vdir) against Debian's /bin/ls on the same tree, run from its top with
    the same relative names, LC_ALL=C (bytewise order, C quoting) and TZ=UTC on both sides.
    Long listings use -o -g (no owner, no group: WASI has none, the guest shows the sandbox's
    user; ls_owner checks that); -i is not compared (inode numbers are the host's on one side
    only). Neither side's output is a terminal. The tree's modes are 0644/0755, what the guest
    reports for a read-write grant."""
    files, dirs, links, times = ls_tree(rng)
    base = {"files": files, "dirs": dirs, "links": links, "utimes": times}
    c_env = (("LC_ALL", "C"),)
    colors = ("LS_COLORS", "di=01;34:ln=01;36:or=40;31;01:mi=05:ex=01;32:*.txt=00;33:*.md=4;35:fi=0")
    cases = [
        [], ["-1"], ["-a"], ["-A"], ["-log"], ["-logA"], ["-loga", "sub"], ["-logh"], ["-logS"],
        ["-logt"], ["-logtr"], ["-logu"], ["-lgotu"], ["-r"], ["-R"], ["-Ra", "sub"], ["-logR"],
        ["-d", "sub", "a.txt", "emptydir"], ["-logd", "sub", "dirlink"], ["-F"], ["-p"], ["-logF"],
        ["--color=always"], ["--color=always", "-logA"], ["--color=always", "-R", "sub"],
        ["--color=auto"], ["-log", "--time-style=long-iso"], ["-log", "--time-style=full-iso"],
        ["-log", "--time-style=iso"], ["-log", "--time-style=+%Y/%m/%d %T"], ["--full-time", "-og"],
        ["-C"], ["-x"], ["-m"], ["-C", "-w", "40"], ["-Cs"], ["-s"], ["-sh"], ["-logs"], ["-S"],
        ["-t"], ["-X"], ["-v"], ["-Q"], ["-b"], ["-N"], ["-q"], ["--quoting-style=shell"],
        ["--quoting-style=shell-escape"], ["--quoting-style=c"], ["-logL"], ["-L", "dirlink"],
        ["-log", "dirlink"], ["-log", "dirlink/"], ["-logH", "dirlink"], ["-H", "dirlink"],
        ["--group-directories-first"], ["-log", "--si", "zz.log", "B.md"], ["-k", "-s"],
        ["--block-size=K", "-log"], ["-1", "sub/deeper", "sub"], ["-log", "link", "dangling"],
        ["missing"], ["-log", "a.txt", "missing", "sub"], ["--bogus"], ["-w", "x"],
        ["--sort=size", "-r"], ["--sort=time"], ["--sort=extension"], ["-U", "-d", "sub", "a.txt"],
        ["--indicator-style=classify"], ["--format=commas"], ["--hide=*.txt"], ["-I", "*.log"],
        ["-B"], ["-logn"],
    ]
    out = [dict(base, tool="ls", args=a, env=c_env) for a in cases]
    for a in (["--color=always"], ["--color=always", "-logF"], ["--color=always", "-1", "sub"]):
        out.append(dict(base, tool="ls", args=a, env=c_env + (colors,)))
    out.append(dict(base, tool="ls", args=["-C"], env=c_env + (("COLUMNS", "50"),)))
    out.append(dict(base, tool="ls", args=["-x"], env=c_env + (("COLUMNS", "abc"),)))
    out.append(dict(base, tool="ls", args=["-log", "--time-style=locale"], env=c_env))
    out.append(dict(base, tool="ls", args=["-log"], env=c_env + (("TIME_STYLE", "long-iso"),)))
    out.append(dict(base, tool="ls", args=["-1"], env=c_env + (("QUOTING_STYLE", "c"),)))
    # UTF-8: non-ASCII names as they are (C: octal escapes under -b, ? under -q).
    for a in (["-1"], ["-b"], ["-q"]):
        out.append(dict(base, tool="ls", args=a, env=(("LC_ALL", "C.UTF-8"),)))
    out.append(dict(base, tool="dir", args=[], env=c_env))
    out.append(dict(base, tool="dir", args=["-1", "sub"], env=c_env))
    out.append(dict(base, tool="vdir", args=["-og"], env=c_env))
    # The clock-time form ("Nov 20 13:45") for times within six months of now: the guest's
    # clock pinned to the runner's.
    import time
    now = int(time.time())
    recent = {n: ((now - 86400 * (i + 2)) * 10 ** 9, (now - 3600 * (i + 1)) * 10 ** 9)
              for i, n in enumerate(sorted(times))}
    recent["a.txt"] = ((now - 60) * 10 ** 9, (now - 200 * 86400) * 10 ** 9)  # older than six months
    for a in (["-log"], ["-logt"], ["-logu"]):
        out.append(dict(base, tool="ls", args=a, env=c_env, utimes=recent, clock=now))
    return out


def cat_cases(rng):
    """GNU cat 9.1 against Debian's /bin/cat: every option on text with tabs, control and high
    bytes, CRLF, runs of blank lines, no final newline, an empty file and standard input."""
    ctl = bytes(range(0, 32)) + b"\x7f" + bytes(range(0x80, 0x100))
    lines = []
    for i in range(200):
        k = rng.random()
        if k < 0.2:
            lines.append(b"")
        elif k < 0.3:
            lines.append(b"\t".join(rng.choice(WORDS).encode() for _ in range(3)))
        elif k < 0.4:
            lines.append(bytes(rng.choice(ctl) for _ in range(rng.randint(1, 12))).replace(b"\n", b""))
        elif k < 0.45:
            lines.append(b"crlf line\r")
        else:
            lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))).encode())
    text = b"\n".join(lines) + b"\n"
    files = {"text": text, "ctl": ctl + b"\n" + ctl, "noeol": b"first\n\n\n\nlast without newline",
             "blanks": b"\n\n\na\n\n\n\nb\n\n", "empty": b"", "big": text * 300,
             "sub/f": b"in sub\n"}
    cases = [
        ["text"], ["-n", "text"], ["-b", "text"], ["-s", "blanks"], ["-s", "text"], ["-A", "text"],
        ["-E", "text"], ["-T", "text"], ["-v", "ctl"], ["-A", "ctl"], ["-e", "ctl"], ["-t", "ctl"],
        ["-vET", "ctl"], ["-n", "noeol", "text"], ["-b", "blanks", "noeol"], ["-sn", "blanks"],
        ["-sb", "noeol", "blanks"], ["-ns", "text", "noeol", "empty", "blanks"],
        ["text", "noeol", "empty", "blanks"], ["empty"], ["-n", "empty"], ["-A", "noeol"],
        ["-u", "text"], ["-n", "big"], ["big"], ["-A", "big"], ["sub"], ["missing"],
        ["text", "missing", "noeol"], ["--bogus"], ["-n", "-"], ["-"], [], ["blanks", "-", "noeol"],
        ["-A", "-"], ["--number", "--squeeze-blank", "--show-all", "blanks"],
    ]
    return [{"tool": "cat", "args": a, "files": files, "stdin": text[:3000] + b"no newline",
             "env": (("LC_ALL", "C"),)} for a in cases]


def _xxd_dump(data, cols=16, upper=False):
    """DATA as xxd prints it by default (offset, 2-byte groups, the printable bytes): the input
    of `xxd -r`, made here so that the round trip does not start from the tool under test."""
    out = []
    hexfmt = "%02X" if upper else "%02x"
    for off in range(0, len(data), cols):
        chunk = data[off:off + cols]
        h = ""
        for i in range(cols):
            h += (hexfmt % chunk[i]) if i < len(chunk) else "  "
            if i % 2 == 1:
                h += " "
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append("%08x: %s %s\n" % (off, h, text))
    return "".join(out).encode()


def xxd_cases(rng):
    """xxd (vim 9.0.1378's src/xxd, Debian's package xxd) against /usr/bin/xxd: plain dumps of
    binary input (NULs, high bytes), text without a final newline, an empty file and standard
    input, a file over 64 KiB; -p, -i (the variable's name from the file's name, -n, -C), -c,
    -g, -l, -s (absolute, relative, from the end; on a pipe), -o, -d, -u, -e, -b, -a, -E; -r and
    -r -p round trips to standard output and to a file (compared), -r -s, -r of damaged dumps;
    usage errors."""
    binary = bytes(rng.randrange(256) for _ in range(1000)) + bytes(40) + b"\xff\xfe\x00\x80tail"
    big = bytes(rng.randrange(256) for _ in range(70 * 1024 + 13))
    text = b"".join(("%s %d\n" % (rng.choice(WORDS), i)).encode() for i in range(60)) + b"no newline"
    zeros = b"head" + bytes(200) + b"tail\n"
    plain = binary.hex()
    plain = "\n".join(plain[i:i + 60] for i in range(0, len(plain), 60)) + "\n"
    files = {"bin": binary, "big.dat": big, "text.txt": text, "empty": b"", "zeros": zeros,
             "my-file.name.c": b"\x01\x02abc\n", "9lives": b"cat\n",
             "bin.xxd": _xxd_dump(binary), "bin.XXD": _xxd_dump(binary, upper=True),
             "big.xxd": _xxd_dump(big), "bin.hex": plain.encode(),
             "bin8.xxd": _xxd_dump(binary[:300], cols=8),
             "damaged.xxd": b"00000000: 4142 4344  ABCD\nnot a dump line\n0000002x: 45\n"
                            b"00000010: 4g46 zz\n00000020 4748\n00000030: 4a4\n",
             "ragged.hex": b"4142\n43 44\t45\n4\n6\nzz47\n\n4849"}
    cases = [
        ["bin"], ["big.dat"], ["text.txt"], ["empty"], ["zeros"], ["-a", "zeros"], ["-a", "bin"],
        ["-p", "bin"], ["-ps", "text.txt"], ["-p", "-c", "16", "bin"], ["-p", "-c", "0", "text.txt"],
        ["-i", "bin"], ["-i", "my-file.name.c"], ["-i", "9lives"], ["-i", "-C", "my-file.name.c"],
        ["-i", "-n", "blob", "text.txt"], ["-i", "-c", "8", "-u", "bin"], ["-i", "empty"],
        ["-c", "8", "bin"], ["-c", "32", "-g", "4", "bin"], ["-c", "256", "text.txt"],
        ["-c", "257", "bin"], ["-g", "0", "bin"], ["-g", "3", "text.txt"], ["-g", "16", "bin"],
        ["-l", "100", "bin"], ["-l", "0", "bin"], ["-s", "100", "-l", "64", "bin"],
        ["-s", "0x40", "bin"], ["-s", "-64", "bin"], ["-s", "+10", "text.txt"],
        ["-s", "5000", "bin"], ["-o", "0x1000", "-l", "48", "bin"], ["-d", "-l", "80", "bin"],
        ["-u", "-l", "64", "bin"], ["-e", "-l", "96", "bin"], ["-e", "-g", "8", "-l", "64", "bin"],
        ["-e", "-g", "3", "bin"], ["-b", "-l", "40", "bin"], ["-b", "-c", "4", "text.txt"],
        ["-E", "-l", "64", "text.txt"], ["-v"], ["-h"], ["-Z", "bin"], ["-c"], ["-c", "0", "bin"],
        ["missing"], ["bin", "out.txt"],
        # reverse: plain, normal (lower and upper case), other widths, damaged input, -s
        ["-r", "bin.xxd"], ["-r", "bin.XXD"], ["-r", "big.xxd"], ["-r", "-p", "bin.hex"],
        ["-r", "-c", "8", "bin8.xxd"], ["-r", "damaged.xxd"], ["-r", "-p", "ragged.hex"],
        ["-r", "-s", "16", "bin8.xxd"], ["-r", "-s", "-4", "damaged.xxd"], ["-r", "empty"],
        ["-r", "-p", "empty"],
    ]
    out = [{"tool": "xxd", "args": a, "files": files, "outs": ["out.txt"]} for a in cases]
    # into a file: the round trip's bytes compared, and -r patching an existing file in place
    for a in (["-r", "bin.xxd", "out.bin"], ["-r", "-p", "bin.hex", "out.bin"],
              ["-r", "big.xxd", "out.bin"], ["-r", "-s", "100", "bin8.xxd", "out.bin"],
              ["-r", "damaged.xxd", "zeros"]):
        out.append({"tool": "xxd", "args": a, "files": files, "outs": ["out.bin", "zeros"]})
    # standard input: a dump of it, -s on a pipe, -i's form without a name, the round trip
    for a, stdin in ((["-"], binary), ([], text), (["-i"], binary[:100]), (["-p"], big),
                     (["-s", "10"], text), (["-s", "-10"], text), (["-r"], _xxd_dump(binary)),
                     (["-r", "-p"], plain.encode()), ([], b""), (["-r"], b"")):
        out.append({"tool": "xxd", "args": a, "files": files, "stdin": stdin})
    return out


def column_cases(rng):
    """column (util-linux 2.38.1, Debian's bsdextrautils) against /usr/bin/column: lists filled
    by columns and by rows (-x) at widths from -c and $COLUMNS (no terminal on either side:
    80 otherwise); tables (-t) with -s, -o, -N, -R, -H, -O, -E, -T, -W, -d, -l, -L, -n and -J;
    ragged rows, empty lines, UTF-8 cells and invalid UTF-8, tabs, no final newline, an empty
    file and standard input; usage errors (not an unknown option: getopt's message is the C
    library's, differential.column_usage). LC_ALL=C.UTF-8 on both sides: wasi-libc's C locale
    is not byte-for-byte glibc's (docs/toolbox.md, "xxd and column")."""
    words = [w for w in WORDS if w and " " not in w and "\t" not in w]
    lst = "".join("%s%d\n" % (rng.choice(words), i) for i in range(90)).encode()
    rows = []
    for i in range(40):
        n = rng.randint(1, 5)  # ragged: 1 to 5 cells
        rows.append(" ".join(rng.choice(words) + str(rng.randint(0, 999)) for _ in range(n)))
        if rng.random() < 0.1:
            rows.append("")
    table = ("\n".join(rows) + "\n").encode()
    csv = ("\n".join(",".join(rng.choice(words) for _ in range(rng.randint(1, 4))) for _ in range(30))
           + "\n").encode()
    utf8 = "n\u00e4me caf\u00e9 \u2603\n\u00fcber x \u65e5\u672c\u8a9e\nplain longer-cell z\n".encode()
    files = {"list": lst, "table": table, "csv": csv, "utf8": utf8, "empty": b"",
             "noeol": b"a b c\nlast row no newline", "tabs": b"a\tb c\n\td\te\n",
             "long": (("x" * 100) + " short\nmid " + ("y" * 50) + "\n").encode(),
             "invalid": b"n\xff\xfeme caf\xc3\n\xe2\x98 ok\n"}
    cases = [
        ["list"], ["-x", "list"], ["-c", "40", "list"], ["-c", "40", "-x", "list"],
        ["-c", "200", "list"], ["-c", "1", "list"], ["-t", "table"], ["-t", "-s", ",", "csv"],
        ["-t", "-s", ",", "-o", " | ", "csv"], ["-t", "-o", "|", "table"],
        ["-t", "-N", "A,B,C,D,E", "table"], ["-t", "-N", "A,B,C,D,E", "-R", "2,E", "table"],
        ["-t", "-N", "A,B,C,D,E", "-H", "B,D", "table"], ["-t", "-N", "A,B,C,D,E", "-O", "E,A,C", "table"],
        ["-t", "-N", "A,B,C,D,E", "-d", "table"], ["-t", "-l", "2", "table"], ["-t", "-L", "table"],
        ["-J", "-N", "a,b,c,d,e", "table"], ["-J", "-n", "rows", "-N", "a,b,c,d,e", "table"],
        ["-J", "-s", ",", "-N", "x,y,z,w", "csv"], ["-J", "-N", "p,q,r", "utf8"],
        ["-t", "utf8"], ["-t", "-R", "1", "utf8"], ["utf8"], ["-t", "noeol"], ["noeol"],
        ["-t", "tabs"], ["tabs"], ["-t", "empty"], ["empty"], ["-J", "-N", "a", "empty"],
        ["-t", "-c", "30", "-N", "A,B", "-T", "A", "long"], ["-t", "-c", "30", "-N", "A,B", "-W", "A", "long"],
        ["-t", "-N", "A,B", "-E", "A", "long"], ["-t", "list", "table"], ["-t", "missing"],
        ["list", "missing", "table"], ["-J", "table"], ["-t", "-R", "Z", "-N", "A,B", "table"],
        ["-c", "x", "list"], ["-t", "-s", "", "table"], ["-V"], ["-t", "invalid"],
        ["-J", "-N", "a,b", "invalid"], ["-t", "-W", "1", "-c", "12", "utf8"],
    ]
    utf8_env = (("LC_ALL", "C.UTF-8"),)
    out = [{"tool": "column", "args": a, "files": files, "env": utf8_env} for a in cases]
    for env in ((("COLUMNS", "50"),), (("COLUMNS", "0"),), (("COLUMNS", "abc"),)):
        out.append({"tool": "column", "args": ["list"], "files": files, "env": utf8_env + env})
    for a, stdin in ((["-t"], table), ([], lst), (["-t"], b""), (["-t", "-s", ","], csv), (["-t"], b"no newline")):
        out.append({"tool": "column", "args": a, "files": files, "stdin": stdin, "env": utf8_env})
    return out


def tree_cases(rng):
    """tree 2.1.0 (Debian's tree) against /usr/bin/tree on a fixture: hidden files and a hidden
    directory, symlinks inside (to a file, to a directory, to "." (a loop -l must not follow) and
    dangling), empty directories, names with spaces, UTF-8, a newline, a tab and a control byte
    (tree escapes them), a .gitignore; plain, -a, -d, -L N, -I and -P (with | and several -I),
    --ignore-case, --matchdirs, --prune, --noreport, -f, -i, -s, -h, --si, --du, -D (the guest
    reads the host's clock: tree shows a year for times over six months old), --timefmt, -p -u -g
    (the tree owned by the sandbox's user, as find's stat cases), --dirsfirst, -F, -l, -t, -r, -v,
    -U, --sort, --filelimit, -J, -X, -H, -C and -n, --charset, -N, -q, --gitignore, -o, missing
    and file arguments, usage errors. No terminal on either side: colour only with -C. LC_ALL=C
    (tree's ASCII lines and \\ooo escapes) and C.UTF-8 (its box-drawing lines, names as they
    are). Not a name with invalid UTF-8: WASI's paths are UTF-8 (docs/toolbox.md, "tree")."""
    def blob(n):
        return bytes(rng.randrange(32, 127) for _ in range(n))
    files = {
        "README.md": blob(rng.randint(100, 900)), "notes.txt": blob(10), "big.bin": blob(150000),
        "zero": b"", ".hidden": b"h\n", ".hid/inside.txt": blob(20), ".gitignore": b"build\n*.o\n",
        "src/main.c": blob(300), "src/util.h": blob(40), "src/lib/x.c": blob(50),
        "src/lib/X2.C": blob(5), "build/out.o": blob(4000), "build/sub/more.o": blob(10),
        "name with spaces.txt": b"s\n", "caf\u00e9 \u65e5\u672c.md": b"u\n", "new\nline": b"n\n",
        "tab\there": b"t\n", "ctl\x01x": b"c\n", "file10": b"1", "file9": b"22", "file100": b"333",
    }
    dirs = ["emptydir", "src/lib/deeper/deepest", "dir with space"]
    links = {"link.c": "src/main.c", "srclink": "src", "loop": ".", "dangling": "nowhere"}
    cases = [
        [], ["-a"], ["-d"], ["-L", "1"], ["-L", "2", "-a"], ["-d", "-L", "2"], ["-L", "0"], ["-L"],
        ["-I", "*.o|*.c"], ["-I", "build|src", "-a"], ["-I", "build", "-I", "emptydir"],
        ["-P", "*.c"], ["-P", "*.c|*.h", "--prune"], ["-P", "X*", "--ignore-case"],
        ["-P", "src*", "--matchdirs"], ["-a", "-I", ".hid"], ["--noreport"], ["-f"], ["-i", "-f"],
        ["-i", "--noreport", "-a"], ["-s"], ["-h"], ["--si"], ["-h", "--du"], ["--du", "-s", "-a"],
        ["-D"], ["-D", "--timefmt", "%Y-%m-%d %H:%M"], ["--dirsfirst"], ["-F"], ["-F", "-a"],
        ["-l"], ["-l", "-a", "-F"], ["-t"], ["-r"], ["-v"], ["-U"], ["--sort=size"],
        ["--sort=name", "-r"], ["--sort=bogus"], ["--filelimit", "3"], ["-J"], ["-J", "-a", "-s"],
        ["-X"], ["-X", "-a", "-d"], ["-H", "."], ["-C"], ["-n"], ["--charset=ascii"],
        ["--charset=UTF-8"], ["--charset=IBM437"], ["-N"], ["-q"], ["-Q"], ["--gitignore"],
        ["--gitignore", "-a"], ["-o", "out.txt"], ["src", "emptydir"], ["nosuch"],
        ["src", "nosuch", "README.md"], ["--bogus"], ["--version"], ["-x", "-S"], ["--info"],
    ]
    c_env = (("LC_ALL", "C"),)
    utf8_env = (("LC_ALL", "C.UTF-8"),)
    out = [{"tool": "tree", "args": a, "files": files, "dirs": dirs, "links": links,
            "env": c_env, "host_clock": True, "outs": ["out.txt"]} for a in cases]
    for a in ([], ["-a", "-l"], ["-N"], ["-J"], ["-X"], ["--charset=ascii"], ["-q"], ["-L", "2", "-f"]):
        out.append({"tool": "tree", "args": a, "files": files, "dirs": dirs, "links": links,
                    "env": utf8_env})
    for a in (["-p"], ["-p", "-u", "-g"], ["-pugsD"], ["-J", "-p", "-u", "-g"], ["-a", "-C", "-p"]):
        out.append({"tool": "tree", "args": a, "files": files, "dirs": dirs, "links": links,
                    "env": c_env, "host_clock": True, "owner": 1000})
    return out


def bc_cases(rng):
    """GNU bc 1.07.1 (Debian's bc) against /usr/bin/bc: programs on standard input and in files
    (one, several, then standard input; `-` is no name for it: `File - is unavailable.` on both
    sides), -l's library (s c a l e j, at several scales,
    out of their domains), -q, -s, -w, --mathlib; 100-digit operands (+ - * / % ^, sqrt, length,
    scale), ibase/obase (2, 16, 100, out of range), functions (recursion, auto, arrays, void),
    loops, if/else, print, strings, `.` and last, quit and halt; division by zero, syntax errors
    and the other runtime errors with bc's messages and line numbers; usage errors (patches/bc/01:
    glibc's getopt wording); $BC_LINE_LENGTH. LC_ALL=C on both sides. Not `limits` (32-bit
    exponents: differential.bc_limits) nor read() (Debian's loops at the end of its input)."""
    def big(n):
        return str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(n - 1))
    a, b, c = big(100), big(100), big(60)
    fact = "define f(n) {\n  if (n < 2) return (1)\n  return (n * f(n - 1))\n}\n"
    fib = ("define fib(n) {\n  auto a, b, t, i\n  a = 0; b = 1\n  for (i = 0; i < n; i++) {\n"
           "    t = a + b; a = b; b = t\n  }\n  return (a)\n}\n")
    files = {
        "fact.bc": (fact + "f(30)\nf(100)\n").encode(),
        "fib.bc": (fib + "fib(300)\nquit\n").encode(),
        "lib.bc": b"define sq(x) { return x * x }\ndefine void hi() { print \"hi\\n\" }\n",
        "err.bc": b"1 + 2\n3 / 0\n4 +\n5 * 6\n",
        "noeol.bc": b"7 * 6",
        "halt.bc": b"1\nhalt\n2\n",
    }
    stdin_cases = [
        "1+2\n", "%s + %s\n" % (a, b), "%s - %s\n" % (a, b), "%s * %s\n" % (a, b),
        "%s / %s\n" % (a, c), "scale=30; %s / %s\n" % (a, c), "%s %% %s\n" % (a, c),
        "%s ^ 3\n" % c, "2 ^ 1000\n", "sqrt(%s)\n" % a, "scale=50; sqrt(2)\n",
        "length(%s); scale(1.2345)\n" % a, "obase=16; %s\n" % a, "obase=16; 255; -255; 0.5\n",
        "obase=2; 1024; 5.25\n", "obase=100; %s\n" % a, "obase=8; ibase=16; FFFF\n",
        "ibase=2; 101010\n", "ibase=16; ABCDEF0123456789\n", "obase=1\n", "ibase=40\n",
        "1/0\n", "x = 5 % 0\nx\n", "3 / 0; 4\n", "1 +\n2\n", "(1 + 2\n", "}\n", "$\n",
        "sqrt(-4)\n", "2 ^ 0.5\n", "2 ^ -3\n", "scale=10; 2 ^ -3\n", "scale = -1\n",
        "break\n", "return\n", "f(1)\n", "a[3] = 4; a[3]; a[1]\n", "scale=100; 1/3\n",
        "x = 3; x++; x; --x; x ^= 2; x\n", "!0; 1 && 0 || 1; 3 > 2; 2 == 2\n",
        "-0; 0.1 + 0.2; -5 % 3; scale=3; -7 / 2\n", "1; .; . + 1; last * 2\n",
        "for (i = 0; i < 5; i++) { i * i }\n", "i = 0; while (i < 3) { i += 1; print i, \"\\n\" }\n",
        "while (1) { break }; 5\n", "if (1 > 0) print \"yes\\n\" else print \"no\\n\"\n",
        "print 1, 2, \"x\\ty\\n\"\n", "\"a string\n\"\n", "\"unterminated\n",
        fact + "f(50)\n", fib + "fib(200)\n", "define void v() { print \"void\\n\" }\nv()\nx = v()\n",
        "define g(a[]) { return a[0] * 2 }\nb[0] = 21; g(b[])\n",
        "quit\n5\n", "5\nhalt\n6\n", "abc_def = 7; abc_def\n", "ABC\n",
        "1 + + 2\n3\n", "a = 1 /* comment */ + 2; a\n", "3 # comment\n",
    ]
    lib_cases = [
        "s(1); c(1); a(1); l(2); e(1); j(2, 3)\n", "scale=50; 4 * a(1)\n", "scale=40; e(1)\n",
        "scale=30; l(10); l(0.5)\n", "s(%s)\n" % c, "c(-1.5); a(-100)\n", "e(100); e(-100)\n",
        "l(0)\n", "l(-1)\n", "j(-1, 2); j(0, 0); j(1.5, 2)\n", "scale\n", "scale=5; s(3.14159)\n",
        "scale=0; e(1)\n", "a(1) * 4 == 4 * a(1)\n",
    ]
    out = [{"tool": "bc", "args": [], "files": files, "stdin": s.encode()} for s in stdin_cases]
    out += [{"tool": "bc", "args": ["-l"], "files": files, "stdin": s.encode()} for s in lib_cases]
    for args, stdin in ((["fact.bc"], None), (["fib.bc"], None), (["lib.bc", "-"], b"sq(12)\nhi()\n"),
                        (["-q", "lib.bc", "fact.bc"], b"sq(f(5))\n"), (["err.bc"], None),
                        (["noeol.bc"], None), (["halt.bc"], None), (["missing.bc"], None),
                        (["fact.bc", "missing.bc"], None), (["-l", "lib.bc"], b"sq(s(1))\n"),
                        (["-q"], b"1+1\n"), (["-s"], b"1 == 1\nx[1]\n"), (["-w"], b"1 == 1; x\n"),
                        (["-s"], b"a = 3; a\n"), (["--mathlib"], b"s(0.5)\n"), (["-v"], None),
                        (["--version"], None), (["-h"], None), (["--help"], None), (["-z"], None),
                        (["--bogus"], None), (["--help=x"], None), (["-lq", "-"], b"scale\n")):
        out.append({"tool": "bc", "args": args, "files": files, "stdin": stdin})
    env = (("LC_ALL", "C"),)
    for case in out:
        case["env"] = env
    # bc breaks long numbers at $BC_LINE_LENGTH (70 by default; 0: never)
    for n in ("0", "20", "1"):
        out.append({"tool": "bc", "args": [], "files": files, "stdin": b"2 ^ 500\n",
                    "env": env + (("BC_LINE_LENGTH", n),)})
    return out
