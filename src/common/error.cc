#include "wasmcap/error.h"

#include "common/escape.h"

namespace wasmcap {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
#define WASMCAP_X(e, name, exit) \
  case ErrorCode::e:             \
    return name;
    WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
  }
  return "unknown";
}

int error_exit_code(ErrorCode code) {
  switch (code) {
#define WASMCAP_X(e, name, exit) \
  case ErrorCode::e:             \
    return exit;
    WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
  }
  return 70;
}

std::string quote_untrusted(std::string_view s, size_t max) {
  // Built by appending: GCC 12 reports a false -Wrestrict on `"\"" + std::string`.
  std::string out = "\"";
  out += text::escape_ascii(s, max, "\"\\");
  out += '"';
  return out;
}

std::string display_untrusted(std::string_view s, size_t max) {
  bool plain = !s.empty() && s.size() <= max;
  for (unsigned char c : s) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '$' || c == '-');
  }
  return plain ? std::string(s) : quote_untrusted(s, max);
}

bool is_trap(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTrapUnreachable:
    case ErrorCode::kTrapMemoryOutOfBounds:
    case ErrorCode::kTrapTableOutOfBounds:
    case ErrorCode::kTrapIntegerDivideByZero:
    case ErrorCode::kTrapIntegerOverflow:
    case ErrorCode::kTrapInvalidConversion:
    case ErrorCode::kTrapIndirectCallNull:
    case ErrorCode::kTrapIndirectCallMismatch:
    case ErrorCode::kTrapStackExhausted:
    case ErrorCode::kTrapHost:
    case ErrorCode::kTrapOther:
    case ErrorCode::kTrapUncaughtException:
      return true;
    default:
      return false;
  }
}

std::string Error::to_string() const {
  std::string s(error_code_name(code));
  s += ": ";
  s += message;
  return s;
}

}  // namespace wasmcap
