// Internal: the stdio transport (one JSON-RPC message per line). Public entry: mcp::serve_stdio.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace wasmcap::mcp {

// Splits a byte stream into lines of at most `max_line` bytes. Lines longer than that are
// dropped whole (on_oversized is called once for each), never buffered beyond the bound.
class LineReader {
 public:
  LineReader(size_t max_line, std::function<void(std::string_view)> on_line,
             std::function<void()> on_oversized)
      : max_(max_line), on_line_(std::move(on_line)), on_oversized_(std::move(on_oversized)) {}
  void feed(std::string_view bytes);
  // End of input: a final line without newline is delivered.
  void finish();

 private:
  size_t max_;
  std::function<void(std::string_view)> on_line_;
  std::function<void()> on_oversized_;
  std::string buf_;
  bool discarding_ = false;
};

}  // namespace wasmcap::mcp
