// JSON parsing (RFC 8259 subset: no duplicate-key checks beyond "last one wins" refused below)
// and compact serialisation.
#include "json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.h"

namespace resnorm {

Json Json::boolean(bool b) { Json j; j.type_ = Type::Bool; j.b_ = b; return j; }
Json Json::number(double d) { Json j; j.type_ = Type::Number; j.d_ = d; return j; }
Json Json::string(std::string s) { Json j; j.type_ = Type::String; j.s_ = std::move(s); return j; }
Json Json::array() { Json j; j.type_ = Type::Array; return j; }
Json Json::object() { Json j; j.type_ = Type::Object; return j; }

const Json* Json::find(const std::string& key) const {
  for (const auto& kv : o_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

Json& Json::set(const std::string& key, Json v) {
  for (auto& kv : o_)
    if (kv.first == key) { kv.second = std::move(v); return kv.second; }
  o_.emplace_back(key, std::move(v));
  return o_.back().second;
}

Json& Json::push(Json v) { a_.push_back(std::move(v)); return a_.back(); }

const char* Json::type_name(Type t) {
  switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "boolean";
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
  }
  return "?";
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string format_number(double d) {
  if (!std::isfinite(d)) return "null";  // JSON has no NaN/Inf
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", d);
    return buf;
  }
  // The shortest form that reads back as the same double (at most 17 significant digits), so a
  // number written by `show`, a checkpoint or a log round-trips exactly and 0.001 stays 0.001.
  char buf[40];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

std::string Json::dump() const {
  switch (type_) {
    case Type::Null: return "null";
    case Type::Bool: return b_ ? "true" : "false";
    case Type::Number: return format_number(d_);
    case Type::String: return json_quote(s_);
    case Type::Array: {
      std::string out = "[";
      for (size_t i = 0; i < a_.size(); ++i) out += (i ? "," : "") + a_[i].dump();
      return out + "]";
    }
    case Type::Object: {
      std::string out = "{";
      for (size_t i = 0; i < o_.size(); ++i)
        out += (i ? "," : "") + json_quote(o_[i].first) + ":" + o_[i].second.dump();
      return out + "}";
    }
  }
  return "null";
}

namespace {

struct Parser {
  const std::string& t;
  size_t i = 0;
  int depth = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("invalid JSON at byte " + std::to_string(i) + ": " + what);
  }
  void ws() {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t')) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < t.size() && t[i] == c) { ++i; return true; }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "'");
  }
  void literal(const char* word) {
    size_t n = std::strlen(word);
    if (t.compare(i, n, word) != 0) fail("unexpected token");
    i += n;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  unsigned hex4() {
    if (i + 4 > t.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else fail("bad \\u escape");
    }
    return v;
  }
  std::string str() {
    ws();
    if (i >= t.size() || t[i] != '"') fail("expected a string");
    ++i;
    std::string out;
    while (true) {
      if (i >= t.size()) fail("unterminated string");
      char c = t[i++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') { out += c; continue; }
      if (i >= t.size()) fail("unterminated escape");
      char e = t[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (i + 6 <= t.size() && t[i] == '\\' && t[i + 1] == 'u') {
              i += 2;
              unsigned lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) fail("bad surrogate pair");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              fail("lone surrogate");
            }
          }
          utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
    return out;
  }
  Json value() {
    ws();
    if (i >= t.size()) fail("unexpected end of input");
    if (++depth > 64) fail("nesting deeper than 64");
    Json out;
    char c = t[i];
    if (c == '{') {
      ++i;
      out = Json::object();
      if (!eat('}')) {
        do {
          std::string k = str();
          if (out.find(k)) fail("duplicate key \"" + k + "\"");
          expect(':');
          out.set(k, value());
        } while (eat(','));
        expect('}');
      }
    } else if (c == '[') {
      ++i;
      out = Json::array();
      if (!eat(']')) {
        do out.push(value()); while (eat(','));
        expect(']');
      }
    } else if (c == '"') {
      out = Json::string(str());
    } else if (c == 't') { literal("true"); out = Json::boolean(true); }
    else if (c == 'f') { literal("false"); out = Json::boolean(false); }
    else if (c == 'n') { literal("null"); out = Json(); }
    else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i;
      if (t[i] == '-') ++i;
      while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.' || t[i] == 'e' ||
                              t[i] == 'E' || t[i] == '+' || t[i] == '-'))
        ++i;
      std::string num = t.substr(start, i - start);
      char* end = nullptr;
      double d = std::strtod(num.c_str(), &end);
      if (end != num.c_str() + num.size()) { i = start; fail("bad number \"" + num + "\""); }
      out = Json::number(d);
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    --depth;
    return out;
  }
};

}  // namespace

Json parse_json(const std::string& text) {
  Parser p{text};
  Json v = p.value();
  p.ws();
  if (p.i != text.size()) p.fail("trailing characters after the value");
  return v;
}

}  // namespace resnorm
