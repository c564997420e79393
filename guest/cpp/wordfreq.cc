// wordfreq: a C++ guest (libc++ for wasm32-wasi from Debian's libc++-19-dev-wasm32).
//
//   wordfreq [-n N] < text
//
// Counts the words of stdin (letters and digits, lowercased) and prints the N most frequent
// (default 10) as "COUNT WORD", most frequent first, ties in alphabetical order. Exit 2 on a
// usage error. Debian's wasm32 libc++ is built without exceptions: C++ guests compile with
// -fno-exceptions (see docs/guests.md).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  size_t top = 10;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-n" && i + 1 < argc) {
      std::string_view v = argv[++i];
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), top);
      if (ec != std::errc() || p != v.data() + v.size()) {
        std::fprintf(stderr, "wordfreq: -n needs a number\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: wordfreq [-n N] < text\n");
      return 2;
    }
  }
  std::map<std::string, size_t> counts;
  std::string word;
  char c;
  while (std::cin.get(c)) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  if (!word.empty()) ++counts[word];
  std::vector<std::pair<std::string, size_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (sorted.size() > top) sorted.resize(top);
  for (const auto& [w, n] : sorted) std::cout << n << ' ' << w << '\n';
  return 0;
}
