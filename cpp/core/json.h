// Minimal JSON value, parser and writer for configs, checkpoint headers and CLI logs.
// Objects keep insertion order so configs and safetensors headers round-trip readably.
//
// Hostile input (issue 9): parsing takes time linear in the text (duplicate keys are found through
// a sorted index, not by scanning the object), and the tree is lean: a node is 16 bytes, strings of
// up to 8 bytes live inside it, and arrays and objects hold exactly their elements. A parsed tree
// takes at most ~8x its text, whatever the text is made of (tests/cpp/test_config.cpp measures it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace resnorm {

// A read-only view of an array's items or an object's members, valid until that value changes.
template <class T>
class JsonSpan {
 public:
  JsonSpan(const T* p, size_t n) : p_(p), n_(n) {}
  const T* begin() const { return p_; }
  const T* end() const { return p_ + n_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const T& operator[](size_t i) const { return p_[i]; }

 private:
  const T* p_;
  size_t n_;
};

class Json {
 public:
  enum class Type : uint8_t { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, Json>;

  Json() noexcept : d_(0.0) {}
  Json(const Json& o);
  Json(Json&& o) noexcept;
  Json& operator=(const Json& o);
  Json& operator=(Json&& o) noexcept;
  ~Json();

  static Json boolean(bool b);
  static Json number(double d);
  static Json string(const std::string& s);
  static Json array();
  static Json object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const { return type_ == Type::Bool && b_; }
  double as_number() const { return type_ == Type::Number ? d_ : 0.0; }
  std::string as_string() const;  // "" unless a string
  JsonSpan<Json> items() const;     // empty unless an array
  JsonSpan<Member> members() const;  // empty unless an object

  // Object access: find returns nullptr when absent.
  const Json* find(const std::string& key) const;
  Json& set(const std::string& key, Json v);  // replaces or appends
  Json& push(Json v);                           // arrays

  std::string dump() const;  // compact, numbers with enough digits to round-trip
  static const char* type_name(Type t);

 private:
  friend class JsonParser;
  static constexpr uint32_t kInline = 8;  // strings this short live in the node itself
  void release() noexcept;
  void copy_from(const Json& o);
  const char* chars() const { return n_ <= kInline ? s_ : hs_; }
  size_t capacity() const;
  void dump_to(std::string& out) const;

  Type type_ = Type::Null;
  bool grown_ = false;  // arrays/objects: capacity is the next power of two of n_ (else exactly n_)
  uint32_t n_ = 0;      // string length, item or member count
  union {
    bool b_;
    double d_;
    char s_[kInline];
    char* hs_;
    Json* a_;
    Member* o_;
  };
};

// Throws resnorm::Error with the byte offset of the problem.
Json parse_json(const std::string& text);
std::string json_quote(const std::string& s);
// Input quoted in a message, made safe for a terminal and one line: control characters (C0, DEL, C1),
// line separators and bidirectional overrides become \n, \t or \uXXXX, and bytes that are not UTF-8
// become \xNN; everything else is kept as it is (issue 21).
std::string printable(const std::string& s);
std::string format_number(double d);

}  // namespace resnorm
