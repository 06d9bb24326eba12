// JSON parsing (RFC 8259; duplicate keys refused, nesting limited to 64) and compact serialisation.
#include "json.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <set>
#include <vector>

#include "error.h"

namespace resnorm {

namespace {
// Storage for arrays and objects: raw blocks holding exactly `cap` slots, elements moved in and out.
template <class T>
T* allocate(size_t cap) {
  return cap ? static_cast<T*>(::operator new(cap * sizeof(T))) : nullptr;
}
template <class T>
void destroy(T* p, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) p[i].~T();
  ::operator delete(p);
}
// Moves n elements into a new block of `cap` slots and frees the old one.
template <class T>
T* regrow(T* old, size_t n, size_t cap) {
  T* p = allocate<T>(cap);
  for (size_t i = 0; i < n; ++i) new (p + i) T(std::move(old[i]));
  destroy(old, n);
  return p;
}
size_t pow2_at_least(size_t n) {
  size_t c = 1;
  while (c < n) c <<= 1;
  return c;
}
}  // namespace

Json Json::boolean(bool b) { Json j; j.type_ = Type::Bool; j.b_ = b; return j; }
Json Json::number(double d) { Json j; j.type_ = Type::Number; j.d_ = d; return j; }
Json Json::string(const std::string& s) {
  if (s.size() > UINT32_MAX) throw Error("JSON string too long");
  Json j;
  j.type_ = Type::String;
  j.n_ = static_cast<uint32_t>(s.size());
  if (j.n_ > kInline) {
    j.hs_ = static_cast<char*>(::operator new(s.size()));
  }
  std::memcpy(j.n_ > kInline ? j.hs_ : j.s_, s.data(), s.size());
  return j;
}
Json Json::array() { Json j; j.type_ = Type::Array; j.a_ = nullptr; return j; }
Json Json::object() { Json j; j.type_ = Type::Object; j.o_ = nullptr; return j; }

void Json::release() noexcept {
  if (type_ == Type::String && n_ > kInline) ::operator delete(hs_);
  if (type_ == Type::Array) destroy(a_, n_);
  if (type_ == Type::Object) destroy(o_, n_);
  type_ = Type::Null;
  grown_ = false;
  n_ = 0;
  d_ = 0.0;
}

void Json::copy_from(const Json& o) {  // *this is null
  if (o.type_ == Type::String) {
    *this = string(std::string(o.chars(), o.n_));
  } else if (o.type_ == Type::Array) {
    Json* p = allocate<Json>(o.n_);
    size_t i = 0;
    try {
      for (; i < o.n_; ++i) new (p + i) Json(o.a_[i]);
    } catch (...) {
      destroy(p, i);
      throw;
    }
    type_ = Type::Array, n_ = o.n_, a_ = p;
  } else if (o.type_ == Type::Object) {
    Member* p = allocate<Member>(o.n_);
    size_t i = 0;
    try {
      for (; i < o.n_; ++i) new (p + i) Member(o.o_[i]);
    } catch (...) {
      destroy(p, i);
      throw;
    }
    type_ = Type::Object, n_ = o.n_, o_ = p;
  } else {  // null, boolean, number: the value is in the node
    type_ = o.type_, n_ = o.n_;
    std::memcpy(s_, o.s_, sizeof s_);
  }
}

Json::Json(const Json& o) : d_(0.0) { copy_from(o); }
Json::Json(Json&& o) noexcept : type_(o.type_), grown_(o.grown_), n_(o.n_) {
  std::memcpy(s_, o.s_, sizeof s_);  // the whole union, whichever member is live
  o.type_ = Type::Null, o.grown_ = false, o.n_ = 0, o.d_ = 0.0;
}
Json& Json::operator=(const Json& o) {
  if (this != &o) {
    Json tmp(o);
    *this = std::move(tmp);
  }
  return *this;
}
Json& Json::operator=(Json&& o) noexcept {
  if (this != &o) {
    release();
    type_ = o.type_, grown_ = o.grown_, n_ = o.n_;
    std::memcpy(s_, o.s_, sizeof s_);
    o.type_ = Type::Null, o.grown_ = false, o.n_ = 0, o.d_ = 0.0;
  }
  return *this;
}
Json::~Json() { release(); }

std::string Json::as_string() const { return type_ == Type::String ? std::string(chars(), n_) : std::string(); }
JsonSpan<Json> Json::items() const { return {type_ == Type::Array ? a_ : nullptr, type_ == Type::Array ? n_ : 0u}; }
JsonSpan<Json::Member> Json::members() const {
  return {type_ == Type::Object ? o_ : nullptr, type_ == Type::Object ? n_ : 0u};
}
size_t Json::capacity() const { return grown_ ? pow2_at_least(n_) : n_; }

const Json* Json::find(const std::string& key) const {
  if (type_ != Type::Object) return nullptr;
  for (uint32_t i = 0; i < n_; ++i)
    if (o_[i].first == key) return &o_[i].second;
  return nullptr;
}

Json& Json::set(const std::string& key, Json v) {
  if (type_ != Type::Object) *this = object();
  for (uint32_t i = 0; i < n_; ++i)
    if (o_[i].first == key) { o_[i].second = std::move(v); return o_[i].second; }
  if (n_ == UINT32_MAX) throw Error("JSON object too large");
  if (n_ == capacity()) o_ = regrow(o_, n_, pow2_at_least(n_ + 1)), grown_ = true;
  new (o_ + n_) Member(key, std::move(v));
  return o_[n_++].second;
}

Json& Json::push(Json v) {
  if (type_ != Type::Array) *this = array();
  if (n_ == UINT32_MAX) throw Error("JSON array too large");
  if (n_ == capacity()) a_ = regrow(a_, n_, pow2_at_least(n_ + 1)), grown_ = true;
  new (a_ + n_) Json(std::move(v));
  return a_[n_++];
}

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
        if (c < 0x20 || c == 0x7f) {
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

namespace {
// UTF-8 sequence length at s[i] (RFC 3629 well-formed sequences), 0 when the bytes there are not one.
size_t utf8_len(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  const unsigned c = b(i);
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return b(k) >= lo && b(k) <= hi; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}
}  // namespace

std::string printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_len(s, i);
    char buf[12];
    if (n == 0) {  // not UTF-8: the byte in hex
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    unsigned cp = c;
    if (n == 2) cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    if (n == 3)
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    // C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional overrides
    // (U+202A..U+202E, U+2066..U+2069), which would reorder what the terminal shows.
    const bool control = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
                         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    if (!control) {
      out.append(s, i, n);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    }
    i += n;
  }
  return out;
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

void Json::dump_to(std::string& out) const {
  switch (type_) {
    case Type::Null: out += "null"; return;
    case Type::Bool: out += b_ ? "true" : "false"; return;
    case Type::Number: out += format_number(d_); return;
    case Type::String: out += json_quote(std::string(chars(), n_)); return;
    case Type::Array:
      out += '[';
      for (uint32_t i = 0; i < n_; ++i) {
        if (i) out += ',';
        a_[i].dump_to(out);
      }
      out += ']';
      return;
    case Type::Object:
      out += '{';
      for (uint32_t i = 0; i < n_; ++i) {
        if (i) out += ',';
        out += json_quote(o_[i].first);
        out += ':';
        o_[i].second.dump_to(out);
      }
      out += '}';
      return;
  }
}

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

// The parser. Elements of the arrays and objects still open wait on two stacks shared by the whole
// parse; a container that closes takes exactly its own elements off the top. Duplicate keys are found
// by scanning the few keys of a small object, and through a sorted index of the keys of a larger one:
// O(log n) string comparisons per key, however the keys are chosen (a hash could be made to collide).
class JsonParser {
 public:
  explicit JsonParser(const std::string& text) : t(text) {}

  Json parse() {
    Json v = value();
    ws();
    if (i != t.size()) fail("trailing characters after the value");
    return v;
  }

 private:
  using Member = Json::Member;
  static constexpr size_t kScan = 8;  // objects up to this many keys are searched by a plain scan

  // Orders member indices (into `members`) by key; also compares an index with a key not yet stored.
  struct ByKey {
    using is_transparent = void;
    const std::vector<Member>* m;
    bool operator()(size_t a, size_t b) const { return (*m)[a].first < (*m)[b].first; }
    bool operator()(size_t a, const std::string& k) const { return (*m)[a].first < k; }
    bool operator()(const std::string& k, size_t b) const { return k < (*m)[b].first; }
  };

  const std::string& t;
  size_t i = 0;
  int depth = 0;
  std::vector<Json> items;      // elements of the open arrays, innermost last
  std::vector<Member> members;  // members of the open objects, innermost last

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
  static std::string printable_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", u);
    return buf;
  }
  // A number exactly as RFC 8259 section 6 writes it: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?,
  // not followed by another digit, dot or exponent; and finite as a double (1e999 is refused, not read
  // as Inf). Errors name the token and the byte where it starts.
  double number() {
    const size_t start = i;
    auto digit = [&](size_t k) { return k < t.size() && t[k] >= '0' && t[k] <= '9'; };
    size_t k = i;
    if (t[k] == '-') ++k;
    const char* why = nullptr;
    if (!digit(k)) {
      why = "a digit must follow '-'";
    } else if (t[k] == '0' && digit(k + 1)) {
      why = "leading zero";
    } else {
      while (digit(k)) ++k;
      if (k < t.size() && t[k] == '.') {
        if (!digit(k + 1)) why = "a digit must follow '.'";
        else for (++k; digit(k);) ++k;
      }
      if (!why && k < t.size() && (t[k] == 'e' || t[k] == 'E')) {
        size_t e = k + 1;
        if (e < t.size() && (t[e] == '+' || t[e] == '-')) ++e;
        if (!digit(e)) why = "a digit must follow the exponent";
        else for (k = e; digit(k);) ++k;
      }
    }
    // The token as a reader sees it: up to the next delimiter.
    size_t end = k;
    while (end < t.size() && (digit(end) || t[end] == '.' || t[end] == 'e' || t[end] == 'E' || t[end] == '+' ||
                              t[end] == '-'))
      ++end;
    if (!why && end != k) why = "unexpected character after the number";
    const std::string tok = printable(t.substr(start, std::min<size_t>(end - start, 40)));
    if (why) fail("bad number \"" + tok + "\" (" + why + ")");
    const double d = std::strtod(t.substr(start, k - start).c_str(), nullptr);
    if (!std::isfinite(d)) fail("number \"" + tok + "\" is out of range (beyond +-1.8e308)");
    i = k;
    return d;
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
      // The plain run up to the next quote, backslash or control character, appended at once.
      size_t run = i;
      // RFC 8259 section 8.1: the text is UTF-8; a string's other bytes must be well-formed sequences.
      while (run < t.size() && t[run] != '"' && t[run] != '\\' && static_cast<unsigned char>(t[run]) >= 0x20) {
        if (static_cast<unsigned char>(t[run]) < 0x80) {
          ++run;
          continue;
        }
        const size_t n = utf8_len(t, run);
        if (n == 0) {
          i = run;
          fail("a string holds bytes that are not UTF-8");
        }
        run += n;
      }
      out.append(t, i, run - i);
      i = run;
      if (i >= t.size()) fail("unterminated string");
      char c = t[i++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
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
              i -= 6;
              fail("lone surrogate " + t.substr(i, 6));
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            i -= 6;
            fail("lone surrogate " + t.substr(i, 6) + " (a low surrogate without a high one before it)");
          }
          utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
    return out;
  }
  // Moves items[base..] / members[base..] into a container holding exactly them.
  Json close_array(size_t base) {
    Json out = Json::array();
    const size_t n = items.size() - base;
    if (n > UINT32_MAX) fail("array too large");
    out.a_ = allocate<Json>(n);
    for (size_t k = 0; k < n; ++k) new (out.a_ + k) Json(std::move(items[base + k]));
    out.n_ = static_cast<uint32_t>(n);
    items.resize(base);
    return out;
  }
  Json close_object(size_t base) {
    Json out = Json::object();
    const size_t n = members.size() - base;
    if (n > UINT32_MAX) fail("object too large");
    out.o_ = allocate<Member>(n);
    for (size_t k = 0; k < n; ++k) new (out.o_ + k) Member(std::move(members[base + k]));
    out.n_ = static_cast<uint32_t>(n);
    members.erase(members.begin() + static_cast<std::ptrdiff_t>(base), members.end());
    return out;
  }
  Json object() {
    const size_t base = members.size();
    std::unique_ptr<std::set<size_t, ByKey>> index;  // made once the object outgrows a scan
    if (!eat('}')) {
      do {
        std::string k = str();
        bool dup = false;
        std::set<size_t, ByKey>::iterator at;  // with an index: where k goes (the first key not below it)
        if (index) {
          at = index->lower_bound(k);
          dup = at != index->end() && members[*at].first == k;
        } else {
          for (size_t m = base; m < members.size() && !dup; ++m) dup = members[m].first == k;
        }
        if (dup) fail("duplicate key \"" + printable(k) + "\"");
        expect(':');
        Json v = value();
        members.emplace_back(std::move(k), std::move(v));
        if (index) {
          index->emplace_hint(at, members.size() - 1);  // nothing touched this index while v was parsed
        } else if (members.size() - base > kScan) {
          index = std::make_unique<std::set<size_t, ByKey>>(ByKey{&members});
          for (size_t m = base; m < members.size(); ++m) index->insert(m);
        }
      } while (eat(','));
      expect('}');
    }
    return close_object(base);
  }
  Json value() {
    ws();
    if (i >= t.size()) fail("unexpected end of input");
    if (++depth > 64) fail("nesting deeper than 64");
    Json out;
    char c = t[i];
    if (c == '{') {
      ++i;
      out = object();
    } else if (c == '[') {
      ++i;
      const size_t base = items.size();
      if (!eat(']')) {
        do {
          Json v = value();
          items.push_back(std::move(v));
        } while (eat(','));
        expect(']');
      }
      out = close_array(base);
    } else if (c == '"') {
      out = Json::string(str());
    } else if (c == 't') { literal("true"); out = Json::boolean(true); }
    else if (c == 'f') { literal("false"); out = Json::boolean(false); }
    else if (c == 'n') { literal("null"); out = Json(); }
    else if (c == '-' || (c >= '0' && c <= '9')) {
      out = Json::number(number());
    } else {
      fail("unexpected character " + printable_char(c));
    }
    --depth;
    return out;
  }
};

Json parse_json(const std::string& text) { return JsonParser(text).parse(); }

}  // namespace resnorm
