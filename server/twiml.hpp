// TwiML as warmline runs it on a live call: the `Twiml` parameter of Twilio's call update
// (POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json, provider_twilio.cpp), parsed with
// pugixml into plain structs. Only what warmline can honour exactly is accepted — <Response> holding
// <Dial> (one <Number> or <Sip>, or a bare number), <Refer> (one <Sip>), <Say>, <Play>, <Pause> and
// <Hangup>, with the attributes listed in twiml.cpp — and anything else (another verb, SSML inside
// <Say>, an attribute that would change what happens) refuses the whole document, so a bot never gets
// half of what it asked for. Attributes that only name a webhook (action, statusCallback, ...) are
// accepted: warmline never fetches a URL, the outcome reaches the agent on its socket instead
// (docs/http-api.md "Provider REST paths").
//
// The document is untrusted network input: its size is bounded (Twilio's own 4,000-character limit),
// DOCTYPEs and undefined entities are refused, the nesting allowed is Response > verb > noun, and a
// malformed document is an Error, never an exception or a crash.
//
// TwiML reference: https://www.twilio.com/docs/voice/twiml (verbs <Dial>, <Number>, <Sip>, <Refer>,
// <Say>, <Play>, <Pause>, <Hangup>); error codes https://www.twilio.com/docs/api/errors.
// Thread: none; pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace warmline::server::twiml {

inline constexpr std::size_t kMaxDocumentBytes = 4000;  // Twilio's limit on the Twiml parameter
inline constexpr std::size_t kMaxVerbs = 32;
inline constexpr int kMaxLoop = 10;         // <Say loop>, <Play loop>: repetitions (0, "for ever", is refused)
inline constexpr int kMaxPauseS = 600;      // <Pause length>
inline constexpr int kMaxDialTimeoutS = 600;  // <Dial timeout>, as a transfer's ring_timeout_s

// A <Dial>: one target, as written (a phone number, or a sip:/sips: URI from <Sip>).
struct Dial {
  std::string target;
  bool sip = false;           // from a <Sip> noun
  std::string caller_id;      // callerId; "" = not given
  int timeout_s = 0;          // timeout; 0 = not given
  bool has_action = false;    // an action URL was given (never fetched)
};
// A <Refer> to a <Sip> URI: a cold transfer by SIP REFER.
struct Refer {
  std::string sip_uri;
};
struct Say {
  std::string text;  // as written, entities decoded, surrounding whitespace trimmed; never empty
  int loop = 1;
};
struct Play {
  std::string url;     // "" when only digits were given
  std::string digits;  // the digits attribute (DTMF); "" = not given
  int loop = 1;
};
struct Pause {
  int length_s = 1;
};
struct Hangup {};

using Verb = std::variant<Dial, Refer, Say, Play, Pause, Hangup>;

// Twilio's codes for what is wrong with a document.
inline constexpr int kParseFailure = 12100;     // not well-formed XML, too large, a DOCTYPE, ...
inline constexpr int kSchemaViolation = 12200;  // well-formed, but not TwiML warmline can run as written

struct Error {
  int code = kParseFailure;
  std::string message;  // names the verb, attribute or noun
};

// The verbs of `document` in order, or why it is refused.
std::variant<std::vector<Verb>, Error> parse(std::string_view document);

}  // namespace warmline::server::twiml
