// Test helpers for the shell parser (tests/shell and fuzz_shell_parser): a canonical dump of an
// AST, and a printer that turns an AST back into script text. The round-trip oracle is
//   dump(parse(print(parse(s)))) == dump(parse(s))   whenever parse(s) succeeds,
// i.e. the parser gives every AST it produces one meaning that survives re-quoting.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "shell/parse.h"

namespace wasmcap::shell::testing {

// Appends pieces (no `a + b` temporaries: GCC 12 at -O3 reports a bogus -Wrestrict on them).
inline void cat(std::string& out, std::initializer_list<std::string_view> pieces) {
  for (std::string_view p : pieces) out.append(p.data(), p.size());
}

inline std::string dump(const Script& s);

// Parts are normalized: adjacent literals of the same quotedness merge, empty literals drop;
// whether any part was quoted is kept (a quoted empty word still makes a field).
inline std::string dump_word(const Word& w) {
  std::string out = "[";
  bool any_quoted = false;
  std::string pending;
  int pending_quoted = -1;  // -1 none, 0 unquoted literal, 1 quoted literal
  auto flush = [&]() {
    if (pending_quoted >= 0 && !pending.empty()) {
      cat(out, {pending_quoted ? "Q" : "L", std::to_string(pending.size()), ":", pending});
    }
    pending.clear();
    pending_quoted = -1;
  };
  for (const WordPart& p : w.parts) {
    any_quoted = any_quoted || p.quoted;
    if (p.kind == WordPart::Kind::kLiteral) {
      if (pending_quoted != static_cast<int>(p.quoted)) flush();
      pending_quoted = p.quoted ? 1 : 0;
      pending += p.text;
      continue;
    }
    flush();
    if (p.kind == WordPart::Kind::kVar) {
      cat(out, {p.quoted ? "qV" : "V", std::to_string(p.text.size()), ":", p.text});
    } else {
      cat(out, {p.quoted ? "qS(" : "S(", p.script ? dump(*p.script) : "null", ")"});
    }
  }
  flush();
  cat(out, {any_quoted ? "]q" : "]"});
  return out;
}

inline std::string dump(const Script& s) {
  std::string out;
  for (const AndOr& ao : s.items) {
    out += "{";
    for (size_t i = 0; i < ao.pipelines.size(); ++i) {
      if (i > 0) out += i - 1 < ao.and_ops.size() && ao.and_ops[i - 1] ? "&&" : "||";
      out += "<";
      for (const Command& c : ao.pipelines[i].commands) {
        out += "(";
        for (const auto& [name, value] : c.assigns) cat(out, {"A", name, "=", dump_word(value)});
        for (const Word& w : c.words) cat(out, {"W", dump_word(w)});
        for (const Redirect& r : c.redirects) {
          cat(out, {"R", std::to_string(r.fd), ":", std::to_string(static_cast<int>(r.op)), ":",
                    r.op == Redirect::Op::kDup ? std::to_string(r.dup_to) : dump_word(r.target)});
        }
        out += ")";
      }
      out += ">";
    }
    out += "}";
  }
  return out;
}

inline std::string print(const Script& s);

inline std::string print_word(const Word& w) {
  std::string out;
  for (const WordPart& p : w.parts) {
    switch (p.kind) {
      case WordPart::Kind::kLiteral:
        if (!p.quoted) {
          out += p.text;  // the lexer only makes unquoted literals of plain characters
        } else if (p.text.empty()) {
          out += "''";
        } else {
          for (char c : p.text) {
            if (c == '\n') {
              out += "'\n'";  // backslash-newline would be a line continuation
            } else {
              out += '\\';
              out += c;
            }
          }
        }
        break;
      case WordPart::Kind::kVar:
        cat(out, {p.quoted ? "\"${" : "${", p.text, p.quoted ? "}\"" : "}"});
        break;
      case WordPart::Kind::kSubst:
        out += p.quoted ? "\"$(" : "$(";
        out += p.script ? print(*p.script) : "";
        out += p.quoted ? ")\"" : ")";
        break;
    }
  }
  return out;
}

inline std::string print(const Script& s) {
  std::string out;
  for (const AndOr& ao : s.items) {
    for (size_t i = 0; i < ao.pipelines.size(); ++i) {
      if (i > 0) out += ao.and_ops[i - 1] ? " && " : " || ";
      const auto& cmds = ao.pipelines[i].commands;
      for (size_t k = 0; k < cmds.size(); ++k) {
        if (k > 0) out += " | ";
        const Command& c = cmds[k];
        std::string_view sep;
        for (const auto& [name, value] : c.assigns) {
          cat(out, {sep, name, "=", print_word(value)});
          sep = " ";
        }
        for (const Word& w : c.words) {
          cat(out, {sep, print_word(w)});
          sep = " ";
        }
        for (const Redirect& r : c.redirects) {
          cat(out, {sep, std::to_string(r.fd)});
          sep = " ";
          switch (r.op) {
            case Redirect::Op::kOut: cat(out, {">", print_word(r.target)}); break;
            case Redirect::Op::kAppend: cat(out, {">>", print_word(r.target)}); break;
            case Redirect::Op::kIn: cat(out, {"<", print_word(r.target)}); break;
            case Redirect::Op::kDup: cat(out, {">&", std::to_string(r.dup_to)}); break;
          }
        }
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace wasmcap::shell::testing
