// Test helpers for the shell parser (tests/shell and fuzz_shell_parser): a canonical dump of an
// AST, and a printer that turns an AST back into script text. The round-trip oracle is
//   dump(parse(print(parse(s)))) == dump(parse(s))   whenever parse(s) succeeds,
// i.e. the parser gives every AST it produces one meaning that survives re-quoting.
#pragma once

#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "shell/parse.h"

namespace wasmcap::shell::testing {

// Appends pieces (no `a + b` temporaries: GCC 12 at -O3 reports a bogus -Wrestrict on them).
inline void cat(std::string& out, std::initializer_list<std::string_view> pieces) {
  for (std::string_view p : pieces) out.append(p.data(), p.size());
}

inline std::string dump_list(const std::vector<AndOr>& items);
inline std::string dump(const Script& s) { return dump_list(s.items); }
inline std::string dump_word(const Word& w);

inline std::string dump_op(const ParamOp& op) {
  std::string out;
  cat(out, {"{", std::to_string(static_cast<int>(op.kind)), op.colon ? ":" : "",
            op.longest ? "L" : "", std::to_string(static_cast<int>(op.anchor)), "|",
            op.arg ? dump_word(*op.arg) : "-", "|", op.arg2 ? dump_word(*op.arg2) : "-", "|",
            std::to_string(static_cast<int>(op.sub)), op.index ? dump_word(*op.index) : "-",
            op.indirect ? "!" : "", op.keys ? "K" : "", op.names ? "N" : "",
            op.bad_length ? "B" : "",
            std::string(op.case_op ? 1 : 0, op.case_op), std::string(op.transform ? 1 : 0, op.transform),
            "}"});
  return out;
}

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
      cat(out, {p.quoted ? "qV" : "V", std::to_string(p.text.size()), ":", p.text,
                p.op ? dump_op(*p.op) : ""});
    } else if (p.kind == WordPart::Kind::kTilde) {
      cat(out, {"T:", p.text, ";"});
    } else if (p.kind == WordPart::Kind::kArith) {
      cat(out, {p.quoted ? "qX(" : "X(", p.arith ? dump_word(*p.arith) : "null", ")"});
    } else if (p.kind == WordPart::Kind::kArray) {
      out += "Y(";
      if (p.elems) {
        for (const Word& e : *p.elems) out += dump_word(e);
      }
      out += ")";
    } else if (p.kind == WordPart::Kind::kProcSub) {
      cat(out, {p.to_list ? "P>(" : "P(", p.script ? dump(*p.script) : "null", ")"});
    } else {
      cat(out, {p.quoted ? "qS(" : "S(", p.script ? dump(*p.script) : "null", ")"});
    }
  }
  flush();
  cat(out, {any_quoted ? "]q" : "]"});
  return out;
}

inline std::string dump_cond(const CondExpr& e) {
  std::string out;
  cat(out, {"<", std::to_string(static_cast<int>(e.kind)), e.op});
  for (const Word& w : e.words) cat(out, {"W", dump_word(w)});
  for (const CondExpr& k : e.kids) out += dump_cond(k);
  out += ">";
  return out;
}

inline std::string dump_command(const Command& c) {
  std::string out;
  cat(out, {"(", std::to_string(static_cast<int>(c.kind)), ":"});
  for (size_t k = 0; k < c.assigns.size(); ++k) {
    const auto& [name, value] = c.assigns[k];
    const Command::AssignTarget* t = k < c.assign_targets.size() ? &c.assign_targets[k] : nullptr;
    std::string index;
    if (t && t->index) cat(index, {"[", dump_word(*t->index), "]"});
    cat(out, {"A", name, index, t && t->append ? "+=" : "=", dump_word(value)});
  }
  for (const Word& w : c.words) cat(out, {"W", dump_word(w)});
  for (const Redirect& r : c.redirects) {
    cat(out, {"R", r.fd_var.empty() ? std::to_string(r.fd) : "{" + r.fd_var + "}", ":",
              std::to_string(static_cast<int>(r.op)), r.out_err ? "e" : "", ":"});
    if (r.op == Redirect::Op::kDup || r.op == Redirect::Op::kMove) {
      out += std::to_string(r.dup_to);
    } else if (r.op == Redirect::Op::kHereDoc) {
      cat(out, {"H", r.heredoc->quoted ? "q" : "", dump_word(r.heredoc->body)});
    } else if (r.op != Redirect::Op::kClose) {
      out += dump_word(r.target);
    }
  }
  for (size_t k = 0; k < c.conds.size(); ++k) {
    cat(out, {"C", dump_list(c.conds[k])});
    if (k < c.bodies.size()) cat(out, {"T", dump_list(c.bodies[k])});
  }
  if (!c.body.empty() || c.has_else) cat(out, {c.has_else ? "E" : "B", dump_list(c.body)});
  if (c.for_in) out += "in";
  if (!c.name.empty()) cat(out, {"N", c.name, ";"});
  for (const CaseItem& item : c.items) {
    out += "I";
    for (const Word& p : item.patterns) cat(out, {"P", dump_word(p)});
    cat(out, {dump_list(item.body), std::to_string(static_cast<int>(item.end))});
  }
  if (c.function_body) cat(out, {"F", dump_command(*c.function_body)});
  if (c.cond) cat(out, {"K", dump_cond(*c.cond)});
  out += ")";
  return out;
}

inline std::string dump_list(const std::vector<AndOr>& items) {
  std::string out;
  for (const AndOr& ao : items) {
    out += "{";
    for (size_t i = 0; i < ao.pipelines.size(); ++i) {
      if (i > 0) out += i - 1 < ao.and_ops.size() && ao.and_ops[i - 1] ? "&&" : "||";
      out += ao.pipelines[i].negate ? "!<" : "<";
      for (const Command& c : ao.pipelines[i].commands) out += dump_command(c);
      out += ">";
    }
    out += ao.background ? "&}" : "}";
  }
  return out;
}

// Prints an AST back to script text. Here-document bodies follow the line their command ends.
class Printer {
 public:
  std::string script(const std::vector<AndOr>& items) {
    std::string out;
    list(out, items);
    return out;
  }

 private:
  void newline(std::string& out) {
    out += "\n";
    for (const auto& [body, delim] : pending_) cat(out, {body, delim, "\n"});
    pending_.clear();
  }

  // The text of a here-document body, or (in_dquotes) of the word of a "${x-w}" inside double
  // quotes, which the lexer reads as double-quoted text: there a backslash escapes only $ ` " \ }.
  std::string heredoc_text(const Word& w, bool in_dquotes = false) {
    std::string out;
    for (const WordPart& p : w.parts) {
      if (p.kind == WordPart::Kind::kLiteral) {
        for (char c : p.text) {
          if (in_dquotes && c == '\'') {
            out += "\"'\"";  // a lone ' would open a quoted span there, whose } does not end ${
            continue;
          }
          if (c == '$' || c == '`' || c == '\\' || (in_dquotes && (c == '"' || c == '}'))) {
            out += '\\';
          }
          out += c;
        }
      } else {
        WordPart q = p;
        q.quoted = false;  // printed without the quotes a "..." would need
        Word one;
        one.parts.push_back(q);
        bool was = dq_context_;
        dq_context_ = true;
        out += word(one);
        dq_context_ = was;
      }
    }
    return out;
  }

  void list(std::string& out, const std::vector<AndOr>& items) {
    for (const AndOr& ao : items) {
      for (size_t i = 0; i < ao.pipelines.size(); ++i) {
        if (i > 0) out += ao.and_ops[i - 1] ? " && " : " || ";
        const Pipeline& p = ao.pipelines[i];
        if (p.negate) out += "! ";
        for (size_t k = 0; k < p.commands.size(); ++k) {
          if (k > 0) out += " | ";
          command(out, p.commands[k]);
        }
      }
      if (ao.background) out += " &";
      newline(out);
    }
  }

  void command(std::string& out, const Command& c) {
    using K = Command::Kind;
    switch (c.kind) {
      case K::kSimple: {
        std::string_view sep;
        // A reserved word can be a simple command's first word only after a redirection
        // (`>o ! x`), and so can an extglob `!( )` word (`<x !(a)`): print the redirections
        // first then, or it would start a construct (a negated subshell).
        if (c.assigns.empty() && !c.words.empty() &&
            (reserved(c.words[0]) || word(c.words[0]).rfind("!(", 0) == 0)) {
          for (const Redirect& r : c.redirects) redirect(out, r);
          for (const Word& w : c.words) cat(out, {" ", word(w)});
          return;
        }
        for (size_t k = 0; k < c.assigns.size(); ++k) {
          const auto& [name, value] = c.assigns[k];
          const Command::AssignTarget* t =
              k < c.assign_targets.size() ? &c.assign_targets[k] : nullptr;
          std::string index;
          if (t && t->index) cat(index, {"[", word(*t->index), "]"});
          cat(out, {sep, name, index, t && t->append ? "+=" : "=", word(value)});
          sep = " ";
        }
        for (const Word& w : c.words) {
          cat(out, {sep, word(w)});
          sep = " ";
        }
        break;
      }
      case K::kGroup:
        out += "{";
        newline(out);
        list(out, c.body);
        out += "}";
        break;
      case K::kSubshell:
        out += "(";
        newline(out);
        list(out, c.body);
        out += ")";
        break;
      case K::kIf:
        for (size_t k = 0; k < c.conds.size(); ++k) {
          out += k == 0 ? "if" : "elif";
          newline(out);
          list(out, c.conds[k]);
          out += "then";
          newline(out);
          list(out, c.bodies[k]);
        }
        if (c.has_else) {
          out += "else";
          newline(out);
          list(out, c.body);
        }
        out += "fi";
        break;
      case K::kWhile:
      case K::kUntil:
        out += c.kind == K::kWhile ? "while" : "until";
        newline(out);
        list(out, c.conds[0]);
        out += "do";
        newline(out);
        list(out, c.body);
        out += "done";
        break;
      case K::kFor:
        cat(out, {"for ", c.name});
        if (c.for_in) {
          out += " in";
          for (const Word& w : c.words) cat(out, {" ", word(w)});
        }
        newline(out);
        out += "do";
        newline(out);
        list(out, c.body);
        out += "done";
        break;
      case K::kCase:
        cat(out, {"case ", word(c.words[0]), " in"});
        newline(out);
        for (const CaseItem& item : c.items) {
          out += "(";
          for (size_t k = 0; k < item.patterns.size(); ++k) {
            cat(out, {k ? " | " : "", word(item.patterns[k])});
          }
          out += ")";
          newline(out);
          list(out, item.body);
          out += item.end == CaseItem::End::kBreak         ? ";;"
                 : item.end == CaseItem::End::kFallThrough ? ";&"
                                                           : ";;&";
          newline(out);
        }
        out += "esac";
        break;
      case K::kFunction:
        cat(out, {c.name, "() "});
        command(out, *c.function_body);
        break;
      case K::kArith:
        cat(out, {"((", arith(c.words[0]), "))"});
        break;
      case K::kCond:
        cat(out, {"[[ ", cond(*c.cond), " ]]"});
        break;
      case K::kArithFor:
        cat(out, {"for ((", arith(c.words[0]), ";", arith(c.words[1]), ";", arith(c.words[2]),
                  "))"});
        newline(out);
        out += "do";
        newline(out);
        list(out, c.body);
        out += "done";
        break;
    }
    for (const Redirect& r : c.redirects) redirect(out, r);
  }

  // [[ ]]'s expression: && and || lists inside another operator in parentheses.
  std::string cond(const CondExpr& e) {
    using CK = CondExpr::Kind;
    std::string out;
    auto kid = [this, &out](const CondExpr& k) {
      bool list = k.kind == CK::kAnd || k.kind == CK::kOr;
      cat(out, {list ? "( " : "", cond(k), list ? " )" : ""});
    };
    switch (e.kind) {
      case CK::kWord: out = word(e.words[0]); break;
      case CK::kUnary: cat(out, {e.op, " ", word(e.words[0])}); break;
      case CK::kBinary: cat(out, {word(e.words[0]), " ", e.op, " ", word(e.words[1])}); break;
      case CK::kNot:
        out = "! ";
        kid(e.kids[0]);
        break;
      case CK::kAnd:
      case CK::kOr:
        for (size_t k = 0; k < e.kids.size(); ++k) {
          if (k > 0) out += e.kind == CK::kAnd ? " && " : " || ";
          kid(e.kids[k]);
        }
        break;
    }
    return out;
  }

  static bool reserved(const Word& w) {
    if (w.parts.size() != 1 || w.parts[0].kind != WordPart::Kind::kLiteral || w.parts[0].quoted) {
      return false;
    }
    for (const char* k : {"if", "then", "else", "elif", "fi", "do", "done", "case", "esac",
                          "while", "until", "for", "{", "}", "!", "[[", "]]", "function",
                          "select", "coproc", "time", "in"}) {
      if (w.parts[0].text == k) return true;
    }
    return false;
  }

  // A redirection's word, set off by a blank: `< <(x)` must not print as `<<(x)`.
  std::string target(const Word& w) {
    std::string t(1, ' ');  // (appended: GCC 12 -O3 reports a bogus -Wrestrict for " " + ...)
    t += word(w);
    return t;
  }

  void redirect(std::string& out, const Redirect& r) {
    using O = Redirect::Op;
    std::string fd = r.fd_var.empty() ? std::to_string(r.fd) : "{" + r.fd_var + "}";
    switch (r.op) {
      case O::kOut: cat(out, {" ", fd, ">", target(r.target)}); break;
      case O::kAppend: cat(out, {" ", fd, ">>", target(r.target)}); break;
      case O::kIn: cat(out, {" ", fd, "<", target(r.target)}); break;
      case O::kDup: cat(out, {" ", fd, ">&", std::to_string(r.dup_to)}); break;
      case O::kClose: cat(out, {" ", fd, ">&-"}); break;
      case O::kMove: cat(out, {" ", fd, ">&", std::to_string(r.dup_to), "-"}); break;
      case O::kDupWord: cat(out, {" ", r.out_err ? "" : fd, ">&", target(r.target)}); break;
      case O::kReadWrite: cat(out, {" ", fd, "<>", target(r.target)}); break;
      case O::kClobber: cat(out, {" ", fd, ">|", target(r.target)}); break;
      case O::kHereString: cat(out, {" ", fd, "<<<", target(r.target)}); break;
      case O::kOutErr: cat(out, {" &>", target(r.target)}); break;
      case O::kAppendErr: cat(out, {" &>>", target(r.target)}); break;
      case O::kHereDoc: {
        const HereDoc& h = *r.heredoc;
        std::string body;
        if (h.quoted) {
          for (const WordPart& p : h.body.parts) body += p.text;
        } else {
          body = heredoc_text(h.body);
          // A body that does not end with a newline ended in a line continuation (`x\` on the
          // last line): print one, or the delimiter would join the last line.
          if (!body.empty() && body.back() != '\n') body += "\\\n";
        }
        std::string delim = "EOF";
        while (("\n" + body).find("\n" + delim + "\n") != std::string::npos) delim += "X";
        cat(out, {" ", fd, h.quoted ? "<<'" : "<<", delim, h.quoted ? "'" : ""});
        pending_.emplace_back(std::move(body), delim);
        break;
      }
    }
  }

 public:
  std::string word(const Word& w) {
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
        case WordPart::Kind::kTilde:
          cat(out, {"~", p.text});
          break;
        case WordPart::Kind::kArray:
          out += "(";
          if (p.elems) {
            for (size_t k = 0; k < p.elems->size(); ++k) cat(out, {k ? " " : "", word((*p.elems)[k])});
          }
          out += ")";
          break;
        case WordPart::Kind::kArith:
          cat(out, {p.quoted ? "\"$((" : "$((", p.arith ? arith(*p.arith) : "",
                    p.quoted ? "))\"" : "))"});
          break;
        case WordPart::Kind::kVar:
          cat(out, {p.quoted ? "\"${" : "${", p.op ? param(p) : p.text, p.quoted ? "}\"" : "}"});
          break;
        case WordPart::Kind::kSubst: {
          Printer inner;
          std::string text = p.script ? inner.script(p.script->items) : "";
          // A body that starts with '(' (a subshell, `(=)` in backticks) is set off by a space:
          // "$((" would start an arithmetic expansion (fuzz_shell_parser finding).
          if (!text.empty() && text.front() == '(') text.insert(text.begin(), ' ');
          cat(out, {p.quoted ? "\"$(" : "$(", text, p.quoted ? ")\"" : ")"});
          break;
        }
        case WordPart::Kind::kProcSub: {
          Printer inner;
          std::string text = p.script ? inner.script(p.script->items) : "";
          if (!text.empty() && text.front() == '(') text.insert(text.begin(), ' ');
          cat(out, {p.to_list ? ">(" : "<(", text, ")"});
          break;
        }
      }
    }
    return out;
  }

  // An arithmetic expression: its literal text is all quoted (the lexer marks it so): printed
  // with every character but letters, digits, blanks and newlines backslash-escaped; its
  // expansions as in a word (inside (( )) they are quoted whatever the printing).
  std::string arith(const Word& w) {
    std::string out;
    for (const WordPart& p : w.parts) {
      if (p.kind == WordPart::Kind::kLiteral) {
        for (char c : p.text) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != ' ' && c != '\n' && c != '\t') {
            out += '\\';
          }
          out += c;
        }
        continue;
      }
      WordPart q = p;
      q.quoted = false;
      Word one;
      one.parts.push_back(q);
      bool was = dq_context_;
      dq_context_ = true;  // the lexer reads an expansion's word there as in double quotes
      out += word(one);
      dq_context_ = was;
    }
    return out;
  }

 private:
  // Printing inside a here-document body or $(( )): the lexer reads the word of a ${x-w} there as
  // in double quotes.
  bool dq_context_ = false;
  std::string param(const WordPart& p) {
    const ParamOp& op = *p.op;
    using K = ParamOp::Kind;
    // The words the lexer reads as unquoted text wherever the expansion stands (patterns,
    // replacements, offsets, indexes: lex.cc word_arg), even inside "..." or a here-document.
    auto arg = [&](const std::shared_ptr<const Word>& w) {
      if (!w) return std::string();
      bool was = dq_context_;
      dq_context_ = false;
      std::string t = word(*w);
      dq_context_ = was;
      return t;
    };
    // The word of - = ? + in a quoted expansion (or one in $(( ))) reads as double-quoted text
    // (bash).
    auto dq_arg = [&](const std::shared_ptr<const Word>& w) {
      if (!w) return std::string();
      if (!p.quoted && !dq_context_) return word(*w);
      std::string t = heredoc_text(*w, true);
      return t.empty() && !w->parts.empty() ? std::string("\"\"") : t;  // ${x-""}: a quoted empty word
    };
    std::string c = op.colon ? ":" : "";
    std::string n;
    cat(n, {op.bad_length ? "#" : "", op.indirect || op.keys || op.names ? "!" : "", p.text});
    if (op.names) {
      n += op.sub == ParamOp::Sub::kAll ? "@" : "*";
    } else if (op.sub == ParamOp::Sub::kAll) {
      n += "[@]";
    } else if (op.sub == ParamOp::Sub::kStar) {
      n += "[*]";
    } else if (op.sub == ParamOp::Sub::kIndex) {
      cat(n, {"[", arg(op.index), "]"});
    }
    switch (op.kind) {
      case K::kNone: return n;
      case K::kLength: return "#" + n;
      case K::kDefault: return n + c + "-" + dq_arg(op.arg);
      case K::kAssign: return n + c + "=" + dq_arg(op.arg);
      case K::kError: return n + c + "?" + dq_arg(op.arg);
      case K::kAlternative: return n + c + "+" + dq_arg(op.arg);
      case K::kTrimPrefix: return n + (op.longest ? "##" : "#") + arg(op.arg);
      case K::kTrimSuffix: return n + (op.longest ? "%%" : "%") + arg(op.arg);
      case K::kReplace: {
        std::string a = op.anchor == ParamOp::Anchor::kAll     ? "/"
                        : op.anchor == ParamOp::Anchor::kStart ? "#"
                        : op.anchor == ParamOp::Anchor::kEnd   ? "%"
                                                               : "";
        return n + "/" + a + arg(op.arg) + (op.arg2 ? "/" + arg(op.arg2) : "");
      }
      case K::kSlice: return n + ":" + arg(op.arg) + (op.arg2 ? ":" + arg(op.arg2) : "");
      case K::kCase:
        return n + std::string(op.longest ? 2 : 1, op.case_op) + arg(op.arg);
      case K::kTransform: return n + "@" + std::string(1, op.transform);
    }
    return n;
  }

  std::vector<std::pair<std::string, std::string>> pending_;  // here-documents: (body, delimiter)
};

inline std::string print(const Script& s) {
  return Printer().script(s.items);
}

inline std::string print_word(const Word& w) { return Printer().word(w); }

}  // namespace wasmcap::shell::testing
