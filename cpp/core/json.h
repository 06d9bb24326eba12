// Minimal JSON value, parser and writer for configs, checkpoint headers and CLI logs.
// Objects keep insertion order so configs and safetensors headers round-trip readably.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace resnorm {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Json() = default;
  static Json boolean(bool b);
  static Json number(double d);
  static Json string(std::string s);
  static Json array();
  static Json object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const { return b_; }
  double as_number() const { return d_; }
  const std::string& as_string() const { return s_; }
  const std::vector<Json>& items() const { return a_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return o_; }

  // Object access: find returns nullptr when absent.
  const Json* find(const std::string& key) const;
  Json& set(const std::string& key, Json v);  // replaces or appends
  Json& push(Json v);                           // arrays

  std::string dump() const;  // compact, numbers with enough digits to round-trip
  static const char* type_name(Type t);

 private:
  Type type_ = Type::Null;
  bool b_ = false;
  double d_ = 0.0;
  std::string s_;
  std::vector<Json> a_;
  std::vector<std::pair<std::string, Json>> o_;
};

// Throws resnorm::Error with the byte offset of the problem.
Json parse_json(const std::string& text);
std::string json_quote(const std::string& s);
std::string format_number(double d);

}  // namespace resnorm
