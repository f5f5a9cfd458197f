#include "storage/auth_challenge.h"

#include <cctype>

namespace cricket::storage {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void SkipSpaceAndCommas(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) {
    ++i;
  }
}

}  // namespace

Result<AuthChallenge> ParseAuthChallenge(std::string_view header) {
  size_t i = 0;
  SkipSpaceAndCommas(header, i);
  size_t start = i;
  while (i < header.size() && header[i] != ' ' && header[i] != '\t') {
    ++i;
  }
  AuthChallenge out;
  out.scheme = Lower(header.substr(start, i - start));
  if (out.scheme.empty()) {
    return Error(Code::kInvalidArgument, "empty WWW-Authenticate header");
  }
  while (i < header.size()) {
    SkipSpaceAndCommas(header, i);
    size_t name_start = i;
    while (i < header.size() && header[i] != '=' && header[i] != ',') {
      ++i;
    }
    if (i >= header.size() || header[i] != '=') {
      break;  // a token68 or trailing junk: registries do not send either
    }
    std::string name = Lower(header.substr(name_start, i - name_start));
    while (!name.empty() && name.back() == ' ') {
      name.pop_back();
    }
    ++i;  // '='
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size()) {
          ++i;
        }
        value += header[i++];
      }
      if (i >= header.size()) {
        return Error(Code::kInvalidArgument, "unterminated quote in WWW-Authenticate header");
      }
      ++i;  // closing quote
    } else {
      while (i < header.size() && header[i] != ',' && header[i] != ' ') {
        value += header[i++];
      }
    }
    out.params[name] = value;
  }
  return out;
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  size_t i = 0;
  while (i + 2 < data.size()) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
    i += 3;
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<uint8_t>(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t n = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) {
      return Error(Code::kInvalidArgument, "malformed base64: data after padding");
    }
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) {
      return Error(Code::kInvalidArgument, "malformed base64");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (padding > 2) {
    return Error(Code::kInvalidArgument, "malformed base64 padding");
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace cricket::storage
