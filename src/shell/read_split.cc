// IFS splitting for read and for word splitting (read_split.h).
#include "shell/read_split.h"

namespace wasmcap::shell {

Ifs::Ifs(std::optional<std::string_view> ifs) {
  std::string_view chars = ifs ? *ifs : std::string_view(" \t\n");
  empty_ = chars.empty();
  for (char c : chars) {
    table_[static_cast<unsigned char>(c)] = (c == ' ' || c == '\t' || c == '\n') ? 1 : 2;
  }
}

Result<ReadRecord::State> ReadRecord::feed(char c) {
  if (escape_) {
    escape_ = false;
    // Backslash-newline joins lines, whatever the delimiter.
    if (c == '\n') return State::kMore;
    if (text_.size() >= o_.max_bytes) {
      return make_error(ErrorCode::kMemoryLimit,
                        "read: line longer than " + std::to_string(o_.max_bytes) + " bytes");
    }
    text_ += c;
    literal_.push_back(true);
  } else if (c == '\\' && !o_.raw) {
    escape_ = true;
    return State::kMore;
  } else if (c == o_.delim && !o_.exact) {
    saw_delim_ = true;
    return State::kDone;
  } else {
    if (text_.size() >= o_.max_bytes) {
      return make_error(ErrorCode::kMemoryLimit,
                        "read: line longer than " + std::to_string(o_.max_bytes) + " bytes");
    }
    text_ += c;
    literal_.push_back(false);
  }
  if (o_.nchars != 0 && ++count_ >= o_.nchars) return State::kDone;
  return State::kMore;
}

namespace {

// read's view of a record: a cursor over the text that skips delimiters as bash's
// get_word_from_string does.
class Words {
 public:
  Words(std::string_view text, const std::vector<bool>& literal, const Ifs& ifs)
      : t_(text), lit_(literal), ifs_(ifs) {}

  bool at_end() const { return pos_ >= t_.size(); }
  size_t pos() const { return pos_; }

  void skip_spaces() {
    while (pos_ < t_.size() && space(pos_)) ++pos_;
  }

  // The next field, and the delimiter after it (IFS whitespace, at most one other IFS
  // character, IFS whitespace).
  std::string word() {
    skip_spaces();
    size_t start = pos_;
    while (pos_ < t_.size() && !delim(pos_)) ++pos_;
    std::string w(t_.substr(start, pos_ - start));
    skip_spaces();
    if (pos_ < t_.size() && other(pos_)) {
      ++pos_;
      skip_spaces();
    }
    return w;
  }

  // The text from `from` to the end without its trailing IFS whitespace, escaped or not (bash:
  // `read a b <<< 'x a b\ '` gives b="a b", though `<<< 'x a\ '` gives b="a ").
  std::string rest(size_t from) const {
    size_t end = t_.size();
    while (end > from && ifs_.is_space(t_[end - 1])) --end;
    return std::string(t_.substr(from, end - from));
  }

 private:
  bool literal(size_t i) const { return i < lit_.size() && lit_[i]; }
  bool space(size_t i) const { return !literal(i) && ifs_.is_space(t_[i]); }
  bool other(size_t i) const { return !literal(i) && ifs_.is_other(t_[i]); }
  bool delim(size_t i) const { return !literal(i) && ifs_.is_delim(t_[i]); }

  std::string_view t_;
  const std::vector<bool>& lit_;
  const Ifs& ifs_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<std::string> read_assign(std::string_view text, const std::vector<bool>& literal,
                                     const Ifs& ifs, size_t names) {
  std::vector<std::string> values(names);
  if (names == 0) return values;
  if (ifs.empty()) {
    values[0] = std::string(text);
    return values;
  }
  Words w(text, literal, ifs);
  w.skip_spaces();
  for (size_t k = 0; k + 1 < names && !w.at_end(); ++k) values[k] = w.word();
  if (w.at_end()) return values;
  // The last name: one more field when it ends the text (its delimiter dropped), else the
  // whole rest.
  size_t from = w.pos();
  std::string last = w.word();
  values[names - 1] = w.at_end() ? last : w.rest(from);
  return values;
}

std::vector<std::string> read_fields(std::string_view text, const std::vector<bool>& literal,
                                     const Ifs& ifs) {
  std::vector<std::string> fields;
  if (ifs.empty()) {
    if (!text.empty()) fields.emplace_back(text);
    return fields;
  }
  Words w(text, literal, ifs);
  w.skip_spaces();
  while (!w.at_end()) fields.push_back(w.word());
  return fields;
}

std::vector<std::string> read_assign(const ReadRecord& rec, const Ifs& ifs, size_t names) {
  if (rec.exact()) {
    std::vector<std::string> values(names);
    if (names != 0) values[0] = rec.text();
    return values;
  }
  return read_assign(rec.text(), rec.literal(), ifs, names);
}

std::vector<std::string> read_fields(const ReadRecord& rec, const Ifs& ifs) {
  if (rec.exact()) {
    return rec.text().empty() ? std::vector<std::string>{} : std::vector<std::string>{rec.text()};
  }
  return read_fields(rec.text(), rec.literal(), ifs);
}

namespace {

// Word splitting's state across segments (a delimiter may span two expansions: `$a$b`).
class Splitter {
 public:
  explicit Splitter(const Ifs& ifs) : ifs_(ifs) {}

  void content(size_t seg, size_t begin, size_t end) {
    in_delim_ = false;
    if (end > begin) cur_.push_back({seg, begin, end});
    has_ = true;
  }

  void delim_char(char c) {
    if (!in_delim_) {
      // Entering a delimiter ends the field before it, if there is one.
      in_delim_ = true;
      seen_other_ = false;
      ended_field_ = has_;
      flush(false);
    }
    if (!ifs_.is_other(c)) return;
    if (seen_other_ || !ended_field_) {
      // A second IFS character in a row, or one with no field before it: an empty field.
      flush(true);
    }
    seen_other_ = true;
    ended_field_ = true;
  }

  std::vector<SplitField> finish() {
    flush(false);
    return std::move(fields_);
  }

 private:
  void flush(bool force) {
    if (has_ || force) fields_.push_back(std::move(cur_));
    cur_.clear();
    has_ = false;
  }

  const Ifs& ifs_;
  std::vector<SplitField> fields_;
  SplitField cur_;
  bool has_ = false;
  bool in_delim_ = false;
  bool seen_other_ = false;
  bool ended_field_ = false;
};

}  // namespace

std::vector<SplitField> split_word(const std::vector<SplitSegment>& segments, const Ifs& ifs) {
  Splitter sp(ifs);
  for (size_t s = 0; s < segments.size(); ++s) {
    std::string_view t = segments[s].text;
    if (!segments[s].split) {
      sp.content(s, 0, t.size());
      continue;
    }
    if (ifs.empty()) {
      // Nothing splits; an empty expansion still makes no field by itself.
      if (!t.empty()) sp.content(s, 0, t.size());
      continue;
    }
    size_t i = 0;
    while (i < t.size()) {
      if (ifs.is_delim(t[i])) {
        sp.delim_char(t[i++]);
        continue;
      }
      size_t start = i;
      while (i < t.size() && !ifs.is_delim(t[i])) ++i;
      sp.content(s, start, i);
    }
  }
  return sp.finish();
}

std::vector<std::string> split_text(std::string_view text, const Ifs& ifs) {
  std::vector<SplitSegment> segs{{text, true}};
  std::vector<std::string> out;
  for (const SplitField& f : split_word(segs, ifs)) {
    std::string s;
    for (const FieldPiece& p : f) s.append(text.substr(p.begin, p.end - p.begin));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace wasmcap::shell
