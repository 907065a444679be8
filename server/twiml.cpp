// The TwiML subset warmline runs (twiml.hpp), read with pugixml. What is accepted, verb by verb
// (Twilio's TwiML reference, https://www.twilio.com/docs/voice/twiml):
//   <Response>                      no attributes; verbs only (whitespace and comments around them)
//   <Dial>  action method callerId timeout answerOnBridge; a bare number, or one <Number> or <Sip>
//     <Number> / <Sip>              statusCallback statusCallbackEvent statusCallbackMethod
//   <Refer> action method; one <Sip> (no attributes)
//   <Say>   voice language loop; plain text (SSML children are refused)
//   <Play>  loop digits; a URL
//   <Pause> length
//   <Hangup>
// Every other verb, noun or attribute is refused by name: accepting it would mean doing something
// other than what the document says.
#include "server/twiml.hpp"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>

namespace warmline::server::twiml {

namespace {

using pugi::xml_node;

constexpr std::string_view kVerbs = "Dial, Refer, Say, Play, Pause and Hangup";

Error schema(std::string message) { return Error{kSchemaViolation, std::move(message)}; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_text(xml_node n) { return n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata; }

// XML 1.0 §4.1 (WFC: Entity Declared): a reference to an entity other than the five predefined ones or
// a character reference makes the document malformed. pugixml leaves such a reference as written
// instead of refusing it, so the raw text is checked first; CDATA sections, comments and processing
// instructions are skipped (an '&' there is plain text).
std::optional<Error> check_references(std::string_view doc) {
  static constexpr std::pair<std::string_view, std::string_view> kSkipped[] = {
      {"<![CDATA[", "]]>"}, {"<!--", "-->"}, {"<?", "?>"}};
  for (size_t i = 0; i < doc.size(); ++i) {
    bool skipped = false;
    for (const auto& [open, close] : kSkipped) {
      if (doc.substr(i, open.size()) != open) continue;
      const size_t end = doc.find(close, i + open.size());
      if (end == std::string_view::npos) return std::nullopt;  // unterminated: pugixml reports it
      i = end + close.size() - 1;
      skipped = true;
      break;
    }
    if (skipped || doc[i] != '&') continue;
    const size_t semi = doc.find(';', i);
    const std::string_view name = semi == std::string_view::npos ? doc.substr(i + 1, 12) : doc.substr(i + 1, semi - i - 1);
    bool ok = semi != std::string_view::npos && name.size() <= 10;
    if (ok && name.starts_with("#x")) {
      ok = name.size() > 2 && std::all_of(name.begin() + 2, name.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    } else if (ok && name.starts_with('#')) {
      ok = name.size() > 1 && std::all_of(name.begin() + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; });
    } else if (ok) {
      ok = name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos";
    }
    if (!ok)
      return Error{kParseFailure, fmt::format("not well-formed XML: undefined entity reference '&{}' (at byte {})",
                                              name.substr(0, 12), i)};
  }
  return std::nullopt;
}

// Every attribute of `node` is one of `allowed`, and appears once.
std::optional<Error> check_attributes(xml_node node, std::initializer_list<std::string_view> allowed) {
  std::vector<std::string_view> seen;
  for (pugi::xml_attribute a : node.attributes()) {
    const std::string_view name = a.name();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      return schema(fmt::format("<{} {}>: the attribute is not supported by warmline", node.name(), name.substr(0, 64)));
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      return Error{kParseFailure, fmt::format("not well-formed XML: <{}> has attribute {} twice", node.name(), name)};
    seen.push_back(name);
  }
  return std::nullopt;
}

// An integer attribute in [lo, hi]: digits only (Twilio documents positive integers). nullopt and
// `error` set when it is something else; `fallback` when it is absent.
std::optional<int> int_attribute(xml_node node, const char* name, int lo, int hi, int fallback, std::optional<Error>& error) {
  const pugi::xml_attribute a = node.attribute(name);
  if (!a) return fallback;
  const std::string_view v = trim(a.value());
  int n = 0;
  bool ok = !v.empty() && v.size() <= 6;
  for (char c : v) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) n = n * 10 + (c - '0');
  }
  if (ok && n >= lo && n <= hi) return n;
  error = schema(fmt::format("<{} {}=\"{}\">: must be a whole number from {} to {}", node.name(), name,
                             std::string(v.substr(0, 32)), lo, hi));
  return std::nullopt;
}

// An attribute with a fixed set of values (method: GET|POST, answerOnBridge: true|false).
std::optional<Error> choice_attribute(xml_node node, const char* name, std::initializer_list<std::string_view> values) {
  const pugi::xml_attribute a = node.attribute(name);
  if (!a || std::find(values.begin(), values.end(), std::string_view(a.value())) != values.end()) return std::nullopt;
  std::string list;
  for (std::string_view v : values) list += (list.empty() ? "" : " or ") + std::string(v);
  return schema(fmt::format("<{} {}=\"{}\">: must be {}", node.name(), name, std::string(a.value()).substr(0, 32), list));
}

// The text directly inside `node` (pcdata and CDATA), trimmed. `elements` counts child elements.
std::string text_of(xml_node node, size_t& elements) {
  std::string text;
  elements = 0;
  for (xml_node c : node.children()) {
    if (is_text(c)) text += c.value();
    else if (c.type() == pugi::node_element) ++elements;
  }
  return std::string(trim(text));
}

// A <Sip> noun's URI: sip: or sips:, without the "?headers" part (not supported).
std::optional<Error> check_sip_uri(xml_node noun, const std::string& uri) {
  std::string scheme = uri.substr(0, uri.find(':'));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (uri.find(':') == std::string::npos || (scheme != "sip" && scheme != "sips") || uri.size() <= scheme.size() + 1)
    return schema(fmt::format("<{}><Sip>{}</Sip>: not a sip: or sips: URI", noun.parent().name(), uri.substr(0, 64)));
  if (uri.find('?') != std::string::npos)
    return schema(fmt::format("<{}><Sip>: SIP headers in the URI (\"?...\") are not supported by warmline",
                              noun.parent().name()));
  return std::nullopt;
}

std::variant<Verb, Error> parse_dial(xml_node node) {
  if (auto e = check_attributes(node, {"action", "method", "callerId", "timeout", "answerOnBridge"})) return *e;
  if (auto e = choice_attribute(node, "method", {"GET", "POST"})) return *e;
  if (auto e = choice_attribute(node, "answerOnBridge", {"true", "false"})) return *e;
  std::optional<Error> error;
  Dial dial;
  dial.timeout_s = int_attribute(node, "timeout", 1, kMaxDialTimeoutS, 0, error).value_or(0);
  if (error) return *error;
  dial.has_action = static_cast<bool>(node.attribute("action"));
  if (const pugi::xml_attribute id = node.attribute("callerId")) {
    dial.caller_id = std::string(trim(id.value()));
    if (dial.caller_id.empty()) return schema("<Dial callerId=\"\">: empty");
  }
  size_t elements = 0;
  const std::string text = text_of(node, elements);
  if (elements == 0) {
    if (text.empty()) return schema("<Dial> needs a number, a <Number> or a <Sip>");
    dial.target = text;
    return dial;
  }
  if (!text.empty()) return schema("<Dial> holds both a bare number and nouns");
  if (elements > 1)
    return schema("<Dial> with several nouns rings them all at once (the first to answer wins); warmline dials "
                  "one target per <Dial>");
  const xml_node noun = node.find_child([](xml_node c) { return c.type() == pugi::node_element; });
  const std::string_view kind = noun.name();
  if (kind != "Number" && kind != "Sip")
    return schema(fmt::format("<Dial><{}> is not supported by warmline (only <Number> and <Sip>)", kind.substr(0, 64)));
  if (auto e = check_attributes(noun, {"statusCallback", "statusCallbackEvent", "statusCallbackMethod"})) return *e;
  if (auto e = choice_attribute(noun, "statusCallbackMethod", {"GET", "POST"})) return *e;
  size_t nested = 0;
  dial.target = text_of(noun, nested);
  if (nested > 0) return schema(fmt::format("<Dial><{}> may only hold text", kind));
  if (dial.target.empty()) return schema(fmt::format("<Dial><{}> is empty", kind));
  dial.sip = kind == "Sip";
  if (dial.sip) {
    if (auto e = check_sip_uri(noun, dial.target)) return *e;
  }
  return dial;
}

std::variant<Verb, Error> parse_refer(xml_node node) {
  if (auto e = check_attributes(node, {"action", "method"})) return *e;
  if (auto e = choice_attribute(node, "method", {"GET", "POST"})) return *e;
  size_t elements = 0;
  const std::string text = text_of(node, elements);
  const xml_node noun = node.find_child([](xml_node c) { return c.type() == pugi::node_element; });
  if (!text.empty() || elements != 1 || std::string_view(noun.name()) != "Sip")
    return schema("<Refer> needs exactly one <Sip> noun");
  if (auto e = check_attributes(noun, {})) return *e;
  size_t nested = 0;
  Refer refer{text_of(noun, nested)};
  if (nested > 0) return schema("<Refer><Sip> may only hold text");
  if (auto e = check_sip_uri(noun, refer.sip_uri)) return *e;
  return refer;
}

std::variant<Verb, Error> parse_say(xml_node node) {
  if (auto e = check_attributes(node, {"voice", "language", "loop"})) return *e;
  std::optional<Error> error;
  Say say;
  say.loop = int_attribute(node, "loop", 1, kMaxLoop, 1, error).value_or(1);
  if (error) return *error;
  size_t elements = 0;
  say.text = text_of(node, elements);
  if (elements > 0) return schema("<Say>: SSML elements inside <Say> are not supported by warmline (plain text only)");
  if (say.text.empty()) return schema("<Say> has no text");
  return say;
}

std::variant<Verb, Error> parse_play(xml_node node) {
  if (auto e = check_attributes(node, {"loop", "digits"})) return *e;
  std::optional<Error> error;
  Play play;
  play.loop = int_attribute(node, "loop", 1, kMaxLoop, 1, error).value_or(1);
  if (error) return *error;
  play.digits = std::string(trim(node.attribute("digits").value()));
  size_t elements = 0;
  play.url = text_of(node, elements);
  if (elements > 0) return schema("<Play> may only hold a URL");
  if (play.url.empty() && play.digits.empty()) return schema("<Play> needs a URL or digits");
  return play;
}

std::variant<Verb, Error> parse_pause(xml_node node) {
  if (auto e = check_attributes(node, {"length"})) return *e;
  std::optional<Error> error;
  Pause pause;
  pause.length_s = int_attribute(node, "length", 1, kMaxPauseS, 1, error).value_or(1);
  if (error) return *error;
  size_t elements = 0;
  if (!text_of(node, elements).empty() || elements > 0) return schema("<Pause> takes no content");
  return pause;
}

std::variant<Verb, Error> parse_hangup(xml_node node) {
  if (auto e = check_attributes(node, {})) return *e;
  size_t elements = 0;
  if (!text_of(node, elements).empty() || elements > 0) return schema("<Hangup> takes no content");
  return Hangup{};
}

std::variant<Verb, Error> parse_verb(xml_node node) {
  const std::string_view name = node.name();
  if (name == "Dial") return parse_dial(node);
  if (name == "Refer") return parse_refer(node);
  if (name == "Say") return parse_say(node);
  if (name == "Play") return parse_play(node);
  if (name == "Pause") return parse_pause(node);
  if (name == "Hangup") return parse_hangup(node);
  return schema(fmt::format("<{}> is not supported by warmline (it runs {})", name.substr(0, 64), kVerbs));
}

}  // namespace

std::variant<std::vector<Verb>, Error> parse(std::string_view document) {
  if (document.size() > kMaxDocumentBytes)
    return Error{kParseFailure, fmt::format("the TwiML is {} bytes, over the limit of {}", document.size(), kMaxDocumentBytes)};
  if (auto e = check_references(document)) return *e;
  pugi::xml_document doc;
  // parse_doctype: keep a DOCTYPE as a node, so that it is refused below rather than skipped.
  // parse_fragment: keep text outside the root as nodes too (pugixml drops it otherwise), so that it
  // is refused below as well.
  const pugi::xml_parse_result r = doc.load_buffer(document.data(), document.size(),
                                                   pugi::parse_default | pugi::parse_doctype | pugi::parse_fragment,
                                                   pugi::encoding_utf8);
  if (!r) return Error{kParseFailure, fmt::format("not well-formed XML: {} (at byte {})", r.description(), r.offset)};
  xml_node root;
  for (xml_node n : doc.children()) {
    if (n.type() == pugi::node_doctype) return Error{kParseFailure, "a DOCTYPE is not accepted in TwiML"};
    if (is_text(n) && !trim(n.value()).empty()) return Error{kParseFailure, "not well-formed XML: text outside the root element"};
    if (n.type() != pugi::node_element) continue;
    if (root) return Error{kParseFailure, "not well-formed XML: more than one root element"};
    root = n;
  }
  if (!root) return Error{kParseFailure, "not well-formed XML: no root element"};
  if (std::string_view(root.name()) != "Response")
    return schema(fmt::format("the root element is <{}>, not <Response>", std::string_view(root.name()).substr(0, 64)));
  if (auto e = check_attributes(root, {})) return *e;
  std::vector<Verb> verbs;
  for (xml_node n : root.children()) {
    if (is_text(n)) {
      if (!trim(n.value()).empty()) return schema("<Response> holds text outside a verb");
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    if (verbs.size() == kMaxVerbs) return schema(fmt::format("more than {} verbs", kMaxVerbs));
    auto verb = parse_verb(n);
    if (auto* e = std::get_if<Error>(&verb)) return std::move(*e);
    verbs.push_back(std::get<Verb>(std::move(verb)));
  }
  return verbs;
}

}  // namespace warmline::server::twiml
