// Small text helpers: parsing shared by command-line flags, and safe printing of text from files.
#pragma once
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kws {

// printf into a std::string, of any length ("%.2f%%" -> "93.75%").
inline std::string VStrFormat(const char* fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out(size_t(n > 0 ? n : 0), '\0');
  if (n > 0) std::vsnprintf(out.data(), size_t(n) + 1, fmt, ap);
  return out;
}
__attribute__((format(printf, 1, 2))) inline std::string StrFormat(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string out = VStrFormat(fmt, ap);
  va_end(ap);
  return out;
}

// "NAME=NUMBER" (e.g. "no=0.7", "espeak-ng=2"): the name (possibly empty) and the number, or
// nullopt when there is no '=' or what follows it is not exactly one number (std::stod syntax).
// Callers word their own error (it names their flag and the expected form).
inline std::optional<std::pair<std::string, double>> ParseNameNumber(const std::string& item) {
  const size_t eq = item.find('=');
  if (eq == std::string::npos) return std::nullopt;
  try {
    size_t used = 0;
    const double v = std::stod(item.substr(eq + 1), &used);
    if (used != item.size() - eq - 1) return std::nullopt;
    return std::make_pair(item.substr(0, eq), v);
  } catch (const std::logic_error&) {  // invalid_argument, out_of_range
    return std::nullopt;
  }
}

// "a, b,c" -> {"a", "b", "c"}: comma-separated items, blanks around them trimmed, empty items dropped.
inline std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const size_t b = text.find_first_not_of(" \t", start);
    if (b != std::string::npos && b < end) {
      const size_t e = text.find_last_not_of(" \t", end - 1);
      out.push_back(text.substr(b, e - b + 1));
    }
    start = end + 1;
  }
  return out;
}

// Text that came from a file (labels and settings in a model's metadata, folder and file names,
// paths in messages) made safe to print on a terminal: control characters — C0 (newline, carriage
// return, ESC of ANSI sequences ...), DEL, C1 (U+0080..U+009F, e.g. the one-byte CSI) — bidirectional
// overrides (U+202A..U+202E, U+2066..U+2069, which reorder what is shown) and bytes that are not
// UTF-8 become visible \xNN escapes (per byte), so a crafted model or file name can neither fake
// output lines nor rewrite the screen. Everything else, valid UTF-8 included, stays as it is.
//   Printable("no\x1b[2K\rYES") is the 16 characters  no\x1b[2K\x0dYES
inline std::string Printable(std::string_view s) {
  auto esc = [](std::string& out, unsigned char c) {
    static const char* hex = "0123456789abcdef";
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) esc(out, c);
      else out += char(c);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, its continuation bytes checked, overlong
    // forms and surrogates refused; then the code point's own check.
    const int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    uint32_t cp = len == 4 ? c & 0x07u : len == 3 ? c & 0x0Fu : c & 0x1Fu;
    bool ok = len > 0 && i + size_t(len) <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + size_t(k)]);
      ok = (d & 0xC0) == 0x80;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if (ok) ok = !(len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) && !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF));
    if (!ok) {
      esc(out, c);
      ++i;
      continue;
    }
    const bool hidden = (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    for (int k = 0; k < len; ++k) {
      if (hidden) esc(out, static_cast<unsigned char>(s[i + size_t(k)]));
      else out += s[i + size_t(k)];
    }
    i += size_t(len);
  }
  return out;
}

}  // namespace kws
