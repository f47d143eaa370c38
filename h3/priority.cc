#include "h3/priority.h"

#include "h3/message.h"

namespace wt::h3 {

namespace sf_detail {
namespace {

bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_lcalpha(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  for (char t : std::string_view{"!#$%&'*+-.^_`|~"})
    if (c == t) return true;
  return false;
}

struct Cursor {
  std::string_view s;
  size_t p;
  bool end() const { return p >= s.size(); }
  char peek() const { return end() ? '\0' : s[p]; }
  void skip_sp() {
    while (!end() && s[p] == ' ') ++p;
  }
  void skip_ows() {
    while (!end() && (s[p] == ' ' || s[p] == '\t')) ++p;
  }
};

// RFC 8941 §4.2.3.3.
bool parse_key(Cursor& c) {
  if (!(is_lcalpha(c.peek()) || c.peek() == '*')) return false;
  ++c.p;
  while (!c.end()) {
    char ch = c.peek();
    if (!(is_lcalpha(ch) || is_digit(ch) || ch == '_' || ch == '-' || ch == '.' || ch == '*')) break;
    ++c.p;
  }
  return true;
}

// RFC 8941 §4.2.4 numbers.
bool parse_number(Cursor& c) {
  if (c.peek() == '-') ++c.p;
  size_t int_digits = 0, frac_digits = 0;
  bool decimal = false;
  while (!c.end()) {
    char ch = c.peek();
    if (is_digit(ch)) {
      (decimal ? frac_digits : int_digits)++;
    } else if (ch == '.' && !decimal) {
      if (int_digits > 12) return false;
      decimal = true;
    } else {
      break;
    }
    ++c.p;
    if (!decimal && int_digits > 15) return false;
    if (decimal && frac_digits > 3) return false;
  }
  if (int_digits == 0) return false;
  if (decimal && frac_digits == 0) return false;
  return true;
}

bool parse_bare_item(Cursor& c) {
  char ch = c.peek();
  if (ch == '-' || is_digit(ch)) return parse_number(c);
  if (ch == '"') {  // §4.2.5 string
    ++c.p;
    while (!c.end()) {
      char x = c.s[c.p++];
      if (x == '\\') {
        if (c.end() || (c.peek() != '"' && c.peek() != '\\')) return false;
        ++c.p;
      } else if (x == '"') {
        return true;
      } else if (x < 0x20 || x > 0x7e) {
        return false;
      }
    }
    return false;
  }
  if (is_alpha(ch) || ch == '*') {  // §4.2.6 token
    ++c.p;
    while (!c.end() && (is_tchar(c.peek()) || c.peek() == ':' || c.peek() == '/')) ++c.p;
    return true;
  }
  if (ch == ':') {  // §4.2.7 byte sequence
    ++c.p;
    while (!c.end()) {
      char x = c.s[c.p++];
      if (x == ':') return true;
      if (!(is_alpha(x) || is_digit(x) || x == '+' || x == '/' || x == '=')) return false;
    }
    return false;
  }
  if (ch == '?') {  // §4.2.8 boolean
    ++c.p;
    if (c.peek() != '0' && c.peek() != '1') return false;
    ++c.p;
    return true;
  }
  return false;
}

// §4.2.3.2.
bool parse_parameters(Cursor& c) {
  while (c.peek() == ';') {
    ++c.p;
    c.skip_sp();
    if (!parse_key(c)) return false;
    if (c.peek() == '=') {
      ++c.p;
      if (!parse_bare_item(c)) return false;
    }
  }
  return true;
}

// §4.2.1.2.
bool parse_inner_list(Cursor& c) {
  ++c.p;  // '('
  while (!c.end()) {
    c.skip_sp();
    if (c.peek() == ')') {
      ++c.p;
      return parse_parameters(c);
    }
    if (!parse_bare_item(c) || !parse_parameters(c)) return false;
    if (c.peek() != ' ' && c.peek() != ')') return false;
  }
  return false;
}

}  // namespace

bool next_member(std::string_view text, size_t& pos, Member& out, bool& at_end) {
  // RFC 8941 §4.2: leading and trailing SP are discarded.
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  Cursor c{text, pos};
  if (pos == 0) c.skip_sp();
  at_end = c.end();
  if (at_end) return false;
  size_t k = c.p;
  if (!parse_key(c)) return false;
  out.key = text.substr(k, c.p - k);
  if (c.peek() == '=') {
    ++c.p;
    size_t v = c.p;
    if (c.peek() == '(') {
      if (!parse_inner_list(c)) return false;
      out.value = text.substr(v, c.p - v);
    } else {
      if (!parse_bare_item(c)) return false;
      out.value = text.substr(v, c.p - v);
      if (!parse_parameters(c)) return false;
    }
  } else {
    out.value = "?1";  // §4.2.2: a bare key is Boolean true
    if (!parse_parameters(c)) return false;
  }
  c.skip_ows();
  if (!c.end()) {
    if (c.peek() != ',') return false;
    ++c.p;
    c.skip_ows();
    if (c.end()) return false;  // trailing comma
  }
  pos = c.p;
  return true;
}

}  // namespace sf_detail

std::optional<Priority> parse_priority(std::string_view field_value) {
  // The usual case: no priority field (an empty dictionary), all defaults.
  if (field_value.empty()) return Priority{};
  // Dictionary semantics: a repeated key keeps its last value.
  std::string_view u, i;
  bool have_u = false, have_i = false;
  bool ok = for_each_sf_dictionary_member(field_value, [&](std::string_view k, std::string_view v) {
    if (k == "u") u = v, have_u = true;
    else if (k == "i") i = v, have_i = true;
  });
  if (!ok) return std::nullopt;
  Priority p;
  // RFC 9218 §4.1: an Integer 0..7; anything else is ignored.
  if (have_u && !u.empty() && u.find('.') == std::string_view::npos && u[0] != '-' && u[0] != '"') {
    uint64_t v = 0;
    bool digits = true;
    for (char ch : u) {
      if (ch < '0' || ch > '9') digits = false;
      else v = v * 10 + static_cast<uint64_t>(ch - '0');  // <= 15 digits: no overflow
    }
    if (digits && v <= 7) p.urgency = static_cast<uint8_t>(v);
  }
  // RFC 9218 §4.2: a Boolean; anything else is ignored.
  if (have_i && (i == "?0" || i == "?1")) p.incremental = i == "?1";
  return p;
}

std::string format_priority(const Priority& p) {
  std::string s;
  if (p.urgency != kDefaultUrgency) s = "u=" + std::to_string(p.urgency);
  if (p.incremental) s += s.empty() ? "i" : ", i";
  return s;
}

Priority priority_of(const HeaderList& fields) {
  const HeaderField* one = nullptr;
  for (const HeaderField& f : fields) {
    if (f.name.size() != 8 || std::string_view{f.name} != "priority") continue;
    if (one) return priority_or_default(combined_field(fields, "priority").value_or(""));
    one = &f;
  }
  return one ? priority_or_default(one->value) : Priority{};
}

}  // namespace wt::h3
