// The TwiML subset warmline runs (server/twiml.hpp): documents a bot sends through Twilio's call update,
// written from Twilio's TwiML reference; what is accepted comes back verb for verb, and everything
// else — malformed XML, entities, DOCTYPEs, nesting, sizes, verbs, nouns and attributes warmline cannot
// honour — is refused with Twilio's code and a message naming the culprit.
#include "server/twiml.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace warmline::server::twiml {
namespace {

std::vector<Verb> ok(std::string_view doc) {
  auto r = parse(doc);
  if (auto* e = std::get_if<Error>(&r)) {
    ADD_FAILURE() << "refused (" << e->code << "): " << e->message << "\n" << doc;
    return {};
  }
  return std::get<std::vector<Verb>>(std::move(r));
}

Error refused(std::string_view doc) {
  auto r = parse(doc);
  if (auto* e = std::get_if<Error>(&r)) return *e;
  ADD_FAILURE() << "accepted: " << doc;
  return {};
}

// Every document is refused as a schema violation (well-formed, not runnable), its message holding
// `says` when given.
void expect_schema_violations(std::initializer_list<const char*> docs, std::string_view says = {}) {
  for (const char* doc : docs) {
    const Error e = refused(doc);
    EXPECT_EQ(e.code, kSchemaViolation) << doc << ": " << e.message;
    EXPECT_NE(e.message.find(says), std::string::npos) << doc << ": " << e.message;
  }
}

TEST(TwimlTest, DialWithBareNumberAndAttributes) {
  auto verbs = ok(R"(<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Dial callerId="+27115550180" timeout="20" action="https://bot.example/after" method="GET" answerOnBridge="true">
    +27 11 555 0142
  </Dial>
</Response>)");
  ASSERT_EQ(verbs.size(), 1u);
  const auto& d = std::get<Dial>(verbs[0]);
  EXPECT_EQ(d.target, "+27 11 555 0142");
  EXPECT_FALSE(d.sip);
  EXPECT_EQ(d.caller_id, "+27115550180");
  EXPECT_EQ(d.timeout_s, 20);
  EXPECT_TRUE(d.has_action);
}

TEST(TwimlTest, DialNounsNumberAndSip) {
  auto verbs = ok("<Response><Dial><Number statusCallback=\"https://x/y\" statusCallbackEvent=\"ringing answered\" "
                  "statusCallbackMethod=\"POST\">+27115550142</Number></Dial>"
                  "<Dial><Sip>sip:support@pbx.example.com</Sip></Dial></Response>");
  ASSERT_EQ(verbs.size(), 2u);
  EXPECT_EQ(std::get<Dial>(verbs[0]).target, "+27115550142");
  EXPECT_FALSE(std::get<Dial>(verbs[0]).sip);
  EXPECT_FALSE(std::get<Dial>(verbs[0]).has_action);
  EXPECT_EQ(std::get<Dial>(verbs[0]).timeout_s, 0);
  EXPECT_EQ(std::get<Dial>(verbs[1]).target, "sip:support@pbx.example.com");
  EXPECT_TRUE(std::get<Dial>(verbs[1]).sip);
}

TEST(TwimlTest, EveryVerbInOrder) {
  auto verbs = ok("<Response><Say voice=\"alice\" language=\"en-US\" loop=\"2\">Transferring you now</Say>"
                  "<Pause length=\"3\"/><Play loop=\"1\">https://x/beep.wav</Play><Play digits=\"12#\"/>"
                  "<Hangup/><Refer action=\"/done\"><Sip>sips:desk@pbx.example.com</Sip></Refer></Response>");
  ASSERT_EQ(verbs.size(), 6u);
  EXPECT_EQ(std::get<Say>(verbs[0]).text, "Transferring you now");
  EXPECT_EQ(std::get<Say>(verbs[0]).loop, 2);
  EXPECT_EQ(std::get<Pause>(verbs[1]).length_s, 3);
  EXPECT_EQ(std::get<Play>(verbs[2]).url, "https://x/beep.wav");
  EXPECT_EQ(std::get<Play>(verbs[3]).digits, "12#");
  EXPECT_EQ(std::get<Play>(verbs[3]).url, "");
  EXPECT_TRUE(std::holds_alternative<Hangup>(verbs[4]));
  EXPECT_EQ(std::get<Refer>(verbs[5]).sip_uri, "sips:desk@pbx.example.com");
}

TEST(TwimlTest, DefaultsAndEmptyResponse) {
  EXPECT_TRUE(ok("<Response/>").empty());
  EXPECT_TRUE(ok("<Response>  \n </Response>").empty());
  auto verbs = ok("<Response><Pause/><Say>Hi</Say></Response>");
  ASSERT_EQ(verbs.size(), 2u);
  EXPECT_EQ(std::get<Pause>(verbs[0]).length_s, 1);
  EXPECT_EQ(std::get<Say>(verbs[1]).loop, 1);
}

TEST(TwimlTest, EntitiesCdataAndCommentsAreText) {
  auto verbs = ok("<!-- a bot's note & more --><Response><!-- say it --><Say>Tom &amp; Jerry &lt;3 &#233;&#xE9; "
                  "<![CDATA[a & b <c>]]></Say></Response>");
  ASSERT_EQ(verbs.size(), 1u);
  EXPECT_EQ(std::get<Say>(verbs[0]).text, "Tom & Jerry <3 \xC3\xA9\xC3\xA9 a & b <c>");
}

TEST(TwimlTest, MalformedXmlIsAParseFailure) {
  for (const char* doc : {"", "   ", "<Response>", "<Response><Say>x</Response>", "<Response></Say>",
                          "<Response><Say>x</Say>", "Response", "<Response a=1/>", "<Response/><Response/>",
                          "text<Response/>", "<Response/>text", "<Response><Say>a & b</Say></Response>",
                          "<Response><Say>&nbsp;</Say></Response>", "<Response><Say>&xxe;</Say></Response>",
                          "<Response><Say>&#;</Say></Response>", "<Response><Say>&#xZZ;</Say></Response>",
                          "<Response><Dial timeout=\"1\" timeout=\"2\">+27115550142</Dial></Response>"}) {
    const Error e = refused(doc);
    EXPECT_EQ(e.code, kParseFailure) << doc << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(TwimlTest, DoctypeAndEntityDeclarationsAreRefused) {
  // The "billion laughs" and external-entity shapes: refused before anything is expanded.
  const Error laughs = refused(R"(<?xml version="1.0"?><!DOCTYPE Response [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;">]>
<Response><Say>&b;</Say></Response>)");
  EXPECT_EQ(laughs.code, kParseFailure);
  const Error external = refused(R"(<!DOCTYPE Response SYSTEM "file:///etc/passwd"><Response><Say>hi</Say></Response>)");
  EXPECT_EQ(external.code, kParseFailure);
  EXPECT_NE(external.message.find("DOCTYPE"), std::string::npos);
}

TEST(TwimlTest, SizeAndVerbCountAreBounded) {
  std::string big = "<Response><Say>" + std::string(kMaxDocumentBytes, 'a') + "</Say></Response>";
  EXPECT_EQ(refused(big).code, kParseFailure);
  std::string many = "<Response>";
  for (size_t i = 0; i <= kMaxVerbs; ++i) many += "<Pause/>";
  many += "</Response>";
  ASSERT_LE(many.size(), kMaxDocumentBytes);
  const Error e = refused(many);
  EXPECT_EQ(e.code, kSchemaViolation);
  EXPECT_NE(e.message.find("32"), std::string::npos);
  // Deep nesting inside a verb is well-formed XML but not TwiML: refused, not walked.
  std::string deep = "<Response><Dial>";
  for (int i = 0; i < 200; ++i) deep += "<Number>";
  for (int i = 0; i < 200; ++i) deep += "</Number>";
  deep += "</Dial></Response>";
  ASSERT_LE(deep.size(), kMaxDocumentBytes);
  EXPECT_EQ(refused(deep).code, kSchemaViolation);
}

TEST(TwimlTest, OtherRootsVerbsAndNounsAreRefusedByName) {
  struct Case {
    const char* doc;
    const char* names;
  } cases[] = {
      {"<Reply><Say>x</Say></Reply>", "<Reply>"},
      {"<response><Say>x</Say></response>", "<response>"},  // TwiML is case-sensitive
      {"<Response><say>x</say></Response>", "<say>"},
      {"<Response><Gather input=\"speech\"/></Response>", "<Gather>"},
      {"<Response><Connect><Stream url=\"wss://x\"/></Connect></Response>", "<Connect>"},
      {"<Response><Redirect>https://x</Redirect></Response>", "<Redirect>"},
      {"<Response><Dial><Client>alice</Client></Dial></Response>", "<Client>"},
      {"<Response><Dial><Conference>room</Conference></Dial></Response>", "<Conference>"},
      {"<Response><Dial><Queue>q</Queue></Dial></Response>", "<Queue>"},
      {"<Response version=\"1\"/>", "version"},
      {"<Response><Dial hangupOnStar=\"true\">+27115550142</Dial></Response>", "hangupOnStar"},
      {"<Response><Dial record=\"record-from-answer\">+27115550142</Dial></Response>", "record"},
      {"<Response><Dial timeLimit=\"60\">+27115550142</Dial></Response>", "timeLimit"},
      {"<Response><Dial ringTone=\"uk\">+27115550142</Dial></Response>", "ringTone"},
      {"<Response><Dial><Number sendDigits=\"ww12\">+27115550142</Number></Dial></Response>", "sendDigits"},
      {"<Response><Dial><Number url=\"https://x\">+27115550142</Number></Dial></Response>", "url"},
      {"<Response><Dial><Sip username=\"u\" password=\"p\">sip:a@b</Sip></Dial></Response>", "username"},
      {"<Response><Refer><Sip x=\"1\">sip:a@b</Sip></Refer></Response>", "x"},
      {"<Response><Say>Hello <break time=\"1s\"/> there</Say></Response>", "SSML"},
      {"<Response><Hangup reason=\"busy\"/></Response>", "reason"},
      {"<Response><Pause length=\"2\" foo=\"bar\"/></Response>", "foo"},
  };
  for (const Case& c : cases) {
    const Error e = refused(c.doc);
    EXPECT_EQ(e.code, kSchemaViolation) << c.doc << ": " << e.message;
    EXPECT_NE(e.message.find(c.names), std::string::npos) << c.doc << ": " << e.message;
  }
}

TEST(TwimlTest, DialShapesWarmlineCannotHonour) {
  expect_schema_violations({
           "<Response><Dial/></Response>",
           "<Response><Dial>   </Dial></Response>",
           "<Response><Dial><Number>+27115550142</Number><Number>+27115550143</Number></Dial></Response>",
           "<Response><Dial>+27115550142<Number>+27115550143</Number></Dial></Response>",
           "<Response><Dial><Number></Number></Dial></Response>",
           "<Response><Dial><Number><Number>+27115550142</Number></Number></Dial></Response>",
           "<Response><Dial><Sip>tel:+27115550142</Sip></Dial></Response>",
           "<Response><Dial><Sip>sip:</Sip></Dial></Response>",
           "<Response><Dial><Sip>sip:a@b?X-Case=42</Sip></Dial></Response>",
           "<Response><Dial callerId=\" \">+27115550142</Dial></Response>",
           "<Response><Dial method=\"PUT\">+27115550142</Dial></Response>",
           "<Response><Dial answerOnBridge=\"yes\">+27115550142</Dial></Response>",
           "<Response><Refer/></Response>",
           "<Response><Refer>sip:a@b</Refer></Response>",
           "<Response><Refer><Sip>sip:a@b</Sip><Sip>sip:c@d</Sip></Refer></Response>",
           "<Response><Refer><Number>+27115550142</Number></Refer></Response>",
       });
}

TEST(TwimlTest, NumbersOutOfRangeAreRefused) {
  expect_schema_violations({
           "<Response><Dial timeout=\"0\">+1</Dial></Response>",
           "<Response><Dial timeout=\"601\">+1</Dial></Response>",
           "<Response><Dial timeout=\"-5\">+1</Dial></Response>",
           "<Response><Dial timeout=\"10s\">+1</Dial></Response>",
           "<Response><Dial timeout=\"\">+1</Dial></Response>",
           "<Response><Dial timeout=\"99999999999999999999\">+1</Dial></Response>",
           "<Response><Say loop=\"0\">forever</Say></Response>",
           "<Response><Say loop=\"11\">x</Say></Response>",
           "<Response><Play loop=\"0\">https://x</Play></Response>",
           "<Response><Pause length=\"0\"/></Response>",
           "<Response><Pause length=\"601\"/></Response>",
           "<Response><Pause length=\"1.5\"/></Response>",
       }, "whole number");
  EXPECT_EQ(std::get<Dial>(ok("<Response><Dial timeout=\"600\">+1</Dial></Response>")[0]).timeout_s, 600);
}

TEST(TwimlTest, EmptyOrMisplacedContentIsRefused) {
  expect_schema_violations({"<Response><Say/></Response>", "<Response><Say>  </Say></Response>",
                            "<Response><Play/></Response>", "<Response><Pause>3</Pause></Response>",
                            "<Response><Hangup>now</Hangup></Response>", "<Response>hello<Hangup/></Response>",
                            "<Response><Play><Say>x</Say></Play></Response>"});
}

TEST(TwimlTest, ArbitraryBytesNeverCrash) {
  // A bounded sweep of mutations of a valid document: every one parses or is refused, never throws.
  const std::string base = "<Response><Say loop=\"2\">a &amp; b</Say><Dial timeout=\"5\"><Sip>sip:a@b</Sip></Dial></Response>";
  size_t refusals = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    for (char c : {'\0', '<', '>', '&', '"', '\xff', '/'}) {
      std::string doc = base;
      doc[i] = c;
      auto r = parse(doc);
      if (std::holds_alternative<Error>(r)) ++refusals;
      doc = base.substr(0, i);
      r = parse(doc);
      if (std::holds_alternative<Error>(r)) ++refusals;
    }
  }
  EXPECT_GT(refusals, base.size());  // most truncations and substitutions break it
}

}  // namespace
}  // namespace warmline::server::twiml
